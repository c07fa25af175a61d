"""Store: read and write articles in SQLite or PostgreSQL through SQLAlchemy Core.

Every value goes in as a bound parameter. Writes come in batches, one
transaction each: a crash loses at most the batch being written, never a
committed row, never half a row. Two crawls writing to one database at once
are safe: unique keys decide, and a writer that loses a race updates the
row the other one inserted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import and_, bindparam, create_engine, event, func, literal, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError

from newscrawl.items import ARTICLE_FIELDS
from newscrawl.normalize import canonical_key, title_key
from newscrawl.store import similarity
from newscrawl.store.schema import (
    MIGRATIONS, SCHEMA_VERSION, aliases, articles, body_bands, metadata, missing_articles, schema_info,
)

logger = logging.getLogger(__name__)


def engine_url(url: str) -> str:
    """Our URL forms to SQLAlchemy's: ``postgresql://`` uses psycopg 3."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def safe_url(url: str) -> str:
    """The URL with its password hidden, for logs and stats."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def content_hash(body: str | None) -> str | None:
    return hashlib.sha1(body.encode("utf-8")).hexdigest() if body else None


_UNKNOWN = object()


@dataclass(frozen=True, slots=True)
class Match:
    """A stored article that an item is the same story as, and why."""

    article_id: int
    url: str
    reason: str  # "url", "alias", "source_url", "title_and_date", "body"


class Store:
    def __init__(self, url: str, *, create: bool = True):
        self.url = url
        self.engine: Engine = _make_engine(url)
        # Connections for writing: on SQLite they take the write lock at BEGIN.
        self.write_engine = self.engine.execution_options(newscrawl_write=True)
        self.dialect = self.engine.dialect.name
        self._insert = sqlite_insert if self.dialect == "sqlite" else pg_insert  # INSERT … ON CONFLICT of the dialect
        # (alias URL, URL of the article it repeats, reason), written with the next batch.
        self.pending_aliases: list[tuple[str, str, str]] = []
        # URL -> the answer find_match gave for it, until the item is written.
        self._checked: dict[str, Match | None] = {}
        if create:
            self.ensure_schema()

    def __repr__(self) -> str:
        return f"Store({safe_url(self.url)!r})"

    # -- schema -------------------------------------------------------------

    def ensure_schema(self) -> None:
        """Create the tables on first use; bring an older schema up to ``SCHEMA_VERSION``."""
        with self.write_engine.begin() as conn:
            if self.dialect == "postgresql":
                # Two crawls starting together must not both create the tables.
                conn.execute(text("SELECT pg_advisory_xact_lock(7011965)"))
            metadata.create_all(conn, checkfirst=True)
            current = conn.execute(select(func.max(schema_info.c.version))).scalar()
            if current is None:
                conn.execute(schema_info.insert().values(version=SCHEMA_VERSION, applied_at=_now()))
                return
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS.get(version, []):
                    conn.execute(text(statement))
                conn.execute(schema_info.insert().values(version=version, applied_at=_now()))

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(schema_info.c.version))).scalar() or 0

    # -- reads --------------------------------------------------------------

    def known_urls(self, urls: Iterable[str]) -> dict[str, str | None]:
        """Which of ``urls`` (Maghress article URLs) are stored, as articles or aliases: one query.

        Maps each stored URL to the key of the Maghress headline it was stored
        with (``None`` for an alias), so a re-crawl can see an edited headline.
        """
        urls = list(dict.fromkeys(urls))
        if not urls:
            return {}
        with self.engine.connect() as conn:
            return {url: key for url, key in conn.execute(_KNOWN, {"urls": urls})}

    def missing_urls(self, urls: Iterable[str]) -> set[str]:
        """Which of ``urls`` a back-catalogue crawl found missing ("not found") before: one query."""
        urls = list(dict.fromkeys(urls))
        if not urls:
            return set()
        with self.engine.connect() as conn:
            return set(conn.execute(_MISSING, {"urls": urls}).scalars())

    def record_missing(self, url: str, source: str, maghress_id: int, status: int) -> None:
        """Remember that ``url`` answered ``status`` (404, 410), so later back-catalogue runs skip it."""
        now = _now()
        statement = self._insert(missing_articles).values(
            url=url, source=source, maghress_id=maghress_id, status=status, first_seen=now, last_checked=now
        )
        statement = statement.on_conflict_do_update(
            index_elements=[missing_articles.c.url], set_={"status": status, "last_checked": now}
        )
        with self._write_transaction() as conn:
            conn.execute(statement)

    def find_match(self, item: Mapping[str, Any]) -> Match | None:
        """The stored article ``item`` is the same story as, by URL, alias, publisher URL, title+date or body.

        The answer is remembered until the item is written, so that writing it
        does not look it up a second time (the deduplication pipeline asks
        first, the store pipeline writes a few seconds later).
        """
        with self.engine.connect() as conn:
            match = self._find_match(conn, item)
        if len(self._checked) > 10_000:
            self._checked.clear()  # items looked up and never written (dropped later): forget them
        self._checked[item.get("url")] = match
        return match

    def _find_match(self, conn: Connection, item: Mapping[str, Any]) -> Match | None:
        """One indexed query for the exact keys, a second (LSH bands) only when none matched."""
        url = item.get("url")
        keys = {
            "url": url,
            "source_key": canonical_key(item.get("source_url")) or None,
            "title_key": title_key(item.get("title")) or None,
            "published_date": _as_date(item.get("published_date")),
            "source": item.get("source"),
            "content_hash": content_hash(item.get("body")),
        }
        rows = conn.execute(_MATCH, keys).all()
        if rows:
            # The strongest reason wins: this URL, an alias of it, the publisher URL, headline and day, body.
            def reason(row) -> tuple[int, str]:
                if row.url == url:
                    return 0, "url"
                if keys["source_key"] and row.source_key == keys["source_key"]:
                    return 2, "source_url"
                if (keys["title_key"] and row.title_key == keys["title_key"] and row.published_date == keys["published_date"]
                        and row.source == keys["source"]):
                    return 3, "title_and_date"
                if keys["content_hash"] and row.content_hash == keys["content_hash"]:
                    return 4, "body"
                return 1, "alias"  # matched through article_aliases

            rank, why, row = min((reason(r) + (r,) for r in rows), key=lambda t: (t[0], t[2].id))
            return Match(row.id, row.url, why)
        return self._similar_body(conn, item)

    def _similar_body(self, conn: Connection, item: Mapping[str, Any]) -> Match | None:
        sig = _signature(item)
        if sig is None:
            return None
        candidates = conn.execute(_SIMILAR, {"bands": similarity.bands(sig), "url": item.get("url")}).all()
        best = max(
            ((similarity.similarity(sig, similarity.from_bytes(c.body_minhash)), c) for c in candidates if c.body_minhash),
            default=None,
            key=lambda pair: pair[0],
        )
        if best and best[0] >= similarity.THRESHOLD:
            return Match(best[1].id, best[1].url, "similar_body")
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

    # -- writes -------------------------------------------------------------

    def write(self, items: Iterable[Mapping[str, Any]]) -> dict[str, int]:
        """Upsert a batch in one transaction; return counts of ``inserted``, ``updated``, ``aliased``."""
        counts = {"inserted": 0, "updated": 0, "aliased": 0}
        items = list(items)
        pending = list(self.pending_aliases)
        if not items and not pending:
            return counts
        with self._write_transaction() as conn:
            for item in items:
                counts[self._upsert(conn, item)] += 1
            for url, of_url, reason in pending:
                article_id = conn.execute(select(articles.c.id).where(articles.c.url == of_url)).scalar()
                if article_id is None:
                    logger.warning("Alias %s names %s, which is not stored", url, of_url)
                    continue
                self._add_alias(conn, url, article_id, reason)
                counts["aliased"] += 1
        del self.pending_aliases[: len(pending)]
        return counts

    def queue_alias(self, url: str, of_url: str, reason: str) -> None:
        """Record ``url`` as another URL of the article at ``of_url``, with the next write."""
        self.pending_aliases.append((url, of_url, reason))

    def _upsert(self, conn: Connection, item: Mapping[str, Any]) -> str:
        values = _item_to_row(item)
        now = _now()
        # Looked up moments ago (find_match)? Then trust it: a race with another writer on the same URL or
        # publisher URL still ends in the unique keys and ON CONFLICT below, then a fresh lookup.
        match = self._checked.pop(values["url"], _UNKNOWN)
        if match is _UNKNOWN:
            match = self._find_match(conn, item)
        if match is None:
            statement = _INSERT_SQLITE if self.dialect == "sqlite" else _INSERT_PG
            inserted = conn.execute(statement, {**values, "first_seen": now, "last_seen": now}).first()
            if inserted is not None:
                self._write_bands(conn, inserted.id, item, replace=False)
                return "inserted"
            # Another writer stored it between our lookup and our insert.
            match = self._find_match(conn, item)
            if match is None:  # pragma: no cover - a conflict we cannot name
                raise RuntimeError(f"insert of {item.get('url')} conflicted with no matching row")
        if match.url != values["url"]:
            # The same story under another URL: keep that URL as an alias.
            self._add_alias(conn, values["url"], match.article_id, match.reason)
            conn.execute(update(articles).where(articles.c.id == match.article_id).values(last_seen=now))
            return "aliased"
        changes = {k: v for k, v in values.items() if k != "url" and v not in (None, "", "[]")}
        if changes.get("source_key"):
            # Never steal another row's publisher key (that row stays the owner of it).
            owner = conn.execute(
                select(articles.c.id).where(
                    articles.c.source_key == changes["source_key"], articles.c.id != match.article_id
                )
            ).first()
            if owner:
                del changes["source_key"]
        conn.execute(update(articles).where(articles.c.id == match.article_id).values(**changes, last_seen=now))
        if changes.get("body_minhash"):
            self._write_bands(conn, match.article_id, item, replace=True)
        return "updated"

    def _write_bands(self, conn: Connection, article_id: int, item: Mapping[str, Any], replace: bool) -> None:
        sig = _signature(item)
        if replace:
            conn.execute(body_bands.delete().where(body_bands.c.article_id == article_id))
        if sig is not None:
            conn.execute(body_bands.insert(), [{"band": b, "article_id": article_id} for b in similarity.bands(sig)])

    def _add_alias(self, conn: Connection, url: str, article_id: int, reason: str) -> None:
        conn.execute(
            self._insert(aliases)
            .values(url=url, article_id=article_id, reason=reason, first_seen=_now())
            .on_conflict_do_nothing()
        )

    def _write_transaction(self):
        return _RetryingTransaction(self.write_engine)

    def close(self) -> None:
        self.engine.dispose()


class _RetryingTransaction:
    """``engine.begin()``, retried when SQLite stays locked past its busy timeout."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def __enter__(self) -> Connection:
        for attempt in range(5):
            try:
                self._ctx = self.engine.begin()
                return self._ctx.__enter__()
            except OperationalError as exc:
                if "locked" not in str(exc) or attempt == 4:
                    raise
                time.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")

    def __exit__(self, *exc_info) -> bool | None:
        return self._ctx.__exit__(*exc_info)


# Statements of the hot paths, built once (SQLAlchemy then reuses their compiled form).
_INSERT_SQLITE = sqlite_insert(articles).on_conflict_do_nothing().returning(articles.c.id)
_INSERT_PG = pg_insert(articles).on_conflict_do_nothing().returning(articles.c.id)
_MATCH = (
    select(articles.c.id, articles.c.url, articles.c.source_key, articles.c.title_key, articles.c.published_date,
           articles.c.source, articles.c.content_hash)
    .where(
        or_(
            articles.c.url == bindparam("url"),
            articles.c.id.in_(select(aliases.c.article_id).where(aliases.c.url == bindparam("url"))),
            articles.c.source_key == bindparam("source_key"),
            and_(articles.c.title_key == bindparam("title_key"),
                 articles.c.published_date == bindparam("published_date"),
                 articles.c.source == bindparam("source")),
            articles.c.content_hash == bindparam("content_hash"),
        )
    )
    .limit(20)
)
_SIMILAR = (
    select(articles.c.id, articles.c.url, articles.c.body_minhash)
    .where(articles.c.id.in_(select(body_bands.c.article_id).where(body_bands.c.band.in_(bindparam("bands", expanding=True)))))
    .where(articles.c.url != bindparam("url"))
    .limit(50)
)
_KNOWN = select(articles.c.url, articles.c.headline_key).where(articles.c.url.in_(bindparam("urls", expanding=True))).union_all(
    select(aliases.c.url, literal(None).label("headline_key")).where(aliases.c.url.in_(bindparam("urls", expanding=True)))
)


_MISSING = select(missing_articles.c.url).where(missing_articles.c.url.in_(bindparam("urls", expanding=True)))


def _make_engine(url: str) -> Engine:
    sa_url = make_url(engine_url(url))
    if sa_url.get_backend_name() == "sqlite":
        if sa_url.database and sa_url.database != ":memory:":
            Path(sa_url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(sa_url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):
            # Let SQLAlchemy, not pysqlite, issue BEGIN; WAL lets readers and a writer overlap.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # A writer's IMMEDIATE takes the write lock up front: two crawls queue on
            # it (busy_timeout) instead of failing with "database is locked" mid-batch.
            writing = conn.get_execution_options().get("newscrawl_write")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

        return engine
    return create_engine(sa_url, pool_pre_ping=True)


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _item_to_row(item: Mapping[str, Any]) -> dict[str, Any]:
    row = {field: item.get(field) for field in ARTICLE_FIELDS}  # the exported fields only
    row["authors"] = json.dumps(list(item.get("authors") or []), ensure_ascii=False)
    row["published_date"] = _as_date(item.get("published_date"))
    row["content_hash"] = content_hash(item.get("body"))
    row["title_key"] = title_key(item.get("title")) or None
    row["headline_key"] = title_key(item.get("maghress_title") or item.get("title")) or None
    row["source_key"] = canonical_key(item.get("source_url")) or None
    sig = _signature(item)
    row["body_minhash"] = similarity.to_bytes(sig) if sig is not None else None
    return row


def _signature(item: Mapping[str, Any]):
    return similarity.signature(item.get("body"))


def _row_to_item(row: Mapping[str, Any]) -> dict[str, Any]:
    item = {field: row[field] for field in ARTICLE_FIELDS}
    item["authors"] = json.loads(item["authors"]) if item["authors"] else []
    if isinstance(item["published_date"], date):
        item["published_date"] = item["published_date"].isoformat()
    return item


def store_for(crawler) -> Store:
    """The crawl's one ``Store`` (spider and pipelines share it), opened on first use."""
    store = getattr(crawler, "_newscrawl_store", None)
    if store is None:
        store = Store(crawler.settings.get("NEWSCRAWL_DATABASE_URL"))
        crawler._newscrawl_store = store
        logger.info("Article store: %s", safe_url(store.url))
    return store
