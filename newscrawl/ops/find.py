"""``newscrawl search`` and ``newscrawl serve``: finding articles in the archive (the CLI's argument parsing is
``cli.py``'s)."""

from __future__ import annotations

import argparse
import csv
import json
import sys

from newscrawl.crawl.health import ExitCode

_BOLD = ("\033[1m", "\033[0m")


def search(url: str, args: argparse.Namespace) -> int:
    """Articles matching a French full-text query, best first: a table, CSV or JSON on standard output."""
    from newscrawl.store import Store
    from newscrawl.store.search import QueryError

    fmt = args.format
    mark = _BOLD if fmt == "table" and sys.stdout.isatty() else ("[", "]")
    try:
        hits = Store(url).search(args.query, source=args.source, since=args.since, until=args.until,
                                 limit=args.limit, mark=mark)
    except QueryError as exc:
        print(f"newscrawl search: {exc}", file=sys.stderr)
        return ExitCode.REFUSED
    if not hits:
        print(f"No article matches {args.query!r}.", file=sys.stderr)
        return ExitCode.OK
    columns = ("rank", "source", "published_date", "title", "url", "snippet")
    rows = [dict(zip(columns, (n, h.source or "", h.published_date or "", h.title, h.url, h.snippet)))
            for n, h in enumerate(hits, 1)]
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    elif fmt == "csv":
        from newscrawl.store.exporters import neutralise_formula

        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows([[neutralise_formula(str(row[c])) for c in columns] for row in rows])
    else:
        for row in rows:
            print(f"{row['rank']:>3}. {row['published_date']}  {row['source']}  {row['title']}")
            print(f"     {row['snippet']}")
            print(f"     {row['url']}")
    return ExitCode.OK


def serve(url: str, args: argparse.Namespace) -> int:
    """The archive in a web browser: Datasette, read-only, on 127.0.0.1 by default."""
    from newscrawl.store.database import sqlite_path

    path = sqlite_path(url)
    if path is None:
        print("newscrawl serve: the web view reads a SQLite archive (Datasette); export a PostgreSQL archive with "
              "`newscrawl export`, or point --database at a SQLite file", file=sys.stderr)
        return ExitCode.REFUSED
    try:
        from newscrawl.web import serve as web_serve
    except ImportError as exc:
        print(f"newscrawl serve needs Datasette ({exc}): pip install 'newscrawl[web]'", file=sys.stderr)
        return ExitCode.REFUSED
    from newscrawl.store import Store

    Store(url).close()  # the schema (and its search index) brought up to date before it is served
    return web_serve(path, host=args.host, port=args.port)
