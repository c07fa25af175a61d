"""Revisits: when each stored article is fetched again, to find the edits made after publication.

An article is revisited on a schedule that thins out with its age (``NEWSCRAWL_REVISIT``, default
``1h 6h 24h 3d 7d``: an hour after publication, six hours, a day, three days, a week, then never). Each write
of an article (first fetch, or any fetch after) sets its next due time: the first step of the schedule after
that fetch. The age counts from the publication time the article gives (its day's midnight in Morocco when it
gives no time), or from when it was first stored when that is earlier (a date in the future is no reason to
wait).

``article_revisits`` holds, per article: what to fetch again (its publisher page — where edits happen — or
its Maghress page when it has no publisher page), the validators that page was sent with (``ETag``,
``Last-Modified``: the revisit asks with ``If-None-Match`` / ``If-Modified-Since``, and a 304 costs no
parse), when it is next due, and how its revisits went (made, 304s).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection

from newscrawl.identity.keys import ArticleKey
from newscrawl.items import ARTICLE_FIELDS
from newscrawl.schedule import DEFAULT_SCHEDULE, MAGHRESS, PUBLISHER, RevisitSchedule
from newscrawl.store.engine import utc_now
from newscrawl.store.schema import articles, revisits, versions


@dataclass(frozen=True, slots=True)
class DueRevisit:
    """An article due for a revisit: what to fetch, how to ask, and what is stored of it."""

    key: ArticleKey
    kind: str  # PUBLISHER or MAGHRESS
    url: str  # the page to fetch
    etag: str | None
    last_modified: str | None
    stored: dict[str, Any]  # the stored article (its fields, as ``ARTICLE_FIELDS`` name them)

    def conditional_headers(self) -> dict[str, str]:
        """The request headers that let the server answer 304 when the page did not change."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class RevisitRecords:
    """``article_revisits`` (a part of ``Store``)."""

    #: The schedule the store's writes follow (``NEWSCRAWL_REVISIT``; the crawl's store sets it).
    revisit_schedule: RevisitSchedule = RevisitSchedule.parse(DEFAULT_SCHEDULE)

    def schedule_revisit(self, conn: Connection, article_id: int, item: Mapping[str, Any], row: Mapping[str, Any],
                         first_seen: str, now: str) -> None:
        """After article ``article_id`` was written from ``item`` (``row``: the values written): what to fetch
        next time, with which validators, and when (in ``conn``'s transaction)."""
        due = self.revisit_schedule.next_revisit(row.get("published_at"), row.get("published_date"), first_seen,
                                                 datetime.fromisoformat(now))
        validators = item.get("page_validators") or {}
        from_publisher = bool(item.get("extractor")) and bool(row.get("source_url"))
        values = {
            "kind": PUBLISHER if from_publisher else MAGHRESS,
            "url": row.get("source_url") if from_publisher else row.get("url"),
            "etag": validators.get("etag") if from_publisher else None,
            "last_modified": validators.get("last_modified") if from_publisher else None,
            "next_due": _iso(due), "last_fetched": now,
        }
        statement = self.insert(revisits).values(article_id=article_id, article_key=row.get("article_key"), **values)
        conn.execute(statement.on_conflict_do_update(index_elements=[revisits.c.article_id], set_=values))

    def revisits_due(self, sections: Iterable[str], limit: int, now: str | None = None) -> list[DueRevisit]:
        """Articles of ``sections`` whose revisit is due, the longest overdue first, at most ``limit``."""
        query = (
            select(revisits.c.kind.label("revisit_kind"), revisits.c.url.label("revisit_url"),
                   revisits.c.etag.label("revisit_etag"), revisits.c.last_modified.label("revisit_last_modified"),
                   *(articles.c[f] for f in ARTICLE_FIELDS), articles.c.article_key)
            .join(articles, articles.c.id == revisits.c.article_id)
            .where(revisits.c.next_due <= (now or utc_now()),
                   articles.c.source.in_(list(sections)))
            .order_by(revisits.c.next_due, revisits.c.article_id)
            .limit(max(0, int(limit)))
        )
        due = []
        with self.engine.connect() as conn:
            for row in conn.execute(query).mappings():
                key = ArticleKey.parse(row["article_key"]) if row["article_key"] else None
                if key is not None and row["revisit_url"]:
                    stored = {f: row[f] for f in ARTICLE_FIELDS}
                    due.append(DueRevisit(key, row["revisit_kind"], row["revisit_url"], row["revisit_etag"],
                                          row["revisit_last_modified"], stored))
        return due

    def revisit_made(self, key: ArticleKey | str, *, not_modified: bool = False, failed: str | None = None) -> None:
        """A revisit of ``key`` was made (``not_modified``: the page answered 304; ``failed``: why it gave no
        page): counted, its outcome kept, and the article's next revisit set from now. (A page that did answer
        is then written as any article is, which sets the same next revisit and its new validators.)"""
        outcome = (failed or "")[:300] or ("not modified" if not_modified else "fetched")
        now = datetime.now(timezone.utc).replace(microsecond=0)
        with self.write_transaction() as conn:
            row = conn.execute(_REVISITED, {"key": str(key)}).first()
            if row is None:
                return
            due = self.revisit_schedule.next_revisit(row.published_at, row.published_date, row.first_seen, now)
            conn.execute(update(revisits).where(revisits.c.article_id == row.id).values(
                next_due=_iso(due), last_fetched=_iso(now), last_outcome=outcome,
                made=revisits.c.made + 1, not_modified=revisits.c.not_modified + int(not_modified)))

    def revisits_of(self, key: ArticleKey | str) -> dict[str, Any] | None:
        """The revisits of the article ``key``: what is fetched, made, answered 304, the last one's time and
        outcome, the next one's due time (``None``: never). ``None`` when it has no revisit row."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(revisits.c.kind, revisits.c.url, revisits.c.made, revisits.c.not_modified,
                       revisits.c.last_fetched, revisits.c.last_outcome, revisits.c.next_due)
                .join(articles, articles.c.id == revisits.c.article_id)
                .where(articles.c.article_key == str(key))).first()
        return dict(row._mapping) if row is not None else None

    def revisit_report(self) -> dict[str, dict[str, int]]:
        """Per source: revisits ``made``, answered ``not_modified`` (304), ``due`` now, and ``versions`` kept."""
        now = utc_now()
        report: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for source, made, not_modified, due in conn.execute(
                select(articles.c.source, func.coalesce(func.sum(revisits.c.made), 0),
                       func.coalesce(func.sum(revisits.c.not_modified), 0),
                       func.count().filter(revisits.c.next_due <= now))
                .join(articles, articles.c.id == revisits.c.article_id).group_by(articles.c.source)
            ):
                report[source or ""] = {"made": int(made), "not_modified": int(not_modified), "due": int(due),
                                        "versions": 0}
            for source, count in conn.execute(
                select(articles.c.source, func.count()).join(versions, versions.c.article_id == articles.c.id)
                .group_by(articles.c.source)
            ):
                report.setdefault(source or "", {"made": 0, "not_modified": 0, "due": 0, "versions": 0})
                report[source or ""]["versions"] = int(count)
        return report


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat() if moment is not None else None


_REVISITED = select(articles.c.id, articles.c.published_at, articles.c.published_date, articles.c.first_seen).where(
    articles.c.article_key == bindparam("key"))
