"""The database schema as version 2 of newscrawl created it (commit a8062ee), frozen for migration tests.

Never edit: a test builds a real database of version 2 from it, fills it as that
version did, and opens it with today's ``Store``, which must migrate it.
"""

from __future__ import annotations

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
)

SCHEMA_VERSION = 2

metadata = MetaData()

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # The item's fields, in ARTICLE_FIELDS order.
    Column("url", Text, nullable=False, unique=True),
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
    # Bookkeeping.
    Column("first_seen", Text, nullable=False),
    Column("last_seen", Text, nullable=False),
    Column("content_hash", Text),  # sha1 of the normalised body
    Column("title_key", Text),  # normalize.title_key(title)
    Column("headline_key", Text),  # title_key of the headline as Maghress shows it (re-crawls compare it)
    Column("source_key", Text, unique=True),  # normalize.canonical_key(source_url)
    Column("body_minhash", LargeBinary),  # similarity.signature(body), for near-identical bodies
)
Index("ix_articles_title_key_date", articles.c.title_key, articles.c.published_date)
Index("ix_articles_content_hash", articles.c.content_hash)
Index("ix_articles_published_date", articles.c.published_date)
Index("ix_articles_source", articles.c.source)

# Other URLs of a stored article: the same story republished under another
# Maghress id, or reached through another URL. Kept, never lost.
aliases = Table(
    "article_aliases",
    metadata,
    Column("url", Text, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("first_seen", Text, nullable=False),
)

# LSH bands of each article's body signature: near-duplicate candidates in one indexed query.
body_bands = Table(
    "article_body_bands",
    metadata,
    Column("band", BigInteger, nullable=False, index=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False, index=True),
)

# Back-catalogue crawls (-a ids=…): Maghress article URLs that answered "not found", so that
# a later run does not ask again (unless it refreshes). Since version 2.
missing_articles = Table(
    "missing_articles",
    metadata,
    Column("url", Text, primary_key=True),
    Column("source", Text, nullable=False),
    Column("maghress_id", BigInteger, nullable=False),
    Column("status", Integer, nullable=False),
    Column("first_seen", Text, nullable=False),
    Column("last_checked", Text, nullable=False),
)
Index("ix_missing_articles_source_id", missing_articles.c.source, missing_articles.c.maghress_id)

schema_info = Table(
    "newscrawl_schema",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", Text, nullable=False),
)
