"""What a crawl costs, side by side with Scrapy's own floor.  (`make bench`, N=… to change the size)

Against one generated mirror served from memory on 127.0.0.1, in one run:
(a) a bare Scrapy spider requesting exactly the same pages, (b) `scrapy crawl
lopinion` with the default pipelines and feed into a fresh SQLite file,
(c) the same crawl again on the unchanged mirror; then a profile of (b), the
same at N×SCALE, the cost of rendering a page in Chromium against fetching it
plainly, and distributed throughput with 1–3 workers on Redis.
"""

from __future__ import annotations

import json
import os
import pstats
import shutil
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


def run(command: list[str], cwd: Path, env: dict | None = None, server=None) -> dict:
    """Run a crawl process; its wall time, CPU (user+sys), peak RSS and the time to its first request."""
    if server is not None:
        server.clear_log()
    start = time.time()
    proc = subprocess.Popen(command, cwd=cwd, env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stderr_lines: list[str] = []
    reader = threading.Thread(target=lambda: stderr_lines.extend(proc.stderr), daemon=True)
    reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.time() - start
    reader.join(5)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command[:6])}… failed:\n{''.join(stderr_lines)[-3000:]}")
    first = server.first_request_at - start if server is not None and server.first_request_at else None
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
            "startup": first}


def stats_of(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def bare(origin: str, work: Path, server) -> dict:
    stats = work / "bare-stats.json"
    outside = work / "outside"  # no scrapy.cfg above: Scrapy's defaults, not our project's settings
    outside.mkdir(exist_ok=True)
    result = run([PYTHON, "-m", "scrapy", "runspider", str(REPO / "bench" / "bare_spider.py"),
                  "-a", f"start_url={origin}/fr/lopinion", *COMMON,
                  "-s", 'EXTENSIONS={"newscrawl.crawl.extensions.StatsFile": 500}', "-s", f"NEWSCRAWL_STATS_FILE={stats}",
                  "-s", "TELNETCONSOLE_ENABLED=False", "-s", "REMOTE_CONTROL_ENABLED=False"],
                 outside, {"PYTHONPATH": str(REPO)}, server)
    result["stats"] = stats_of(stats)
    return result


def ours(origin: str, work: Path, name: str, server, db: Path, *extra: str, profile: Path | None = None,
         env: dict | None = None) -> dict:
    stats = work / f"{name}-stats.json"
    prefix = [PYTHON, "-m", "cProfile", "-o", str(profile), "-m", "scrapy"] if profile else [PYTHON, "-m", "scrapy"]
    result = run([*prefix, "crawl", "lopinion", "-a", f"start_url={origin}/fr/lopinion", *COMMON,
                  "-s", f"NEWSCRAWL_DATABASE_URL=sqlite:///{db}", "-s", f"NEWSCRAWL_STATS_FILE={stats}", *extra],
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


CATEGORIES = [
    ("our site parsers", ("newscrawl/extract/sites/",)),
    ("normalisation (dates, titles, loaders)", ("newscrawl/normalize", "newscrawl/loaders", "itemloaders/", "dateparser",
                                               "py3langid", "unicodedata")),
    ("deduplication", ("newscrawl/store/similarity", "datasketch", "numpy", "DeduplicatePipeline", "hashlib")),
    ("storage", ("newscrawl/store/database", "sqlalchemy", "sqlite3", "StorePipeline")),
    ("feed export", ("exporters", "feedexport", "_csv", "csv.py")),
    ("HTML parsing (lxml, parsel)", ("parsel/", "lxml", "cssselect", "etree", "html5")),
    ("Scrapy/Twisted (engine, downloads, middlewares)", ("scrapy/", "twisted/", "asyncio", "w3lib", "zope", "protego",
                                                        "selectors.py", "socket", "ssl", "OpenSSL", "h2", "tldextract")),
]


def profile_shares(path: Path) -> list[tuple[str, float]]:
    stats = pstats.Stats(str(path))
    totals: dict[str, float] = {}
    for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        where = f"{filename}:{function}"
        category = next((name for name, keys in CATEGORIES if any(k in where for k in keys)), "other (Python, stdlib, imports)")
        totals[category] = totals.get(category, 0.0) + tottime
    whole = sum(totals.values()) or 1.0
    order = [name for name, _ in CATEGORIES] + ["other (Python, stdlib, imports)"]
    return [(name, 100 * totals.get(name, 0.0) / whole) for name in order]


def measure(n: int, work: Path, with_profile: bool) -> dict:
    from tests.support.fixtureserver import FixtureServer
    from tests.support.mirror import generate

    site = work / f"mirror-{n}"
    generate(site, n)
    out: dict = {"n": n}
    with FixtureServer(site, cache=True) as server:
        origin = server.origin
        # Warm the server's memory cache so that every run is served from memory.
        paths = [f"/fr/lopinion/{i}" for i in range(7_000_001, 7_000_001 + n)]
        server_rps(origin, paths + ["/robots.txt", "/fr/lopinion"], seconds=1.0)
        out["server_rps"] = server_rps(origin, paths)
        out["bare"] = bare(origin, work, server)
        db = work / f"articles-{n}.db"
        out["ours"] = ours(origin, work, f"ours-{n}", server, db)
        out["ours"]["stored"] = out["ours"]["stats"].get("newscrawl/store/rows_total", 0)
        out["recrawl"] = ours(origin, work, f"recrawl-{n}", server, db)
        if with_profile:
            profile = work / "ours.prof"
            ours(origin, work, "profiled", server, work / "profiled.db", profile=profile)
            out["profile"] = profile_shares(profile)
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


def report(base: dict, scaled: dict | None, render: dict, dist: list) -> str:
    a, b, c = base["bare"], base["ours"], base["recrawl"]
    n = base["n"]
    req = lambda r: r["stats"].get("downloader/request_count", 0)  # noqa: E731
    lines = [
        "## Crawl: `scrapy crawl lopinion` against Scrapy's floor",
        "",
        f"Mirror of **N = {n}** articles (listing pages of 20, ticker, Maghress and publisher pages; the Maghress pages name the production host as canonical and listings link in four forms), served from memory "
        f"on 127.0.0.1 by the fixture server: **{base['server_rps']:.0f} requests/s** alone (4 keep-alive clients). "
        "Both spiders: no AutoThrottle, 16 concurrent requests, robots.txt obeyed.",
        "",
        "| run | requests | wall s | CPU s (user+sys) | peak RSS MB | articles stored | start-up to first request s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| (a) bare spider, same pages | {req(a)} | {fmt(a['wall'])} | {fmt(a['cpu'])} | {fmt(a['rss_mb'], 0)} | – | {fmt(a['startup'])} |",
        f"| (b) `lopinion`, pipelines + SQLite + CSV | {req(b)} | {fmt(b['wall'])} | {fmt(b['cpu'])} | {fmt(b['rss_mb'], 0)} | {b['stored']} | {fmt(b['startup'])} |",
        f"| (c) re-crawl, unchanged mirror | {req(c)} | {fmt(c['wall'])} | {fmt(c['cpu'])} | {fmt(c['rss_mb'], 0)} | +{c['stats'].get('newscrawl/store/inserted', 0)} | {fmt(c['startup'])} |",
        "",
        "| ratio / target | measured | target | met |",
        "| --- | --- | --- | --- |",
        f"| CPU (b)/(a) | {b['cpu'] / a['cpu']:.2f} | ≤ 1.25 | {'yes' if b['cpu'] / a['cpu'] <= 1.25 else '**no**'} |",
        f"| wall (b)/(a) | {b['wall'] / a['wall']:.2f} | – | – |",
        f"| re-crawl requests (c) | {req(c)} | ≤ 2 | {'yes' if req(c) <= 2 else '**no**'} |",
        f"| start-up to first request (b) | {fmt(b['startup'])} s | < 1.5 s | {'yes' if b['startup'] and b['startup'] < 1.5 else '**no**'} |",
    ]
    if scaled:
        sb = scaled["ours"]
        per_small, per_big = b["cpu"] / n, sb["cpu"] / scaled["n"]
        lines += [
            f"| CPU per article, N={n} → N={scaled['n']} | {per_small * 1000:.2f} → {per_big * 1000:.2f} ms ({per_big / per_small:.2f}×) | within ±20% | {'yes' if 0.8 <= per_big / per_small <= 1.2 else '**no**'} |",
            f"| peak RSS, N={n} → N={scaled['n']} | {b['rss_mb']:.0f} → {sb['rss_mb']:.0f} MB ({sb['rss_mb'] / b['rss_mb']:.2f}×) | < 1.5× | {'yes' if sb['rss_mb'] / b['rss_mb'] < 1.5 else '**no**'} |",
            "",
            f"At N = {scaled['n']}: (a) {fmt(scaled['bare']['cpu'])} CPU s, (b) {fmt(sb['cpu'])} CPU s "
            f"(ratio {sb['cpu'] / scaled['bare']['cpu']:.2f}), {sb['stored']} articles stored, wall {fmt(sb['wall'])} s.",
        ]
    if "profile" in base:
        lines += ["", "Where (b)'s CPU goes (cProfile, own time per function, by module):", "",
                  "| part | share of CPU |", "| --- | --- |"]
        lines += [f"| {name} | {share:.1f}% |" for name, share in base["profile"]]
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
        base = measure(n, work, with_profile=True)
        scaled = None
        if scale > 1:
            print(f"… N={n * scale} …", flush=True)
            scaled = measure(n * scale, work, with_profile=False)
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
