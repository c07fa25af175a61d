"""The store's database: URLs, the engine, the schema, and transactions that survive a locked SQLite.

``Database`` is the base of ``Store`` (``database.py``): it opens the engine for a URL (SQLite by default,
PostgreSQL at scale), creates or migrates the schema (``schema.py``) and gives the other parts of the store
their write transactions.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError

from newscrawl import credentials
from newscrawl.identity.keys import MIN_BODY_WORDS, StoryKeys, story_keys
from newscrawl.store.schema import FRESH, MIGRATIONS, SCHEMA_VERSION, metadata, schema_info

logger = logging.getLogger(__name__)


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


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


class Database:
    """An open database: its engine, its dialect, its schema brought up to date."""

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

    def insert(self, table):
        """``INSERT … ON CONFLICT`` of the dialect for ``table``."""
        return self._insert(table)

    def ensure_schema(self) -> None:
        """Create the tables on first use; bring an older schema up to ``SCHEMA_VERSION``."""
        with self.write_transaction() as conn:
            if self.dialect == "postgresql":
                # Two crawls starting together must not both create the tables.
                conn.execute(text("SELECT pg_advisory_xact_lock(7011965)"))
            metadata.create_all(conn, checkfirst=True)
            current = conn.execute(select(func.max(schema_info.c.version))).scalar()
            if current is None:
                for step in FRESH:
                    step(conn)
                conn.execute(schema_info.insert().values(version=SCHEMA_VERSION, applied_at=utc_now()))
                return
            for version in range(current + 1, SCHEMA_VERSION + 1):
                logger.info("Migrating %s to schema version %d", self, version)
                for step in MIGRATIONS.get(version, []):
                    if callable(step):
                        step(conn)
                    else:
                        conn.execute(text(step))
                conn.execute(schema_info.insert().values(version=version, applied_at=utc_now()))

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(schema_info.c.version))).scalar() or 0

    def write_transaction(self):
        """A write transaction (``with store.write_transaction() as conn:``), retried while SQLite is locked."""
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


def snapshot(conn: Connection) -> None:
    """Several reads on ``conn`` see one state of the store (on SQLite, a read transaction; PostgreSQL's
    reads are left as they were, in the connection's own transaction)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")


def chunks(values: list, size: int = 500) -> Iterator[list]:
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
