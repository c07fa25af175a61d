"""What a crawl costs, side by side with Scrapy's own floor.  (`make bench`, N=… to change the size)

Against one generated mirror served from memory on 127.0.0.1, in one run:
(a) a bare Scrapy spider requesting exactly the same pages, (b) `scrapy crawl
lopinion` with the default pipelines and feed into a fresh SQLite file,
(c) the same crawl again on the unchanged mirror. (a) and (b) alternate five
times at N, where the crawl also runs with its later stages left out in each
round (`STAGES`: what each stage adds), and three times at N×SCALE, each round
starting at another run (medians and ranges); with PROFILE=1 one pair more runs under py-spy,
and the difference of their profiles per function is a table. Then the same
at N×SCALE, the cost of rendering a page in Chromium against fetching it
plainly, and distributed throughput with 1–3 workers on Redis.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
COMMON = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_ITEMS=8", "-s", "CONCURRENT_REQUESTS=16", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
          "-s", "LOG_LEVEL=INFO", "-s", "ROBOTSTXT_OBEY=True"]


# Runs its arguments as a command in a process of its own and writes that process's resource usage to the file
# named by $BENCH_USAGE. Why not wait4 on our own child: subprocess starts it with vfork, and Linux carries the
# peak RSS of the memory a process had before exec into its ru_maxrss, so every crawl would report at least this
# process's peak (the mirror's pages, served from memory here). A child forked by this small launcher has its own.
_LAUNCHER = """
import json, os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
with open(os.environ["BENCH_USAGE"], "w") as out:
    json.dump({"cpu": usage.ru_utime + usage.ru_stime, "maxrss_kb": usage.ru_maxrss}, out)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run(command: list[str], cwd: Path, env: dict | None = None, server=None) -> dict:
    """Run a crawl process; its wall time, CPU (user+sys), peak RSS and the time to its first request."""
    if server is not None:
        server.clear_log()
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        usage_file = Path(handle.name)
    start = time.time()
    proc = subprocess.Popen([PYTHON, "-c", _LAUNCHER, *command], cwd=cwd,
                            env={**os.environ, **(env or {}), "BENCH_USAGE": str(usage_file)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stderr_lines: list[str] = []
    reader = threading.Thread(target=lambda: stderr_lines.extend(proc.stderr), daemon=True)
    reader.start()
    proc.wait()
    wall = time.time() - start
    reader.join(5)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command[:6])}… failed:\n{''.join(stderr_lines)[-3000:]}")
    usage = json.loads(usage_file.read_text())
    usage_file.unlink()
    first = server.first_request_at - start if server is not None and server.first_request_at else None
    return {"wall": wall, "cpu": usage["cpu"], "rss_mb": usage["maxrss_kb"] / 1024, "startup": first}


def stats_of(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def bare(origin: str, work: Path, server, wrap=lambda command: command, gc: bool = False) -> dict:
    """The bare spider; ``gc``: with the project's garbage-collector settings (``extensions.GarbageCollection``),
    to show how much of what they save is Scrapy's own work."""
    from newscrawl import settings

    stats = work / "bare-stats.json"
    outside = work / "outside"  # no scrapy.cfg above: Scrapy's defaults, not our project's settings
    outside.mkdir(exist_ok=True)
    extensions = {"newscrawl.crawl.extensions.StatsFile": 500}
    same_gc: list[str] = []
    if gc:
        extensions["newscrawl.crawl.extensions.GarbageCollection"] = 0
        same_gc = ["-s", f"NEWSCRAWL_GC_FREEZE={settings.NEWSCRAWL_GC_FREEZE}",
                   "-s", f"NEWSCRAWL_GC_THRESHOLDS={','.join(map(str, settings.NEWSCRAWL_GC_THRESHOLDS))}"]
    result = run(wrap([PYTHON, "-m", "scrapy", "runspider", str(REPO / "bench" / "bare_spider.py"),
                       "-a", f"start_url={origin}/fr/lopinion", *COMMON,
                       "-s", f"EXTENSIONS={json.dumps(extensions)}", *same_gc,
                       "-s", f"NEWSCRAWL_STATS_FILE={stats}",
                       "-s", "TELNETCONSOLE_ENABLED=False", "-s", "REMOTE_CONTROL_ENABLED=False"]),
                 outside, {"PYTHONPATH": str(REPO)}, server)
    result["stats"] = stats_of(stats)
    return result


def ours(origin: str, work: Path, name: str, server, db: Path, *extra: str, wrap=lambda command: command,
         env: dict | None = None) -> dict:
    stats = work / f"{name}-stats.json"
    result = run(wrap([PYTHON, "-m", "scrapy", "crawl", "lopinion", "-a", f"start_url={origin}/fr/lopinion", *COMMON,
                       "-s", f"NEWSCRAWL_DATABASE_URL=sqlite:///{db}", "-s", f"NEWSCRAWL_STATS_FILE={stats}", *extra]),
                 REPO, {"NEWSCRAWL_DATA_DIR": str(work / "data"), **(env or {})}, server)
    result["stats"] = stats_of(stats)
    return result


def server_rps(origin: str, paths: list[str], seconds: float = 3.0, threads: int = 4) -> float:
    """Requests per second the mirror server sustains alone (keep-alive clients on this machine)."""
    import http.client

    host, port = origin.split("//")[1].split(":")
    done = [0] * threads
    stop = time.time() + seconds

    def client(i: int) -> None:
        conn = http.client.HTTPConnection(host, int(port))
        k = i
        while time.time() < stop:
            conn.request("GET", paths[k % len(paths)])
            conn.getresponse().read()
            done[i] += 1
            k += threads
        conn.close()

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(done) / seconds


REPEATS = 3  # bare and project runs alternate this many times; the report gives medians and spreads
STAGE_REPEATS = 5  # ... and this many at N when the stages run too: each stage adds less than the runs' spread

# The crawl with its later stages left out (settings only, same code): what each stage adds to the CPU, at N.
_PIPELINE = "newscrawl.crawl.pipelines."
_NO_FEED = ["-s", "NEWSCRAWL_DEFAULT_FEED="]


def _pipelines(*names: str) -> list[str]:
    return ["-s", "ITEM_PIPELINES=" + json.dumps({_PIPELINE + name: 100 * (i + 1) for i, name in enumerate(names)})]


STAGES = (
    ("spider: both pages parsed, article assembled (no pipeline, no feed)", [*_pipelines(), *_NO_FEED]),
    ("+ validate, deduplicate", [*_pipelines("ValidatePipeline", "DeduplicatePipeline"), *_NO_FEED]),
    ("+ store (SQLite)", _NO_FEED),
)


def requests_of(result: dict) -> int:
    return result["stats"].get("downloader/request_count", 0)


def measure(n: int, work: Path, profile: bool = False, stages: bool = False) -> dict:
    """Bare and project crawls of one N-article mirror, alternating ``REPEATS`` times (each project run into a
    fresh SQLite file; each round starts at another run), then a re-crawl of the last file; with ``stages``,
    ``STAGE_REPEATS`` rounds, each with the crawl's later stages left out (``STAGES``) as well; with
    ``profile``, one more pair under py-spy."""
    from tests.support.fixtureserver import FixtureServer
    from tests.support.mirror import generate

    site = work / f"mirror-{n}"
    generate(site, n)
    out: dict = {"n": n, "bare": [], "bare_gc": [], "ours": [], "stages": {label: [] for label, _ in STAGES}}
    with FixtureServer(site, cache=True) as server:
        origin = server.origin
        # Warm the server's memory cache so that every run is served from memory.
        paths = [f"/fr/lopinion/{i}" for i in range(7_000_001, 7_000_001 + n)]
        server_rps(origin, paths + ["/robots.txt", "/fr/lopinion"], seconds=1.0)
        out["server_rps"] = server_rps(origin, paths)
        jobs = ["bare", "bare_gc", "ours", *([label for label, _ in STAGES] if stages else [])]

        def run_job(job: str, db: Path) -> dict:
            if job in ("bare", "bare_gc"):
                return bare(origin, work, server, gc=job == "bare_gc")
            if job == "ours":
                result = ours(origin, work, f"ours-{n}", server, db)
                result["stored"] = result["stats"].get("newscrawl/store/rows_total", 0)
                return result
            return ours(origin, work, f"stage-{n}", server, db, *dict(STAGES)[job])

        for repeat in range(STAGE_REPEATS if stages else REPEATS):
            # Each round starts at another run: what a run costs depends a little on the run before it
            # (measured: 0.07 of the bare spider's CPU between two stages swapped), and rotating spreads that.
            shift = repeat % len(jobs)
            for job in jobs[shift:] + jobs[:shift]:
                db = work / f"articles-{n}-{repeat}-{jobs.index(job)}.db"  # a fresh SQLite file per run
                (out[job] if job in out else out["stages"][job]).append(run_job(job, db))
                if job == "ours":
                    recrawl_db = db
        out["recrawl"] = ours(origin, work, f"recrawl-{n}", server, recrawl_db)
        if profile:
            from bench import profile as spy

            bare_stacks, ours_stacks = work / "bare-stacks.txt", work / "ours-stacks.txt"
            bare_run = bare(origin, work, server, wrap=lambda c: spy.record(c, bare_stacks))
            ours_run = ours(origin, work, "profiled", server, work / "profiled.db",
                            wrap=lambda c: spy.record(c, ours_stacks))
            counts = (requests_of(ours_run), requests_of(bare_run))
            out["profile"] = (spy.stages(ours_stacks, bare_stacks, *counts) + "\n\n"
                              + spy.difference(ours_stacks, bare_stacks, *counts))
    shutil.rmtree(site, ignore_errors=True)
    return out


def render_cost(work: Path, k: int = 24) -> dict:
    from tests.support.fixtureserver import FixtureServer
    from tests.support.mirror import generate
    from newscrawl.crawl.rendering import find_browser

    if find_browser() is None:
        return {}
    site = work / "mirror-js"
    generate(site, k, scripted=True)
    results = {}
    with FixtureServer(site, cache=True) as server:
        for mode in ("never", "always"):
            modes = json.dumps({"127.0.0.1": mode})
            # Plainly fetched, these pages have no body: the layout alarm would (rightly) fail the run.
            results[mode] = ours(server.origin, work, f"render-{mode}", server, work / f"render-{mode}.db",
                                 "-s", f"NEWSCRAWL_RENDER_MODES={modes}", "-s", "NEWSCRAWL_ALARM_ENABLED=False")
    results["pages"] = k
    return results


def distributed(work: Path, n: int = 600) -> list[tuple[int, float, float]]:
    from tests.support.fixtureserver import FixtureServer
    from tests.support.mirror import generate

    redis = shutil.which("redis-server")
    if redis is None:
        return []
    site = work / "mirror-dist"
    generate(site, n)
    rows = []
    with FixtureServer(site, cache=True) as server:
        for workers in (1, 2, 3):
            port = 6390 + workers
            proc = subprocess.Popen([redis, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
                                    stdout=subprocess.DEVNULL)
            time.sleep(0.5)
            db = work / f"dist-{workers}.db"
            start = time.time()
            procs = [subprocess.Popen([PYTHON, "-m", "scrapy", "crawl", "lopinion", "-a", f"start_url={server.origin}/fr/lopinion",
                                       *COMMON, "-s", f"NEWSCRAWL_DATABASE_URL=sqlite:///{db}",
                                       "-s", f"NEWSCRAWL_REDIS_URL=redis://127.0.0.1:{port}/0"],
                                      cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      env={**os.environ, "NEWSCRAWL_DATA_DIR": str(work / "data")})
                     for _ in range(workers)]
            for p in procs:
                p.wait()
            wall = time.time() - start
            proc.terminate()
            proc.wait()
            rows.append((workers, wall, n / wall))
    return rows


def fmt(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def median_spread(values: list[float], digits: int = 2) -> str:
    """``1.93 (1.88–2.01)``: the median and, for several values, the range."""
    if len(values) == 1:
        return fmt(values[0], digits)
    return f"{fmt(statistics.median(values), digits)} ({fmt(min(values), digits)}–{fmt(max(values), digits)})"


def ratios(measured: dict, key: str, floor: str = "bare") -> list[float]:
    """Project over bare (or ``floor``), run by run (each ran beside the other)."""
    return [o[key] / b[key] for o, b in zip(measured["ours"], measured[floor])]


def crawl_table(m: dict) -> list[str]:
    rows = [("(a) bare spider, same pages", m["bare"]),
            ("(a′) bare spider with the project's garbage-collector settings", m["bare_gc"]),
            ("(b) `lopinion`, pipelines + SQLite + CSV", m["ours"])]
    lines = [
        f"| run (N = {m['n']}, {len(m['ours'])} runs each: median (range)) | requests | wall s | CPU s (user+sys) "
        "| peak RSS MB | articles stored | start-up to first request s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, runs in rows:
        stored = median_spread([r["stored"] for r in runs], 0) if "stored" in runs[0] else "–"
        lines.append(f"| {label} | {requests_of(runs[0])} | {median_spread([r['wall'] for r in runs])} "
                     f"| {median_spread([r['cpu'] for r in runs])} | {median_spread([r['rss_mb'] for r in runs], 0)} "
                     f"| {stored} | {median_spread([r['startup'] or 0 for r in runs])} |")
    c = m["recrawl"]
    lines.append(f"| (c) re-crawl, unchanged mirror | {requests_of(c)} | {fmt(c['wall'])} | {fmt(c['cpu'])} "
                 f"| {fmt(c['rss_mb'], 0)} | +{c['stats'].get('newscrawl/store/inserted', 0)} | {fmt(c['startup'])} |")
    return lines


def stages_table(m: dict) -> list[str]:
    """CPU of the crawl stage by stage, each run beside the bare spider of its round: what each stage adds
    (the median, over the rounds, of its run's CPU minus the previous stage's, over the bare spider's)."""
    if not any(m["stages"].values()):
        return []
    bare_cpu = [r["cpu"] for r in m["bare"]]
    rows = [(label, [r["cpu"] for r in runs]) for label, runs in m["stages"].items()]
    rows.append(("+ CSV feed: the whole crawl (b)", [r["cpu"] for r in m["ours"]]))
    lines = ["| stages (same code; later stages left out by settings) | CPU s | CPU / (a) | added / (a) |",
             "| --- | --- | --- | --- |"]
    previous = bare_cpu
    for label, cpu in rows:
        added = [(c - p) / b for c, p, b in zip(cpu, previous, bare_cpu)]
        lines.append(f"| {label} | {median_spread(cpu)} | {median_spread([c / b for c, b in zip(cpu, bare_cpu)])} "
                     f"| {statistics.median(added):+.2f} ({min(added):+.2f} to {max(added):+.2f}) |")
        previous = cpu
    return lines


def report(base: dict, scaled: dict | None, render: dict, dist: list) -> str:
    n = base["n"]
    med = lambda m, k: statistics.median(r[k] for r in m["ours"])  # noqa: E731
    cpu_ratio = statistics.median(ratios(base, "cpu"))
    startup = med(base, "startup") if all(r["startup"] for r in base["ours"]) else None
    lines = [
        "## Crawl: `scrapy crawl lopinion` against Scrapy's floor",
        "",
        f"Mirror of **N = {n}** articles (listing pages of 20, ticker, Maghress and publisher pages; distinct bodies "
        "from a 6,000-word vocabulary; the Maghress pages name the production host as canonical and listings link in "
        f"four forms), served from memory on 127.0.0.1 by the fixture server: **{base['server_rps']:.0f} requests/s** "
        "alone (4 keep-alive clients). Both spiders: no AutoThrottle, 16 concurrent requests, robots.txt obeyed, "
        f"`LOG_LEVEL=INFO`. Bare and project runs alternate, {len(base['ours'])} times at N = {n}"
        + (f" and {len(scaled['ours'])} at N = {scaled['n']}" if scaled else "") + "; figures are medians (range).",
        "",
        *crawl_table(base),
        "",
        "| ratio / target | measured: median (range) | target | met |",
        "| --- | --- | --- | --- |",
        f"| CPU (b)/(a), N = {n} | {median_spread(ratios(base, 'cpu'))} | ≤ 1.25 | {'yes' if cpu_ratio <= 1.25 else '**no**'} |",
        f"| CPU (b)/(a′), N = {n}: both with the project's garbage-collector settings "
        f"| {median_spread(ratios(base, 'cpu', 'bare_gc'))} | – | – |",
        f"| wall (b)/(a), N = {n} | {median_spread(ratios(base, 'wall'))} | – | – |",
        f"| re-crawl requests (c) | {requests_of(base['recrawl'])} | ≤ 2 | {'yes' if requests_of(base['recrawl']) <= 2 else '**no**'} |",
        f"| start-up to first request (b) | {median_spread([r['startup'] or 0 for r in base['ours']])} s | < 1.5 s "
        f"| {'yes' if startup and startup < 1.5 else '**no**'} |",
    ]
    if scaled:
        big = scaled["n"]
        big_ratio = statistics.median(ratios(scaled, "cpu"))
        per_small, per_big = med(base, "cpu") / n, med(scaled, "cpu") / big
        rss_small, rss_big = med(base, "rss_mb"), med(scaled, "rss_mb")
        lines += [
            f"| CPU (b)/(a), N = {big} | {median_spread(ratios(scaled, 'cpu'))} | ≤ 1.25 | {'yes' if big_ratio <= 1.25 else '**no**'} |",
            f"| CPU per article, N={n} → N={big} | {per_small * 1000:.2f} → {per_big * 1000:.2f} ms ({per_big / per_small:.2f}×) "
            f"| within ±20% | {'yes' if 0.8 <= per_big / per_small <= 1.2 else '**no**'} |",
            f"| peak RSS, N={n} → N={big} | {rss_small:.0f} → {rss_big:.0f} MB ({rss_big / rss_small:.2f}×) | < 1.5× "
            f"| {'yes' if rss_big / rss_small < 1.5 else '**no**'} |",
            "",
            *crawl_table(scaled),
        ]
    if stages := stages_table(base):
        lines += ["", f"### Where (b)'s CPU goes, stage by stage (N = {n}, each run beside the bare spider of its round)",
                  "", *stages]
    if "profile" in base:
        lines += ["", f"### Where (b)'s CPU goes beyond (a)'s: py-spy, one more pair of runs at N = {n}", "",
                  "Sampled at 200 Hz over each whole process (imports, the event loop and start-up included); per "
                  "function, the project's samples minus the bare spider's, in µs of CPU per request "
                  "(own: in the function itself; inclusive: with what it calls).", "", base["profile"]]
    if render:
        k = render["pages"]
        never, always = render["never"], render["always"]
        lines += [
            "",
            "## Rendering: a page through Chromium against a plain fetch",
            "",
            f"{k} publisher pages whose body is inserted by JavaScript, crawled with render mode `never` (plain fetch) "
            "and `always` (every publisher page through Chromium). CPU includes the browser's processes.",
            "",
            "| mode | wall s | CPU s | peak RSS MB (crawl process) |",
            "| --- | --- | --- | --- |",
            f"| never | {fmt(never['wall'])} | {fmt(never['cpu'])} | {fmt(never['rss_mb'], 0)} |",
            f"| always | {fmt(always['wall'])} | {fmt(always['cpu'])} | {fmt(always['rss_mb'], 0)} |",
            "",
            f"Per rendered page, over a plain fetch: **+{(always['wall'] - never['wall']) / k * 1000:.0f} ms wall**, "
            f"**+{(always['cpu'] - never['cpu']) / k * 1000:.0f} ms CPU** (the browser's start-up included, spread over {k} pages).",
        ]
    if dist:
        base_rate = dist[0][2]
        lines += ["", "## Distributed: workers on one Redis (scrapy-redis) and one SQLite file", "",
                  "| workers | wall s | articles/s | speed-up |", "| --- | --- | --- | --- |"]
        lines += [f"| {w} | {fmt(wall)} | {rate:.0f} | {rate / base_rate:.2f}× |" for w, wall, rate in dist]
        lines += ["", "All workers, the mirror server and Redis share this machine's 2 cores: past 2 workers the CPU is "
                  "the limit. Each worker also pays ~1 s of start-up and waits ~3 s at the end for the others to settle."]
    return "\n".join(lines)


def main() -> None:
    sys.path.insert(0, str(REPO))
    n = int(os.environ.get("N", "2000"))
    # 10x is the aim; 5x (10,000 articles) is what fits in a few minutes on 2 cores.
    scale = int(os.environ.get("SCALE", "5"))
    from bench.report import versions, write_section

    with tempfile.TemporaryDirectory(prefix="newscrawl-bench-") as tmp:
        work = Path(tmp)
        print(f"Crawl benchmark, N={n} …", flush=True)
        base = measure(n, work, profile=os.environ.get("PROFILE", "") not in ("", "0"), stages=True)
        scaled = None
        if scale > 1:
            print(f"… N={n * scale} …", flush=True)
            scaled = measure(n * scale, work)
        print("… rendering …", flush=True)
        render = render_cost(work)
        print("… distributed …", flush=True)
        dist = distributed(work)
    markdown = report(base, scaled, render, dist)
    markdown = markdown.replace(
        "## Crawl: `scrapy crawl lopinion` against Scrapy's floor\n",
        "## Crawl: `scrapy crawl lopinion` against Scrapy's floor\n\n"
        f"{versions('scrapy', 'twisted', 'lxml', 'sqlalchemy', 'scrapy-playwright', 'scrapy-redis')}.\n", 1)
    # Rendering and distributed figures get sections of their own in the document.
    crawl_md, _, rest = markdown.partition("\n## Rendering")
    write_section("crawl", crawl_md)
    if rest:
        render_md, _, dist_md = ("## Rendering" + rest).partition("\n## Distributed")
        write_section("rendering", render_md)
        if dist_md:
            write_section("distributed", "## Distributed" + dist_md)
    print(markdown)


if __name__ == "__main__":
    main()
