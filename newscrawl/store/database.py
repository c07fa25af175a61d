"""Store: read and write articles in SQLite or PostgreSQL through SQLAlchemy Core.

Every value goes in as a bound parameter. Writes come in batches, one
transaction each: a crash loses at most the batch being written, never a
committed row, never half a row. Two crawls writing to one database at once
are safe: unique keys decide, and a writer that loses a race updates the
row the other one inserted.

``Store`` is its parts: ``engine`` (URL, engine, schema, transactions),
``articles`` (reads, writes, aliases, the candidates of a lookup), ``frontier``
(the frontier and listing walks), ``rejected`` (refused rows), ``search`` (French
full-text search and its index), ``versions`` (earlier versions of a changed article), ``revisits`` (when each article is fetched again). The tables are
``schema.py``'s; identity and "same story" are ``newscrawl.identity``'s.
"""

from __future__ import annotations

from newscrawl.store.articles import ArticleRecords
from newscrawl.store.engine import Database, database_url, engine_url, safe_url, sqlite_path
from newscrawl.store.frontier import FAILED, GONE, PENDING, DueArticle, FrontierRecords
from newscrawl.store.rejected import RejectedRecords
from newscrawl.store.revisits import DueRevisit, RevisitRecords, RevisitSchedule
from newscrawl.store.search import SearchRecords
from newscrawl.store.versions import VersionRecords

__all__ = ["FAILED", "GONE", "PENDING", "DueArticle", "DueRevisit", "RevisitSchedule", "Store", "database_url", "engine_url", "safe_url", "sqlite_path"]


class Store(ArticleRecords, FrontierRecords, RejectedRecords, RevisitRecords, SearchRecords, VersionRecords, Database):
    """The article store of one database URL: ``Store(url)`` opens it (and creates or migrates its schema)."""
