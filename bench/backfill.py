"""The back-catalogue (``-a ids=…``) by 1, 2 and 4 workers on one Redis: where scaling out pays.

A mirror of N articles whose every answer takes a fixed delay (a real site's
latency), walked by id with the project's politeness settings
(``CONCURRENT_REQUESTS_PER_DOMAIN`` = 4 per worker, AutoThrottle off for the
mirror). A latency-bound crawl: N workers should approach N times the
throughput of one, until the CPU (2 cores here, shared with the mirror
server and Redis) is the limit.

    python -m bench.backfill        (part of make bench; N_BACKFILL=600, DELAY=0.5)

Beside the speed: requests per stored article (every page once: 2.0 here, the
Maghress page and the publisher page; robots.txt, the listing and the ids past
the end apart), pages fetched more than once, and Redis commands per article
(the leases' cost).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def run(n: int, delay: float, workers_list=(1, 2, 4)) -> list[dict]:
    from tests.support.fixtureserver import FixtureServer
    from tests.support.mirror import FIRST_ID, generate
    from newscrawl.store import Store
    from tests.servers import create_database, postgresql_server

    redis = shutil.which("redis-server")
    if redis is None:
        raise SystemExit("bench.backfill needs redis-server (Debian's redis-server)")
    rows = []
    with tempfile.TemporaryDirectory(prefix="newscrawl-backfill-") as tmp:
        work = Path(tmp)
        generate(work / "mirror", n)
        ids = f"{FIRST_ID}-{FIRST_ID + n + 100}"
        # PostgreSQL, as a crawl with several workers should use: SQLite takes one writer at a time.
        with FixtureServer(work / "mirror", cache=True, delay=delay) as server, postgresql_server() as admin:
            for workers in workers_list:
                port = 6400 + workers
                redis_proc = subprocess.Popen([redis, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
                                              stdout=subprocess.DEVNULL)
                time.sleep(0.5)
                db = create_database(admin, f"backfill_{workers}")
                command = [PYTHON, "-m", "scrapy", "crawl", "lopinion", "-a", f"start_url={server.origin}/fr/lopinion",
                           "-a", f"ids={ids}", "-a", "max_misses=20", "-s", "AUTOTHROTTLE_ENABLED=False",
                           "-s", "LOG_LEVEL=WARNING", "-s", f"NEWSCRAWL_DATABASE_URL={db}",
                           "-s", f"NEWSCRAWL_REDIS_URL=redis://127.0.0.1:{port}/0", "-s", "NEWSCRAWL_DEFAULT_FEED="]
                env = {**os.environ, "NEWSCRAWL_DATA_DIR": str(work / "data")}
                server.clear_log()
                start = time.time()
                cpu_before = os.times()
                procs = [subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
                         for _ in range(workers)]
                for proc in procs:
                    proc.wait()
                wall = time.time() - start
                cpu_after = os.times()
                commands = _redis_commands(port)
                redis_proc.terminate()
                redis_proc.wait()
                stored = Store(db).count()
                counts = Counter(p for p in server.requests if p != "/robots.txt")
                article_pages = sum(c for p, c in counts.items() if p.startswith("/Article-") or (
                    p.startswith("/fr/lopinion/") and int(p.rsplit("/", 1)[1]) < FIRST_ID + n))
                rows.append({"workers": workers, "wall": wall, "stored": stored, "requests": len(server.requests),
                             "per_article": article_pages / max(stored, 1), "commands": commands / max(stored, 1),
                             "twice": sum(1 for c in counts.values() if c > 1),
                             "cpu": (cpu_after.children_user + cpu_after.children_system)
                             - (cpu_before.children_user + cpu_before.children_system)})
    return rows


def _redis_commands(port: int) -> int:
    import redis

    return int(redis.Redis(port=port).info("stats")["total_commands_processed"])


def report(rows: list[dict], n: int, delay: float) -> str:
    one = rows[0]["stored"] / rows[0]["wall"]
    lines = [
        "## Back-catalogue across workers: `-a ids=…` on one Redis",
        "",
        f"A mirror of **{n}** articles, every answer delayed **{delay * 1000:.0f} ms** (a real site's latency), walked "
        f"by id ({n + 100} ids: the walk stops by itself after the last article) with the project's politeness "
        "(4 requests at once per site and worker). Each article is two pages (Maghress and publisher), on one host "
        "here: every page once is 2.000 article-page requests per article. The store is PostgreSQL; Redis commands "
        "count every lease taken, renewed and given up.",
        "",
        "| workers | wall s | articles stored | requests | article-page requests per article | pages fetched twice "
        "| Redis commands per article | articles/s | speed-up | CPU s (all workers) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        rate = row["stored"] / row["wall"]
        lines.append(f"| {row['workers']} | {row['wall']:.1f} | {row['stored']} | {row['requests']} | "
                     f"{row['per_article']:.3f} | {row['twice']} | {row['commands']:.1f} | {rate:.1f} | "
                     f"{rate / one:.2f}× | {row['cpu']:.1f} |")
    lines += ["", "Each worker also pays ~1 s of start-up and waits ~3 s at the end for the others to settle; "
              "the workers, the mirror server and Redis share this machine's 2 cores."]
    return "\n".join(lines)


def main() -> None:
    sys.path.insert(0, str(REPO))
    n = int(os.environ.get("N_BACKFILL", "600"))
    delay = float(os.environ.get("DELAY", "0.5"))
    from bench.report import write_section

    print(f"Back-catalogue benchmark, N={n}, {delay * 1000:.0f} ms per answer …", flush=True)
    markdown = report(run(n, delay), n, delay)
    write_section("backfill", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
