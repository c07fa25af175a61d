"""``newscrawl search``, ``newscrawl serve`` and ``newscrawl history``: finding articles in the archive, and
what they said before (the CLI's argument parsing is ``cli.py``'s)."""

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


_RED_GREEN = (("\033[31m[-", "-]\033[0m"), ("\033[32m{+", "+}\033[0m"))
_PLAIN = (("[-", "-]"), ("{+", "+}"))


def history(url: str, args: argparse.Namespace) -> int:
    """Every version of an article, oldest first, and a word-level diff between consecutive ones."""
    from newscrawl.identity.keys import ArticleKey, article_key
    from newscrawl.store import Store

    text = args.article.strip()
    key = article_key(text) if "/" in text and ("://" in text or text.startswith("/")) else None
    if key is None:
        try:
            key = ArticleKey.parse(text)
        except ValueError:
            print(f"newscrawl history: {text!r} is neither a Maghress key (lopinion/5010004) nor an article URL",
                  file=sys.stderr)
            return ExitCode.REFUSED
    store = Store(url)
    versions = store.history(key)
    if not versions:
        print(f"newscrawl history: no stored article {key}", file=sys.stderr)
        return ExitCode.REFUSED
    revisits = store.revisits_of(key)
    if args.json:
        print(json.dumps({"versions": versions, "revisits": revisits}, ensure_ascii=False, indent=1, default=str))
        return ExitCode.OK
    marks = _RED_GREEN if sys.stdout.isatty() else _PLAIN
    print(f"{key}: {len(versions)} version(s)")
    for before, after in zip([None, *versions], versions):
        print(f"\nversion {after['version_number']}, stored {after['stored_at']}")
        if before is None:
            print(f"  title: {after['title']}")
            continue
        changed = False
        for field in ("title", "lead", "body", "authors", "published_date", "published_at"):
            old, new = _as_text(before[field]), _as_text(after[field])
            if old.split() != new.split():  # (a version differs in more than whitespace)
                changed = True
                print(f"  {field}: {word_diff(old, new, marks)}")
        if not changed:
            print("  (no change in the versioned fields)")
    if revisits is not None:
        made = (f"{revisits['made']} made ({revisits['not_modified']} answered 304), the last "
                f"{revisits['last_fetched']}: {revisits['last_outcome']}" if revisits["made"] else "none made yet")
        print(f"\nrevisits of its {revisits['kind']} page {revisits['url']}: {made}; "
              f"next {'due ' + revisits['next_due'] if revisits['next_due'] else 'never'}")
    return ExitCode.OK


def _as_text(value) -> str:
    if isinstance(value, list):
        return "; ".join(map(str, value))
    return "" if value is None else str(value)


def word_diff(old: str, new: str, marks=_PLAIN, context: int = 8) -> str:
    """The words of ``new`` with what ``old`` had instead marked: ``[-removed-]{+added+}``; long unchanged runs
    shortened to ``context`` words on each side."""
    import difflib

    a, b = old.split(), new.split()
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            same = a[i1:i2]
            out += same if len(same) <= 2 * context else [*same[:context], "…", *same[-context:]]
            continue
        if i2 > i1:
            out.append(marks[0][0] + " ".join(a[i1:i2]) + marks[0][1])
        if j2 > j1:
            out.append(marks[1][0] + " ".join(b[j1:j2]) + marks[1][1])
    return " ".join(out)
