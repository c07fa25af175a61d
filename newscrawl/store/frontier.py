"""The frontier and the listing walks: what the crawl saw and has not stored yet, and how deep it walked.

An article seen on a listing is ``pending`` until stored; one whose page failed is ``failed`` (tried again by
the next runs, up to ``NEWSCRAWL_MAX_ATTEMPTS``); one that answered "not found" is ``gone`` (never asked
again). A listing walk that did not end says how deep it got, so the next run walks at least as deep.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.engine import Connection

from newscrawl.identity.keys import ArticleKey
from newscrawl.store.engine import chunks, utc_now
from newscrawl.store.schema import frontier, listing_walks

#: States of the frontier (see ``schema.frontier``).
PENDING, FAILED, GONE = "pending", "failed", "gone"


@dataclass(frozen=True, slots=True)
class DueArticle:
    """An article of the frontier that the next crawl fetches first."""

    key: ArticleKey
    url: str
    state: str
    attempts: int


class FrontierRecords:
    """The frontier and the listing walks (a part of ``Store``)."""

    def frontier_seen(self, seen: Iterable[tuple[ArticleKey, str]]) -> None:
        """Record articles about to be fetched as ``pending`` (those already in the frontier keep their state)."""
        now = utc_now()
        rows = {str(key): {"article_key": str(key), "section": key.section, "maghress_id": key.maghress_id,
                           "url": url, "state": PENDING, "attempts": 0, "first_seen": now} for key, url in seen}
        if not rows:
            return
        with self.write_transaction() as conn:
            conn.execute(self.insert(frontier).on_conflict_do_nothing(), list(rows.values()))

    def frontier_failed(self, key: ArticleKey, url: str, reason: str) -> int:
        """An article's page failed (or gave nothing storable): one more attempt counted; returns the attempts."""
        return self._frontier_attempt(key, url, FAILED, reason)

    def frontier_gone(self, key: ArticleKey, url: str, status: int) -> None:
        """An article answered "not found" (404, 410, or sent away from any article): not asked again."""
        self._frontier_attempt(key, url, GONE, f"HTTP {status}")

    def _frontier_attempt(self, key: ArticleKey, url: str, state: str, reason: str) -> int:
        """One more attempt at ``key``, which ended in ``state`` for ``reason``; returns the attempts."""
        now, reason = utc_now(), reason[:1000]
        statement = self.insert(frontier).values(
            article_key=str(key), section=key.section, maghress_id=key.maghress_id, url=url, state=state,
            attempts=1, last_error=reason, first_seen=now, last_tried=now,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[frontier.c.article_key],
            set_={"state": state, "attempts": frontier.c.attempts + 1, "last_error": reason, "last_tried": now},
        ).returning(frontier.c.attempts)
        with self.write_transaction() as conn:
            return conn.execute(statement).scalar_one()

    def frontier_clear(self, keys: Iterable[str | ArticleKey]) -> None:
        """These articles need no fetch any more (left out on purpose, e.g. older than ``since``)."""
        keys = [str(k) for k in keys]
        if keys:
            with self.write_transaction() as conn:
                clear_frontier(conn, keys)

    def frontier_due(self, sections: Iterable[str], max_attempts: int) -> list[DueArticle]:
        """Pending and failed articles of ``sections`` with fewer than ``max_attempts`` attempts, oldest first."""
        query = (
            select(frontier.c.article_key, frontier.c.url, frontier.c.state, frontier.c.attempts)
            .where(frontier.c.section.in_(list(sections)))
            .where(or_(frontier.c.state == PENDING, and_(frontier.c.state == FAILED, frontier.c.attempts < max_attempts)))
            .order_by(frontier.c.first_seen, frontier.c.article_key)
        )
        with self.engine.connect() as conn:
            return [DueArticle(ArticleKey.parse(k), url, state, attempts) for k, url, state, attempts in conn.execute(query)]

    def frontier_given_up(self, sections: Iterable[str], max_attempts: int) -> int:
        """Failed articles of ``sections`` that reached ``max_attempts``: reported, no longer fetched."""
        query = (
            select(func.count()).select_from(frontier)
            .where(frontier.c.section.in_(list(sections)), frontier.c.state == FAILED, frontier.c.attempts >= max_attempts)
        )
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one()

    def gone_keys(self, keys: Iterable[str | ArticleKey]) -> set[str]:
        """Which of ``keys`` answered "not found" before: one query."""
        keys = list(dict.fromkeys(str(k) for k in keys))
        found: set[str] = set()
        with self.engine.connect() as conn:
            for chunk in chunks(keys):
                found.update(conn.execute(_GONE, {"keys": chunk}).scalars())
        return found

    # -- listing walks -----------------------------------------------------------

    def unfinished_walks(self, sections: Iterable[str]) -> dict[str, set[str]]:
        """For each of ``sections`` whose last listing walk did not end: the keys of the deepest page it fetched."""
        query = select(listing_walks.c.section, listing_walks.c.last_keys).where(
            listing_walks.c.section.in_(list(sections)), listing_walks.c.state == "walking"
        )
        with self.engine.connect() as conn:
            return {section: set(json.loads(keys or "[]")) for section, keys in conn.execute(query)}

    def walk_reached(self, section: str, pages: int, last_keys: Iterable[str], *, done: bool = False) -> None:
        """The listing walk of ``section`` fetched ``pages`` pages, the deepest holding ``last_keys`` (and ended,
        when ``done``)."""
        now = utc_now()
        state = "done" if done else "walking"
        keys = json.dumps(sorted(last_keys))
        statement = self.insert(listing_walks).values(section=section, state=state, pages=pages, last_keys=keys,
                                                       started_at=now, updated_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=[listing_walks.c.section],
            set_={"state": state, "pages": pages, "last_keys": keys, "updated_at": now},
        )
        with self.write_transaction() as conn:
            conn.execute(statement)


_GONE = select(frontier.c.article_key).where(
    frontier.c.article_key.in_(bindparam("keys", expanding=True)), frontier.c.state == GONE
)


def clear_frontier(conn: Connection, keys: list[str]) -> None:
    """These articles leave the frontier (stored, or left out on purpose), in the transaction of ``conn``."""
    for chunk in chunks(keys):
        conn.execute(frontier.delete().where(frontier.c.article_key.in_(chunk)))
