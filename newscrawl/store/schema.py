"""The database schema (SQLAlchemy Core), its version, and the migrations between versions."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import (
    BigInteger,
    LargeBinary,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    inspect,
    literal_column,
    text,
)
from sqlalchemy.engine import Connection

from newscrawl.store.search import create_search_index

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 7

metadata = MetaData()

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # The item's fields, in ARTICLE_FIELDS order.
    Column("url", Text, nullable=False, unique=True),  # as data: identity is article_key
    Column("maghress_id", BigInteger),
    Column("source", Text),
    Column("source_name", Text),
    Column("source_url", Text),
    Column("title", Text, nullable=False),
    Column("lead", Text),
    Column("body", Text),
    Column("authors", Text),  # JSON array
    Column("published_date", Date),
    Column("published_at", Text),  # ISO 8601 with the page's offset, kept as printed
    Column("language", Text),
    Column("image_url", Text),
    Column("scraped_at", Text),
    Column("extractor", Text),  # since version 2
    Column("generic_fields", Text),  # since version 2
    Column("version", Integer, nullable=False, server_default="1"),  # since version 6: 1, 2, … (article_versions)
    Column("changed_at", Text),  # since version 6: when the stored version replaced the one before
    # Bookkeeping.
    Column("first_seen", Text, nullable=False),
    Column("last_seen", Text, nullable=False),
    Column("content_hash", Text),  # sha1 of the normalised body
    Column("title_key", Text),  # normalize.title_key(title)
    Column("headline_key", Text),  # title_key of the headline as Maghress shows it (re-crawls compare it)
    Column("source_key", Text, unique=True),  # keys.publisher_key(source_url); NULL when it names no single article
    # keys.ArticleKey: "<section>/<maghress id>" from the URL path, whatever the host (since version 3).
    Column("article_key", Text),
    Column("body_minhash", LargeBinary),  # similarity.signature(body), for near-identical bodies
)
#: Characters of the title key the index holds (since version 4): a btree entry has a size limit (2704 bytes in
#: PostgreSQL), which a long headline's key passed, and then that article was refused on every run. Lookups
#: compare this prefix (indexed), then the whole key.
TITLE_KEY_INDEXED = 200
TITLE_KEY_PREFIX = func.substr(articles.c.title_key, literal_column("1"), literal_column(str(TITLE_KEY_INDEXED)))
Index("ix_articles_title_key_date", TITLE_KEY_PREFIX, articles.c.published_date)
Index("ix_articles_content_hash", articles.c.content_hash)
Index("ix_articles_published_date", articles.c.published_date)
Index("ix_articles_source", articles.c.source)
Index("ux_articles_article_key", articles.c.article_key, unique=True)

# Other URLs of a stored article: the same story republished under another
# Maghress id, or reached through another URL. Kept, never lost.
aliases = Table(
    "article_aliases",
    metadata,
    Column("url", Text, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("first_seen", Text, nullable=False),
    Column("article_key", Text),  # the alias's own Maghress key (since version 3)
)
Index("ux_article_aliases_article_key", aliases.c.article_key, unique=True)

# Earlier versions of a stored article (since version 6): what it said before its title, lead, body, authors or
# dates changed, each version as a whole, with when it was stored and when a later one replaced it.
versions = Table(
    "article_versions",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("article_key", Text),
    Column("title", Text, nullable=False),
    Column("lead", Text),
    Column("body", Text),
    Column("authors", Text),  # JSON array
    Column("published_date", Date),
    Column("published_at", Text),
    Column("source_url", Text),
    Column("content_hash", Text),  # of the normalised versioned fields (store/versions.py)
    Column("stored_at", Text, nullable=False),  # when this version became the stored one
    Column("replaced_at", Text, nullable=False),  # when the next one replaced it
)

# When each article is fetched again (since version 7; store/revisits.py): the page to fetch (its publisher page,
# or its Maghress page when it has none), the validators that page came with, when it is next due (ISO 8601 UTC;
# NULL: never again), and how its revisits went.
revisits = Table(
    "article_revisits",
    metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("article_key", Text),
    Column("kind", Text, nullable=False),  # "publisher" or "maghress"
    Column("url", Text, nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("next_due", Text, index=True),
    Column("last_fetched", Text, nullable=False),
    Column("made", Integer, nullable=False, server_default="0"),  # revisits made
    Column("not_modified", Integer, nullable=False, server_default="0"),  # ... answered 304
    Column("last_outcome", Text),  # of the last revisit: "not modified", "fetched", or why it failed ("HTTP 404")
)

# LSH bands of each article's body signature: near-duplicate candidates in one indexed query.
body_bands = Table(
    "article_body_bands",
    metadata,
    Column("band", BigInteger, nullable=False, index=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False, index=True),
)

# The frontier (since version 3): every Maghress article a crawl has seen (listing, ticker, id walk)
# and not yet stored, with what happened to it. A stored article (or alias) leaves it.
#   pending: seen, not fetched yet (or the crawl stopped before it was stored);
#   failed:  its page failed (after Scrapy's retries) or gave no storable article; tried again by the next
#            runs until ``attempts`` reaches NEWSCRAWL_MAX_ATTEMPTS, then only reported;
#   gone:    answered 404/410 (or redirected away from any article): not asked again (refresh=true asks).
frontier = Table(
    "article_frontier",
    metadata,
    Column("article_key", Text, primary_key=True),
    Column("section", Text, nullable=False),
    Column("maghress_id", BigInteger, nullable=False),
    Column("url", Text, nullable=False),  # where it was seen: the next fetch asks there
    Column("state", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("first_seen", Text, nullable=False),
    Column("last_tried", Text),
)
Index("ix_article_frontier_state", frontier.c.state, frontier.c.section)

# How far each source's listing walk got (since version 3): a walk that did not end (killed, or a listing
# page that failed) is walked again by the next run until it meets an article of the deepest page that
# walk fetched, whatever its "nothing new" stop says (new articles push the old ones down the pages).
listing_walks = Table(
    "listing_walks",
    metadata,
    Column("section", Text, primary_key=True),
    Column("state", Text, nullable=False),  # "walking" or "done"
    Column("pages", Integer, nullable=False),  # the deepest listing page the walk fetched
    Column("last_keys", Text),  # JSON: the article keys of the deepest page it fetched
    Column("started_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
)

# Rows the database refused (since version 3): the article as JSON, the error, when. The other rows of
# the batch are written; the crawl ends with a non-zero exit; `newscrawl status` shows them.
rejected = Table(
    "rejected_articles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("article_key", Text),
    Column("url", Text),
    Column("item", Text, nullable=False),  # JSON
    Column("error", Text, nullable=False),
    Column("rejected_at", Text, nullable=False),
)

schema_info = Table(
    "newscrawl_schema",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", Text, nullable=False),
)



def _fill_article_keys(conn: Connection) -> None:
    """Version 3: every stored article and alias gets the key of its URL (the oldest row of a key keeps it)."""
    from newscrawl.identity.keys import article_key

    taken: set[str] = set()
    for table in ("articles", "article_aliases"):
        id_column = "id" if table == "articles" else "url"
        order = "id" if table == "articles" else "first_seen, url"
        rows = conn.execute(text(f"SELECT {id_column}, url FROM {table} ORDER BY {order}")).all()
        updates = []
        for row_id, url in rows:
            key = article_key(url)
            if key is not None and str(key) not in taken:
                taken.add(str(key))
                updates.append({"row": row_id, "key": str(key)})
        if updates:
            conn.execute(text(f"UPDATE {table} SET article_key = :key WHERE {id_column} = :row"), updates)
        left = len(rows) - len(updates)
        if left:
            logger.warning("Schema version 3: %d rows of %s share a Maghress article with an older row (or name "
                           "none); they are kept, without a key", left, table)


def _add_version_columns(conn: Connection) -> None:
    """Version 6: every stored article is its version 1 (its earlier versions were never kept)."""
    have = {column["name"] for column in inspect(conn).get_columns("articles")}
    if "version" not in have:
        conn.execute(text("ALTER TABLE articles ADD COLUMN version INTEGER NOT NULL DEFAULT 1"))
    if "changed_at" not in have:
        conn.execute(text("ALTER TABLE articles ADD COLUMN changed_at TEXT"))


def _schedule_stored_articles(conn: Connection) -> None:
    """Version 7: stored articles young enough for a revisit by the default schedule get one (their Maghress
    page or publisher page, asked without validators: none were kept)."""
    from datetime import datetime, timezone

    from newscrawl.schedule import DEFAULT_SCHEDULE, MAGHRESS, PUBLISHER, RevisitSchedule

    schedule = RevisitSchedule.parse(DEFAULT_SCHEDULE)
    horizon = (datetime.now(timezone.utc) - max(schedule.steps)).date()  # older articles have no revisit left
    rows = conn.execute(text("SELECT id, article_key, url, source_url, extractor, published_at, published_date, "
                             "first_seen, last_seen FROM articles WHERE (published_date >= :horizon OR published_date IS NULL) "
                             "AND id NOT IN (SELECT article_id FROM article_revisits)"),
                        {"horizon": horizon}).all()
    values = []
    for row in rows:
        due = schedule.next_revisit(row.published_at, row.published_date, row.first_seen,
                                    datetime.fromisoformat(row.last_seen))
        if due is None:
            continue
        publisher = bool(row.extractor) and bool(row.source_url)
        values.append({"article_id": row.id, "article_key": row.article_key, "kind": PUBLISHER if publisher else MAGHRESS,
                       "url": row.source_url if publisher else row.url, "next_due": due.isoformat(),
                       "last_fetched": row.last_seen, "made": 0, "not_modified": 0})
    if values:
        conn.execute(revisits.insert(), values)


def _missing_into_frontier(conn: Connection) -> None:
    """Version 3: the back-catalogue's "not found" ids become the frontier's ``gone`` articles."""
    if "missing_articles" not in inspect(conn).get_table_names():
        return
    rows = conn.execute(text("SELECT source, maghress_id, url, status, first_seen, last_checked FROM missing_articles"))
    values = {}
    for section, maghress_id, url, status, first_seen, last_checked in rows:
        values[f"{section}/{maghress_id}"] = {
            "article_key": f"{section}/{maghress_id}", "section": section, "maghress_id": maghress_id, "url": url,
            "state": "gone", "attempts": 1, "last_error": f"HTTP {status}", "first_seen": first_seen,
            "last_tried": last_checked,
        }
    if values:
        conn.execute(frontier.insert(), list(values.values()))
    conn.execute(text("DROP TABLE missing_articles"))


#: version -> steps that bring a database of version-1 to it: SQL statements, or functions of a
#: connection. Version 1 is create_all. (New tables need no step: ``create_all`` adds them to an older
#: database before migrating; new indexes of existing tables do.)
MIGRATIONS: dict[int, list[str | Callable[[Connection], None]]] = {
    2: [
        "ALTER TABLE articles ADD COLUMN extractor TEXT",
        "ALTER TABLE articles ADD COLUMN generic_fields TEXT",
    ],
    3: [
        "ALTER TABLE articles ADD COLUMN article_key TEXT",
        "ALTER TABLE article_aliases ADD COLUMN article_key TEXT",
        _fill_article_keys,
        "CREATE UNIQUE INDEX ux_articles_article_key ON articles (article_key)",
        "CREATE UNIQUE INDEX ux_article_aliases_article_key ON article_aliases (article_key)",
        _missing_into_frontier,
    ],
    4: [
        "DROP INDEX IF EXISTS ix_articles_title_key_date",
        f"CREATE INDEX ix_articles_title_key_date ON articles (substr(title_key, 1, {TITLE_KEY_INDEXED}), published_date)",
    ],
    5: [create_search_index],
    6: [_add_version_columns],
    7: [_schedule_stored_articles],
}

#: Steps a fresh database takes after ``create_all``: what SQLAlchemy's tables cannot declare.
FRESH: list[Callable[[Connection], None]] = [create_search_index]
