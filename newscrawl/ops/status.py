"""``newscrawl status``'s report of a store: per source, what is stored, waiting, failed, gone, refused, and
how its revisits went (made, answered 304, versions found, due now).

Reads only (one consistent snapshot of the store while a crawl writes): the crawl itself never needs it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, select

from newscrawl.store.database import FAILED, Store
from newscrawl.store.engine import snapshot
from newscrawl.store.schema import aliases, articles, frontier, rejected


def store_status(store: Store, max_attempts: int, reasons: int = 3) -> dict[str, dict[str, Any]]:
    """Per source: stored, aliases, pending, failed (retried / given up, last reasons), gone, rejected; revisits
    made, ``not_modified`` (304), ``versions`` kept, ``revisits_due`` now."""
    out: dict[str, dict[str, Any]] = {}

    def entry(section: str) -> dict[str, Any]:
        return out.setdefault(section, {"stored": 0, "aliases": 0, "pending": 0, "failed": 0, "given_up": 0,
                                        "gone": 0, "rejected": 0, "revisits": 0, "not_modified": 0, "versions": 0,
                                        "revisits_due": 0, "reasons": []})

    with store.engine.connect() as conn:
        snapshot(conn)  # the counts below of one state of the store, while a crawl writes
        for source, n in conn.execute(select(articles.c.source, func.count()).group_by(articles.c.source)):
            entry(source or "?")["stored"] = n
        for source, n in conn.execute(
            select(articles.c.source, func.count()).select_from(aliases.join(articles)).group_by(articles.c.source)
        ):
            entry(source or "?")["aliases"] = n
        given_up = case((and_(frontier.c.state == FAILED, frontier.c.attempts >= max_attempts), 1), else_=0)
        for section, state, n, stopped in conn.execute(
            select(frontier.c.section, frontier.c.state, func.count(), func.sum(given_up))
            .group_by(frontier.c.section, frontier.c.state)
        ):
            entry(section)[state] = n
            if state == FAILED:
                entry(section)["given_up"] = int(stopped or 0)
        for section in list(out):
            entry(section)["reasons"] = [
                dict(row._mapping) for row in conn.execute(
                    select(frontier.c.article_key, frontier.c.attempts, frontier.c.last_error, frontier.c.last_tried)
                    .where(frontier.c.section == section, frontier.c.state == FAILED)
                    .order_by(frontier.c.last_tried.desc(), frontier.c.article_key).limit(reasons)
                )
            ]
        for key, n in conn.execute(select(rejected.c.article_key, func.count()).group_by(rejected.c.article_key)):
            entry(key.split("/", 1)[0] if key else "?")["rejected"] += n
    for source, revisits in store.revisit_report().items():
        counts = entry(source or "?")
        counts.update(revisits=revisits["made"], not_modified=revisits["not_modified"], versions=revisits["versions"],
                      revisits_due=revisits["due"])
    return out
