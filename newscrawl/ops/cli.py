"""``newscrawl …``: commands around the crawl (the crawl itself is ``scrapy crawl maghress`` / ``lopinion``).

    newscrawl demo                      crawl the bundled fixture site offline, print a summary
    newscrawl export -o out.csv         stored articles as CSV or JSON Lines, with filters
    newscrawl status                    per source: stored, pending, failed (and why), gone, rejected, revisits
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from contextlib import nullcontext
from datetime import date
from pathlib import Path

from newscrawl.crawl.health import ExitCode
from newscrawl.demo import SITE as DEMO_SITE
from newscrawl.items import ARTICLE_FIELDS
from newscrawl.sources import SOURCES

FIXTURE_SITE = DEMO_SITE


def _default_database_url() -> str:
    from newscrawl import settings
    from newscrawl.store.database import database_url

    return database_url(settings.NEWSCRAWL_DATABASE_URL, settings.NEWSCRAWL_DATABASE_URL_FILE)


# -- demo ---------------------------------------------------------------------


def demo(args: argparse.Namespace) -> int:
    from newscrawl.demo.server import SiteServer
    from newscrawl.store import Store

    site = Path(args.site)
    if not (site / "fr" / "lopinion").is_dir():
        print(f"newscrawl demo: no fixture site at {site}", file=sys.stderr)
        return ExitCode.REFUSED
    workdir = Path(args.dir).resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    (workdir / "exports").mkdir(parents=True)
    database = workdir / "newscrawl.db"
    feed = workdir / "exports" / "maghress-demo.csv"
    # The registered sources the fixture site holds a listing of.
    sources = [slug for slug in SOURCES if (site / "fr" / slug).is_dir()]
    with SiteServer(site) as server:
        print(f"Serving the fixture copy of Maghress and its publishers on {server.origin}: {', '.join(sources)}")
        command = [
            sys.executable, "-m", "scrapy", "crawl", "maghress",
            "-a", f"base_url={server.origin}", "-a", f"sources={','.join(sources)}",
            "-s", f"NEWSCRAWL_DATABASE_URL=sqlite:///{database}",
            "-s", "AUTOTHROTTLE_ENABLED=False",
            "-s", "LOG_LEVEL=WARNING",
            "-O", str(feed),
        ]
        # The project's settings by name, not by a scrapy.cfg: the demo runs from an installed package too.
        crawl = subprocess.run(command, cwd=workdir, env={**os.environ, "SCRAPY_SETTINGS_MODULE": "newscrawl.settings"})
        requests = len(server.requests)
    store = Store(f"sqlite:///{database}")
    articles = list(store.iter_articles())
    print()
    print(f"Crawl finished (exit {crawl.returncode}) after {requests} requests to the fixture site.")
    print(f"Articles stored: {len(articles)} in {database}")
    by_source = Counter(a.get("source") for a in articles)
    print("By source:  " + ", ".join(f"{slug} {n}" for slug, n in sorted(by_source.items())))
    by_extractor = Counter(a.get("extractor") or "maghress only" for a in articles)
    print("Read by:    " + ", ".join(f"{name} {n}" for name, n in sorted(by_extractor.items())))
    print("Articles with each field:")
    for field in ARTICLE_FIELDS:
        have = sum(1 for a in articles if a.get(field) not in (None, "", []))
        print(f"  {field:<15} {have:>3} / {len(articles)}")
    # (Cells are at most items.FIELD_MAX_CHARS, under csv's default limit; a feed written by an older version
    # may hold longer ones, which its reader must take too.)
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
    with_csv = sum(1 for _ in csv.DictReader(feed.open(encoding="utf-8", newline=""))) if feed.exists() else 0
    print(f"CSV feed: {feed} ({with_csv} rows)")
    return crawl.returncode


# -- export -------------------------------------------------------------------


def _date_arg(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date as YYYY-MM-DD") from None


def _missing_database(url: str) -> int | None:
    """2, after one line, when ``url`` names a SQLite file that does not exist: opening it would create an
    empty archive and report nothing as if it were there (a typo in --database)."""
    from newscrawl.store.database import safe_url, sqlite_path

    path = sqlite_path(url)
    if path is not None and not path.exists():
        print(f"newscrawl: no database at {path} ({safe_url(url)}): check --database or NEWSCRAWL_DATABASE_URL",
              file=sys.stderr)
        return ExitCode.REFUSED
    return None


def export(args: argparse.Namespace) -> int:
    from newscrawl.store.exporters import csv_cell
    from newscrawl.store import Store

    url = args.database or _default_database_url()
    if (missing := _missing_database(url)) is not None:
        return missing
    store = Store(url)
    fmt = args.format or ("jsonl" if args.output and args.output.endswith((".jsonl", ".jl")) else "csv")
    rows = store.iter_articles(since=args.since, until=args.until, source=args.source, language=args.language,
                               changed_since=args.changed_since)
    out_ctx = open(args.output, "w", encoding="utf-8", newline="") if args.output and args.output != "-" else nullcontext(sys.stdout)
    progress = None
    if sys.stderr.isatty() and args.output not in (None, "-"):
        from tqdm import tqdm

        progress = tqdm(unit=" articles", file=sys.stderr)
    count = 0
    with out_ctx as out:
        if fmt == "csv":
            writer = csv.writer(out)
            writer.writerow(ARTICLE_FIELDS)
            for row in rows:
                writer.writerow([csv_cell(f, row.get(f)) for f in ARTICLE_FIELDS])
                count += 1
                if progress:
                    progress.update()
        else:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
                if progress:
                    progress.update()
    if progress:
        progress.close()
    print(f"Exported {count} articles", file=sys.stderr)
    return 0


# -- search and serve -----------------------------------------------------------


def search(args: argparse.Namespace) -> int:
    """Articles matching a French full-text query, best first (``ops/find.py``)."""
    from newscrawl.ops import find

    url = args.database or _default_database_url()
    if (missing := _missing_database(url)) is not None:
        return missing
    return find.search(url, args)


def serve(args: argparse.Namespace) -> int:
    """The archive in a web browser (``ops/find.py``)."""
    from newscrawl.ops import find

    url = args.database or _default_database_url()
    if (missing := _missing_database(url)) is not None:
        return missing
    return find.serve(url, args)


def history(args: argparse.Namespace) -> int:
    """Every version of an article (``ops/find.py``)."""
    from newscrawl.ops import find

    url = args.database or _default_database_url()
    if (missing := _missing_database(url)) is not None:
        return missing
    return find.history(url, args)


# -- status -------------------------------------------------------------------

#: ``store_status``'s columns, and their headings.
_STATUS_COLUMNS = {"stored": "stored", "aliases": "aliases", "pending": "pending", "failed": "failed",
                   "given_up": "given up", "gone": "gone", "rejected": "rejected", "revisits": "revisits",
                   "not_modified": "304", "versions": "versions", "revisits_due": "due"}


def status(args: argparse.Namespace) -> int:
    """What the archive holds and what it still owes, per source."""
    from newscrawl import settings
    from newscrawl.ops.status import store_status
    from newscrawl.store import Store
    from newscrawl.store.database import safe_url

    max_attempts = args.max_attempts or settings.NEWSCRAWL_MAX_ATTEMPTS
    url = args.database or _default_database_url()
    if (missing := _missing_database(url)) is not None:
        return missing
    store = Store(url)
    per_source = store_status(store, max_attempts, reasons=args.reasons)
    if args.json:
        report = {"database": safe_url(store.url), "max_attempts": max_attempts, "sources": per_source}
        if (crawls := _distributed(args)) is not None:
            report["distributed"] = crawls
        print(json.dumps(report, ensure_ascii=False, indent=1, default=str))
        return 0
    print(f"Database: {safe_url(store.url)} (schema version {store.schema_version()})")
    if not per_source:
        print("Nothing stored, nothing pending.")
        _print_distributed(args)
        return 0
    width = max(len("source"), *(len(s) for s in per_source))
    print(f"{'source':<{width}}  " + "  ".join(f"{heading:>8}" for heading in _STATUS_COLUMNS.values()))
    for source, counts in sorted(per_source.items()):
        print(f"{source:<{width}}  " + "  ".join(f"{counts[c]:>8}" for c in _STATUS_COLUMNS))
    print(f"(pending: seen, not stored yet; failed: fetched again by the next runs until {max_attempts} attempts, "
          "then given up; gone: answered 404/410; revisits: stored articles fetched again, 304: of which "
          "unchanged by the server's word, versions: earlier versions kept, due: revisits due now)")
    failures = [(source, r) for source, counts in sorted(per_source.items()) for r in counts["reasons"]]
    if failures:
        print("Last failures:")
        for source, r in failures:
            print(f"  {r['article_key']}  {r['attempts']} attempt(s), last {r['last_tried']}: {r['last_error']}")
    rejected = sum(counts["rejected"] for counts in per_source.values())
    if rejected:
        print(f"{rejected} rows refused by the database are kept, with their error, in its rejected_articles table.")
    _print_distributed(args)
    return 0


def _distributed(args: argparse.Namespace) -> list[dict] | None:
    """The distributed crawls on the Redis of ``--redis`` (or NEWSCRAWL_REDIS_URL): runs, workers, leases."""
    url = args.redis or os.environ.get("NEWSCRAWL_REDIS_URL")
    if not url:
        return None
    import redis

    from newscrawl.crawl.distributed import describe

    return describe(redis.Redis.from_url(url, socket_timeout=10))


def _print_distributed(args: argparse.Namespace) -> None:
    from newscrawl.credentials import mask

    crawls = _distributed(args)
    if crawls is None:
        return
    url = args.redis or os.environ.get("NEWSCRAWL_REDIS_URL")
    if not crawls:
        print(f"Distributed crawls on {mask(url)}: none running.")
        return
    print(f"Distributed crawls on {mask(url)}:")
    for crawl in crawls:
        print(f"  {crawl['crawl']} run {crawl['run']}: {crawl['queued']} requests queued, {crawl['leases']} leased")
        for w in crawl["workers"]:
            state = ("busy" if w["busy"] else "idle") if w["alive"] else "dead (its leases expire and return)"
            print(f"    {w['worker']}  {state}, {w['leases']} lease(s)")


def schedule(args: argparse.Namespace) -> int:
    try:
        import croniter  # noqa: F401
        import requests  # noqa: F401
    except ImportError as exc:
        print(f"newscrawl schedule needs croniter and requests ({exc}): pip install 'newscrawl[scrapyd]'",
              file=sys.stderr)
        return ExitCode.REFUSED
    from newscrawl.ops import schedule as scheduling

    return scheduling.main(args.plan, args.once, args.state, args.stop_after, args.retries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="newscrawl", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("demo", help="crawl the bundled fixture site offline and print a summary")
    p.add_argument("--site", default=str(FIXTURE_SITE), help="site directory (default: the demo's, in the package)")
    p.add_argument("--dir", default=str(Path(os.environ.get("NEWSCRAWL_DATA_DIR") or "data") / "demo"),
                   help="where the demo's database and CSV go (emptied first; default data/demo)")
    p.set_defaults(func=demo)

    p = commands.add_parser("export", help="stored articles as CSV or JSON Lines")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    p.add_argument("-f", "--format", choices=("csv", "jsonl"), help="default: from the file name, else csv")
    p.add_argument("--database", help="database URL (default: NEWSCRAWL_DATABASE_URL or data/newscrawl.db)")
    p.add_argument("--since", type=_date_arg, help="published on or after YYYY-MM-DD")
    p.add_argument("--until", type=_date_arg, help="published on or before YYYY-MM-DD")
    p.add_argument("--source", help="only this source (e.g. lopinion)")
    p.add_argument("--language", choices=("fr", "en", "es"))
    p.add_argument("--changed-since", type=_date_arg,
                   help="only articles whose text changed (version 2 or later) on or after YYYY-MM-DD")
    p.set_defaults(func=export)

    p = commands.add_parser("history", help="every version of an article, with what changed word by word")
    p.add_argument("article", help="its Maghress key (lopinion/5010004) or URL")
    p.add_argument("--database", help="database URL (default: NEWSCRAWL_DATABASE_URL or data/newscrawl.db)")
    p.add_argument("--json", action="store_true", help="the versions as JSON")
    p.set_defaults(func=history)

    p = commands.add_parser("search", help="French full-text search of the archive, best matches first")
    p.add_argument("query", help='words (all must be there), "a phrase", -word (left out), OR between two')
    p.add_argument("--database", help="database URL (default: NEWSCRAWL_DATABASE_URL or data/newscrawl.db)")
    p.add_argument("--source", help="only this source (e.g. lopinion)")
    p.add_argument("--since", type=_date_arg, help="published on or after YYYY-MM-DD")
    p.add_argument("--until", type=_date_arg, help="published on or before YYYY-MM-DD")
    p.add_argument("--limit", type=int, default=20, help="at most this many articles (default 20)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.set_defaults(func=search)

    p = commands.add_parser("serve", help="browse and search the archive in a web browser (Datasette, read-only)")
    p.add_argument("--database", help="SQLite database URL (default: NEWSCRAWL_DATABASE_URL or data/newscrawl.db)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8001, help="port (default 8001)")
    p.set_defaults(func=serve)

    p = commands.add_parser("status", help="per source: stored, pending, failed (and why), gone, rejected")
    p.add_argument("--database", help="database URL (default: NEWSCRAWL_DATABASE_URL or data/newscrawl.db)")
    p.add_argument("--max-attempts", type=int, help="attempts before an article is given up (default: the setting)")
    p.add_argument("--reasons", type=int, default=3, help="last failures shown per source (default 3)")
    p.add_argument("--json", action="store_true", help="the same as JSON")
    p.add_argument("--redis", help="also show the distributed crawls on this Redis: workers and their leases "
                                   "(default: NEWSCRAWL_REDIS_URL, if set)")
    p.set_defaults(func=status)

    p = commands.add_parser("schedule", help="submit crawls to scrapyd on a timetable (a TOML plan)")
    p.add_argument("plan", help="the plan file (see docs/scheduling.md)")
    p.add_argument("--once", action="store_true", help="submit what is due now and exit (for cron or systemd timers)")
    p.add_argument("--state", help="where to remember the last submissions (default: <plan>.state.json)")
    p.add_argument("--retries", type=int, default=3, help="with --once: tries for a node that does not answer")
    p.add_argument("--stop-after", type=float, help=argparse.SUPPRESS)  # bounded runs, for tests
    p.set_defaults(func=schedule)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
