"""Store: read and write articles in SQLite or PostgreSQL through SQLAlchemy Core.

Every value goes in as a bound parameter. Writes come in batches, one
transaction each: a crash loses at most the batch being written, never a
committed row, never half a row. Two crawls writing to one database at once
are safe: unique keys decide, and a writer that loses a race updates the
row the other one inserted.

(One module, one class: every statement the crawl sends to the database, so
that what is read and written, and in which transaction, is seen in one place.
The tables are ``schema.py``'s; the keys compared are ``keys.py``'s.)
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import and_, bindparam, case, create_engine, event, func, literal, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError

from newscrawl import credentials
from newscrawl.items import ARTICLE_FIELDS
from newscrawl.identity.keys import MIN_BODY_WORDS, ArticleKey, StoryKeys, story_keys, titles_agree
from newscrawl.identity import similarity
from newscrawl.store.schema import (
    MIGRATIONS, SCHEMA_VERSION, TITLE_KEY_INDEXED, TITLE_KEY_PREFIX, aliases, articles, body_bands, frontier,
    listing_walks, metadata, rejected, schema_info,
)

logger = logging.getLogger(__name__)

#: States of the frontier (see ``schema.frontier``).
PENDING, FAILED, GONE = "pending", "failed", "gone"


def engine_url(url: str) -> str:
    """Our URL forms to SQLAlchemy's: ``postgresql://`` uses psycopg 3."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (``None`` for another database or an in-memory one)."""
    try:
        sa_url = make_url(engine_url(url))
    except Exception:  # noqa: BLE001 - any unparseable URL is no SQLite file
        return None
    if sa_url.get_backend_name() != "sqlite" or not sa_url.database or sa_url.database == ":memory:":
        return None
    return Path(sa_url.database).expanduser()


def safe_url(url: str) -> str:
    """The URL with every password hidden (user part and query string: ``newscrawl.credentials``), for logs."""
    return credentials.mask(url)


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


_UNKNOWN = object()


@dataclass(frozen=True, slots=True)
class Match:
    """A stored article that an item is (the same key) or repeats (the same story), and why."""

    article_id: int
    url: str
    article_key: str | None
    reason: str  # "article" (same key, or same URL), "alias", "source_url", "title_and_date", "body", "similar_body"


@dataclass(slots=True)
class Verdict:
    """What the deduplication decided for an item, handed to the store with it (the item's ``story`` field).

    ``match``: the stored row the item *is* (same key: update it) or *repeats* (alias of it), ``None`` for
    a new article. ``alias_of``: the key of an article of this run the item repeats (it may not be
    written yet: it comes earlier in the same or a previous batch). ``checked``: ``match`` was looked
    up, so the store need not look again.
    """

    keys: StoryKeys
    match: Match | None = None
    alias_of: str | None = None
    reason: str = ""
    checked: bool = False

    @property
    def is_alias(self) -> bool:
        return self.alias_of is not None or (self.match is not None and self.match.reason != "article")


@dataclass(frozen=True, slots=True)
class DueArticle:
    """An article of the frontier that the next crawl fetches first."""

    key: ArticleKey
    url: str
    state: str
    attempts: int


class Store:
    def __init__(self, url: str, *, create: bool = True, min_body_words: int = MIN_BODY_WORDS):
        self.url = url
        self.min_body_words = min_body_words
        self.engine: Engine = _make_engine(url)
        self.dialect = self.engine.dialect.name
        self._insert = sqlite_insert if self.dialect == "sqlite" else pg_insert  # INSERT … ON CONFLICT of the dialect
        if create:
            self.ensure_schema()

    def __repr__(self) -> str:
        return f"Store({safe_url(self.url)!r})"

    def keys_of(self, item: Mapping[str, Any]) -> StoryKeys:
        """The item's keys: the deduplication's, when it computed them, else computed here."""
        verdict = item.get("story")
        return verdict.keys if verdict is not None else story_keys(item, self.min_body_words)

    # -- schema -------------------------------------------------------------

    def ensure_schema(self) -> None:
        """Create the tables on first use; bring an older schema up to ``SCHEMA_VERSION``."""
        with self._write_transaction() as conn:
            if self.dialect == "postgresql":
                # Two crawls starting together must not both create the tables.
                conn.execute(text("SELECT pg_advisory_xact_lock(7011965)"))
            metadata.create_all(conn, checkfirst=True)
            current = conn.execute(select(func.max(schema_info.c.version))).scalar()
            if current is None:
                conn.execute(schema_info.insert().values(version=SCHEMA_VERSION, applied_at=_now()))
                return
            for version in range(current + 1, SCHEMA_VERSION + 1):
                logger.info("Migrating %s to schema version %d", self, version)
                for step in MIGRATIONS.get(version, []):
                    if callable(step):
                        step(conn)
                    else:
                        conn.execute(text(step))
                conn.execute(schema_info.insert().values(version=version, applied_at=_now()))

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(schema_info.c.version))).scalar() or 0

    # -- reads --------------------------------------------------------------

    def known_keys(self, keys: Iterable[str | ArticleKey]) -> dict[str, str | None]:
        """Which of ``keys`` (Maghress article keys) are stored, as articles or aliases: one query.

        Maps each stored key to the key of the Maghress headline it was stored
        with (``None`` for an alias), so a re-crawl can see an edited headline.
        """
        keys = list(dict.fromkeys(str(k) for k in keys))
        if not keys:
            return {}
        found: dict[str, str | None] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(keys):
                found.update(conn.execute(_KNOWN, {"keys": chunk}).all())
        return found

    def publisher_owner(self, publisher_key: str) -> tuple[str, str | None] | None:
        """``(URL, headline key)`` of the stored article whose publisher page has ``publisher_key``, if any."""
        if not publisher_key:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(_OWNER, {"key": publisher_key}).first()
        return (row.url, row.title_key) if row else None

    def find_match(self, item: Mapping[str, Any], keys: StoryKeys | None = None) -> Match | None:
        """The stored article ``item`` is (same key) or repeats (same publisher URL, headline and day, body)."""
        with self.engine.connect() as conn:
            return self._find_match(conn, item, keys or self.keys_of(item))

    def _find_match(self, conn: Connection, item: Mapping[str, Any], keys: StoryKeys) -> Match | None:
        """One indexed query for the exact keys, a second (LSH bands) only when none matched."""
        params = {
            "url": item.get("url"),
            "article_key": keys.article,
            "source_key": keys.publisher,
            "title_key": keys.title,
            "title_prefix": (keys.title or "")[:TITLE_KEY_INDEXED] or None,
            "published_date": keys.day,
            "source": keys.source,
            "content_hash": keys.body,
        }
        ranked = []
        for row in conn.execute(_MATCH, params).all():
            reason = self._reason(row, params, keys)
            if reason is not None:
                ranked.append((*reason, row))
        if ranked:
            _, why, row = min(ranked, key=lambda t: (t[0], t[2].id))
            return Match(row.id, row.url, row.article_key, why)
        return self._similar_body(conn, item, keys)

    @staticmethod
    def _reason(row, params: dict[str, Any], keys: StoryKeys) -> tuple[int, str] | None:
        """Why a stored row matched, strongest first: this article, an alias of it, the publisher URL,
        headline and day, body. ``None`` when it only shares a publisher URL under another headline."""
        if (keys.article and row.article_key == keys.article) or row.url == params["url"]:
            return 0, "article"
        if row.via_alias:
            return 1, "alias"
        if keys.publisher and row.source_key == keys.publisher:
            if titles_agree(row.title_key, keys.title):
                return 2, "source_url"
            # One publisher URL, two different headlines: not one story (keys.titles_agree), and that URL
            # is no identity for this article.
            keys.publisher_conflict = row.url
            keys.forget_publisher()
        if keys.title and row.title_key == keys.title and row.published_date == keys.day and row.source == keys.source:
            return 3, "title_and_date"
        if keys.body and row.content_hash == keys.body:
            return 4, "body"
        return None

    def _similar_body(self, conn: Connection, item: Mapping[str, Any], keys: StoryKeys) -> Match | None:
        sig = keys.signature()
        if sig is None:
            return None
        params = dict(zip(_BAND_PARAMS, keys.bands()), url=item.get("url"))
        candidates = conn.execute(_SIMILAR, params).all()
        best = max(
            ((similarity.similarity(sig, similarity.from_bytes(c.body_minhash)), c) for c in candidates if c.body_minhash),
            default=None,
            key=lambda pair: pair[0],
        )
        if best and best[0] >= similarity.THRESHOLD:
            return Match(best[1].id, best[1].url, best[1].article_key, "similar_body")
        return None

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(articles)).scalar_one()

    def iter_articles(
        self,
        *,
        since: date | None = None,
        until: date | None = None,
        source: str | None = None,
        language: str | None = None,
        batch: int = 1000,
    ) -> Iterator[dict[str, Any]]:
        """Stored articles as item dicts (``ARTICLE_FIELDS``), oldest first, streamed."""
        query = select(*(articles.c[f] for f in ARTICLE_FIELDS)).order_by(
            articles.c.published_date, articles.c.id
        )
        if since:
            query = query.where(articles.c.published_date >= since)
        if until:
            query = query.where(articles.c.published_date <= until)
        if source:
            query = query.where(articles.c.source == source)
        if language:
            query = query.where(articles.c.language == language)
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
            for row in result.mappings():
                yield _row_to_item(row)

    def aliases_of(self, url: str) -> list[str]:
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(aliases.c.url)
                    .join(articles, aliases.c.article_id == articles.c.id)
                    .where(articles.c.url == url)
                    .order_by(aliases.c.url)
                ).scalars()
            )

    # -- the frontier ---------------------------------------------------------

    def frontier_seen(self, seen: Iterable[tuple[ArticleKey, str]]) -> None:
        """Record articles about to be fetched as ``pending`` (those already in the frontier keep their state)."""
        now = _now()
        rows = {str(key): {"article_key": str(key), "section": key.section, "maghress_id": key.maghress_id,
                           "url": url, "state": PENDING, "attempts": 0, "first_seen": now} for key, url in seen}
        if not rows:
            return
        with self._write_transaction() as conn:
            conn.execute(self._insert(frontier).on_conflict_do_nothing(), list(rows.values()))

    def frontier_failed(self, key: ArticleKey, url: str, reason: str) -> int:
        """An article's page failed (or gave nothing storable): one more attempt counted; returns the attempts."""
        now = _now()
        statement = self._insert(frontier).values(
            article_key=str(key), section=key.section, maghress_id=key.maghress_id, url=url, state=FAILED,
            attempts=1, last_error=reason[:1000], first_seen=now, last_tried=now,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[frontier.c.article_key],
            set_={"state": FAILED, "attempts": frontier.c.attempts + 1, "last_error": reason[:1000], "last_tried": now},
        ).returning(frontier.c.attempts)
        with self._write_transaction() as conn:
            return conn.execute(statement).scalar_one()

    def frontier_gone(self, key: ArticleKey, url: str, status: int) -> None:
        """An article answered "not found" (404, 410, or sent away from any article): not asked again."""
        now = _now()
        statement = self._insert(frontier).values(
            article_key=str(key), section=key.section, maghress_id=key.maghress_id, url=url, state=GONE,
            attempts=1, last_error=f"HTTP {status}", first_seen=now, last_tried=now,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[frontier.c.article_key],
            set_={"state": GONE, "attempts": frontier.c.attempts + 1, "last_error": f"HTTP {status}", "last_tried": now},
        )
        with self._write_transaction() as conn:
            conn.execute(statement)

    def frontier_clear(self, keys: Iterable[str | ArticleKey]) -> None:
        """These articles need no fetch any more (left out on purpose, e.g. older than ``since``)."""
        keys = [str(k) for k in keys]
        if keys:
            with self._write_transaction() as conn:
                _clear_frontier(conn, keys)

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
            for chunk in _chunks(keys):
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
        now = _now()
        state = "done" if done else "walking"
        keys = json.dumps(sorted(last_keys))
        statement = self._insert(listing_walks).values(section=section, state=state, pages=pages, last_keys=keys,
                                                       started_at=now, updated_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=[listing_walks.c.section],
            set_={"state": state, "pages": pages, "last_keys": keys, "updated_at": now},
        )
        with self._write_transaction() as conn:
            conn.execute(statement)

    # -- writes -------------------------------------------------------------

    def write(self, items: Iterable[Mapping[str, Any]]) -> dict[str, int]:
        """Write a batch in one transaction; return counts of ``inserted``, ``updated``, ``aliased``.

        An item whose ``story`` verdict names another article (``alias_of`` a
        key of this run, or a stored ``match`` of another story) is written as
        an alias of it; the others are upserted. Every key written leaves the
        frontier in the same transaction.
        """
        counts = {"inserted": 0, "updated": 0, "aliased": 0}
        items = list(items)
        if not items:
            return counts
        with self._write_transaction() as conn:
            written = []
            for item in items:
                counts[self._write_one(conn, item)] += 1
                written.append(self.keys_of(item).article)
            _clear_frontier(conn, [k for k in written if k])
        return counts

    def _write_one(self, conn: Connection, item: Mapping[str, Any]) -> str:
        verdict = item.get("story")
        if verdict is not None and verdict.is_alias:
            match = verdict.match
            target = match.article_id if match is not None and match.reason != "article" else None
            if target is None:
                target = conn.execute(_ARTICLE_OF_KEY, {"key": verdict.alias_of}).scalar()
            if target is not None and conn.execute(_KEY_OF_ID, {"id": target}).scalar() == verdict.keys.article:
                target = None  # the story's row is this very article: an update, not an alias
                verdict = Verdict(verdict.keys)
            if target is not None:
                self._add_alias(conn, item, target, verdict.reason or (verdict.match.reason if verdict.match else ""))
                conn.execute(update(articles).where(articles.c.id == target).values(last_seen=_now()))
                return "aliased"
            if verdict.is_alias:
                # The article it repeats was never written (refused by the database): this one stands alone.
                logger.warning("%s repeats %s, which is not stored: stored as an article of its own",
                               item.get("url"), verdict.alias_of)
                verdict = Verdict(verdict.keys)
        return self._upsert(conn, item, verdict)

    def _upsert(self, conn: Connection, item: Mapping[str, Any], verdict: Verdict | None) -> str:
        keys = verdict.keys if verdict is not None else self.keys_of(item)
        now = _now()
        # Looked up moments ago by the deduplication? Then trust it: a race with another writer on the same
        # key or publisher URL still ends in the unique keys and ON CONFLICT below, then a fresh lookup.
        match = verdict.match if verdict is not None and verdict.checked else _UNKNOWN
        if match is _UNKNOWN:
            match = self._find_match(conn, item, keys)
        values = _item_to_row(item, keys)
        if match is None:
            statement = _INSERT_SQLITE if self.dialect == "sqlite" else _INSERT_PG
            inserted = conn.execute(statement, {**values, "first_seen": now, "last_seen": now}).first()
            if inserted is not None:
                self._write_bands(conn, inserted.id, keys, replace=False)
                return "inserted"
            # Another writer stored it between our lookup and our insert.
            match = self._find_match(conn, item, keys)
            if match is None:
                raise RuntimeError(f"insert of {item.get('url')} conflicted with no matching row")
        if match.reason != "article":
            # The same story under another key: keep this one as an alias.
            self._add_alias(conn, item, match.article_id, match.reason)
            conn.execute(update(articles).where(articles.c.id == match.article_id).values(last_seen=now))
            return "aliased"
        changes = {k: v for k, v in values.items() if v not in (None, "", "[]")}
        for unique in ("source_key", "url", "article_key"):
            # Never steal another row's unique value (that row stays its owner).
            if changes.get(unique):
                owner = conn.execute(
                    select(articles.c.id).where(articles.c[unique] == changes[unique], articles.c.id != match.article_id)
                ).first()
                if owner:
                    del changes[unique]
        conn.execute(update(articles).where(articles.c.id == match.article_id).values(**changes, last_seen=now))
        if changes.get("body_minhash"):
            self._write_bands(conn, match.article_id, keys, replace=True)
        return "updated"

    def _write_bands(self, conn: Connection, article_id: int, keys: StoryKeys, replace: bool) -> None:
        sig = keys.signature()
        if replace:
            conn.execute(body_bands.delete().where(body_bands.c.article_id == article_id))
        if sig is not None:
            conn.execute(body_bands.insert(), [{"band": b, "article_id": article_id} for b in keys.bands()])

    def _add_alias(self, conn: Connection, item: Mapping[str, Any], article_id: int, reason: str) -> None:
        conn.execute(
            self._insert(aliases)
            .values(url=item.get("url"), article_key=self.keys_of(item).article, article_id=article_id, reason=reason,
                    first_seen=_now())
            .on_conflict_do_nothing()
        )

    def reject(self, item: Mapping[str, Any], error: BaseException | str) -> None:
        """Keep an item the database refused in ``rejected_articles``; its article stays in the frontier (failed)."""
        message = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
        message = message.splitlines()[0][:2000] if message else "refused"
        keys = self.keys_of(item)
        payload = json.dumps({k: v for k, v in item.items() if k != "story"}, ensure_ascii=False, default=str)
        # The refused text may hold what the database refused (NUL in PostgreSQL): kept escaped in the JSON.
        with self._write_transaction() as conn:
            conn.execute(rejected.insert().values(article_key=keys.article, url=item.get("url"), item=payload,
                                                  error=message, rejected_at=_now()))
        if keys.article:
            self.frontier_failed(ArticleKey.parse(keys.article), item.get("url") or "", f"database refused: {message}")

    def rejected_count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(rejected)).scalar_one()

    # -- status -------------------------------------------------------------

    def status(self, max_attempts: int, reasons: int = 3) -> dict[str, dict[str, Any]]:
        """Per source: stored, aliases, pending, failed (retried / given up, last reasons), gone, rejected."""
        out: dict[str, dict[str, Any]] = {}

        def entry(section: str) -> dict[str, Any]:
            return out.setdefault(section, {"stored": 0, "aliases": 0, "pending": 0, "failed": 0, "given_up": 0,
                                            "gone": 0, "rejected": 0, "reasons": []})

        with self.engine.connect() as conn:
            _snapshot(conn)  # the counts below of one state of the store, while a crawl writes
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
        return out

    def _write_transaction(self):
        return _RetryingTransaction(self.engine)

    def close(self) -> None:
        self.engine.dispose()


class _RetryingTransaction:
    """``engine.begin()`` for writing, retried when SQLite stays locked past its busy timeout.

    On SQLite the transaction is opened with BEGIN IMMEDIATE: it takes the write lock up front, so two
    crawls queue on it (busy_timeout) instead of failing with "database is locked" mid-batch.
    """

    def __init__(self, engine: Engine):
        self.engine = engine

    def __enter__(self) -> Connection:
        for attempt in range(5):
            try:
                return self._begin()
            except OperationalError as exc:
                # Locked past the busy timeout: at BEGIN IMMEDIATE, or when a new connection sets its pragmas.
                if "locked" not in str(exc) or attempt == 4:
                    raise
                time.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")

    def _begin(self) -> Connection:
        ctx = self.engine.begin()
        conn = ctx.__enter__()
        try:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException as exc:
            ctx.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self._ctx = ctx
        return conn

    def __exit__(self, *exc_info) -> bool | None:
        return self._ctx.__exit__(*exc_info)


# Statements of the hot paths, built once (SQLAlchemy then reuses their compiled form).
_INSERT_SQLITE = sqlite_insert(articles).on_conflict_do_nothing().returning(articles.c.id)
_INSERT_PG = pg_insert(articles).on_conflict_do_nothing().returning(articles.c.id)
_VIA_ALIAS = articles.c.id.in_(select(aliases.c.article_id).where(aliases.c.article_key == bindparam("article_key")))
_MATCH = (
    select(articles.c.id, articles.c.url, articles.c.article_key, articles.c.source_key, articles.c.title_key,
           articles.c.published_date, articles.c.source, articles.c.content_hash, _VIA_ALIAS.label("via_alias"))
    .where(
        or_(
            articles.c.article_key == bindparam("article_key"),
            articles.c.url == bindparam("url"),
            _VIA_ALIAS,
            articles.c.source_key == bindparam("source_key"),
            and_(TITLE_KEY_PREFIX == bindparam("title_prefix"), articles.c.title_key == bindparam("title_key"),
                 articles.c.published_date == bindparam("published_date"),
                 articles.c.source == bindparam("source")),
            articles.c.content_hash == bindparam("content_hash"),
        )
    )
    .limit(20)
)
# One bind parameter per band (there are always BANDS): an "expanding" IN list would make SQLAlchemy render
# the statement anew on every execution.
_BAND_PARAMS = tuple(f"band_{i}" for i in range(similarity.BANDS))
_SIMILAR = (
    select(articles.c.id, articles.c.url, articles.c.article_key, articles.c.body_minhash)
    .where(articles.c.id.in_(select(body_bands.c.article_id).where(
        body_bands.c.band.in_([bindparam(name) for name in _BAND_PARAMS]))))
    .where(articles.c.url != bindparam("url"))
    .limit(50)
)
_KNOWN = select(articles.c.article_key, articles.c.headline_key).where(
    articles.c.article_key.in_(bindparam("keys", expanding=True))
).union_all(
    select(aliases.c.article_key, literal(None).label("headline_key")).where(
        aliases.c.article_key.in_(bindparam("keys", expanding=True))
    )
)
# The article a key names: its own row, or the row it is an alias of.
_ARTICLE_OF_KEY = select(articles.c.id).where(articles.c.article_key == bindparam("key")).union_all(
    select(aliases.c.article_id).where(aliases.c.article_key == bindparam("key"))
).limit(1)
_KEY_OF_ID = select(articles.c.article_key).where(articles.c.id == bindparam("id"))
_OWNER = select(articles.c.url, articles.c.title_key).where(articles.c.source_key == bindparam("key"))
_GONE = select(frontier.c.article_key).where(
    frontier.c.article_key.in_(bindparam("keys", expanding=True)), frontier.c.state == GONE
)


def _snapshot(conn: Connection) -> None:
    """Several reads on ``conn`` see one state of the store (on SQLite, a read transaction; PostgreSQL's
    reads are left as they were, in the connection's own transaction)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")


def _clear_frontier(conn: Connection, keys: list[str]) -> None:
    for chunk in _chunks(keys):
        conn.execute(frontier.delete().where(frontier.c.article_key.in_(chunk)))


def _chunks(values: list, size: int = 500) -> Iterator[list]:
    """Lists of at most ``size``: an IN list stays under SQLite's limit on bound parameters."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _make_engine(url: str) -> Engine:
    sa_url = make_url(engine_url(url))
    if sa_url.get_backend_name() == "sqlite":
        if sa_url.database and sa_url.database != ":memory:":
            Path(sa_url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(sa_url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):
            # pysqlite issues no BEGIN of its own (it would before each INSERT, deferred): the store begins its
            # transactions itself. WAL lets readers and a writer overlap.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.close()

        # No "begin" listener: pysqlite then runs each statement on its own (a lookup is one SELECT, one
        # consistent snapshot), and the transactions that matter begin explicitly (_RetryingTransaction,
        # _snapshot). An engine-level listener would also route every statement through SQLAlchemy's event
        # dispatch: measured, a third of the cost of the crawl's lookups.
        return engine
    return create_engine(sa_url, pool_pre_ping=True)


def _item_to_row(item: Mapping[str, Any], keys: StoryKeys) -> dict[str, Any]:
    row = {field: item.get(field) for field in ARTICLE_FIELDS}  # the exported fields only
    row["authors"] = json.dumps(list(item.get("authors") or []), ensure_ascii=False)
    row["published_date"] = keys.day
    row["content_hash"] = keys.body
    row["title_key"] = keys.title
    row["headline_key"] = keys.headline
    row["source_key"] = keys.publisher
    row["article_key"] = keys.article
    sig = keys.signature()
    row["body_minhash"] = similarity.to_bytes(sig) if sig is not None else None
    return row


def _row_to_item(row: Mapping[str, Any]) -> dict[str, Any]:
    item = {field: row[field] for field in ARTICLE_FIELDS}
    item["authors"] = json.loads(item["authors"]) if item["authors"] else []
    if isinstance(item["published_date"], date):
        item["published_date"] = item["published_date"].isoformat()
    return item


def database_url(url: str | None, url_file: str | None = None) -> str:
    """The database URL: read from ``url_file`` when one is given (a secret kept out of arguments), else ``url``."""
    if url_file:
        try:
            text = Path(url_file).expanduser().read_text("utf-8").strip()
        except OSError as exc:
            raise ValueError(f"NEWSCRAWL_DATABASE_URL_FILE={url_file!r}: {exc.strerror or exc}") from None
        if not text:
            raise ValueError(f"NEWSCRAWL_DATABASE_URL_FILE={url_file!r} is empty")
        return text.splitlines()[0].strip()
    if not url:
        raise ValueError("no database: set NEWSCRAWL_DATABASE_URL or NEWSCRAWL_DATABASE_URL_FILE")
    return url


def store_for(crawler) -> Store:
    """The crawl's one ``Store`` (spider and pipelines share it), opened on first use."""
    store = getattr(crawler, "_newscrawl_store", None)
    if store is None:
        settings = crawler.settings
        url = database_url(settings.get("NEWSCRAWL_DATABASE_URL"), settings.get("NEWSCRAWL_DATABASE_URL_FILE"))
        store = Store(url, min_body_words=settings.getint("NEWSCRAWL_MIN_BODY_WORDS", MIN_BODY_WORDS))
        crawler._newscrawl_store = store
        logger.info("Article store: %s", safe_url(store.url))
    return store
