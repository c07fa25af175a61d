"""French full-text search over the stored articles, kept up to date by the store's own writes.

- SQLite: a contentless FTS5 table ``articles_search`` (rowid = ``articles.id``) indexing each article's
  stemmed title, lead and body (``normalize.stemming``), accents folded by its tokenizer. The store
  writes an article's entry in the transaction that writes the article (``index_article``; before a
  change of its text, ``unindex_article``).
- PostgreSQL: a generated ``tsvector`` column ``articles.search`` (the ``french`` configuration, accents
  folded by ``unaccent`` when the server has it; title weighted A, lead B, body D) with a GIN index: the
  database keeps it up to date itself.

Ranking, in two tiers: the articles with every word asked in their title, then the others; in each, BM25 with
the title weighing 10 and the lead 4 times the body (SQLite), ``ts_rank`` of the weighted vector (PostgreSQL).
(SQLite's second tier ranks the ``RANKED_AT_MOST`` most recently stored matches when more match: see
``_sqlite_search``.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.engine import Connection

from newscrawl.normalize.stemming import QueryError, SearchQuery, snippet, stemmed_text

logger = logging.getLogger(__name__)

__all__ = ["QueryError", "SearchHit", "SearchRecords", "create_search_index"]

#: BM25 weights of the indexed columns (title, lead, body).
_WEIGHTS = (10.0, 4.0, 1.0)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One article a search found, best first."""

    url: str
    source: str | None
    published_date: str | None
    title: str
    snippet: str
    score: float


class SearchRecords:
    """Search and its index (a part of ``Store``)."""

    def search(self, query: str, *, source: str | None = None, since: date | None = None,
               until: date | None = None, limit: int = 20, mark: tuple[str, str] = ("[", "]")) -> list[SearchHit]:
        """Articles matching ``query`` (``normalize.stemming``'s language), best first; ``QueryError`` when the
        query asks for nothing."""
        parsed = SearchQuery.parse(query)
        params = {"source": source, "since": since, "until": until, "limit": max(1, int(limit))}
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                rows = _sqlite_search(conn, parsed, params, filtered=bool(source or since or until))
            else:
                rows = conn.execute(text(_PG_SEARCH), {**params, "query": query}).all()
        return [SearchHit(row.url, row.source, str(row.published_date) if row.published_date else None,
                          row.title, snippet(row.body or row.lead or "", parsed, mark=mark), float(row.score))
                for row in rows]

    def index_article(self, conn: Connection, article_id: int, row: dict | None = None) -> None:
        """Write article ``article_id``'s row of the search index (SQLite; PostgreSQL's is a generated column):
        from ``row`` (its title, lead and body) when it was just inserted, else as the table now holds it."""
        if self.dialect != "sqlite":
            return
        if row is None:
            row = conn.execute(_SQLITE_TEXTS, {"id": article_id}).one()._mapping
        conn.exec_driver_sql(_SQLITE_INDEX, _index_values(article_id, row["title"], row["lead"], row["body"]))

    def unindex_article(self, conn: Connection, article_id: int) -> None:
        """Take article ``article_id`` out of the search index, before its title, lead or body change. (The
        index keeps no copy of the text it indexed: it is told what to forget, the stems of the stored text.)"""
        if self.dialect != "sqlite":
            return
        row = conn.execute(_SQLITE_TEXTS, {"id": article_id}).one()
        conn.exec_driver_sql(_SQLITE_UNINDEX, _index_values(article_id, row.title, row.lead, row.body))


def _sqlite_search(conn: Connection, parsed: SearchQuery, params: dict, filtered: bool) -> list:
    """SQLite's ranking, in two tiers: the articles with every word in their title, best first; then the
    others, best first — among the ``RANKED_AT_MOST`` most recently stored when more match (BM25 weighs each
    match, ~1 µs each: a word every other article holds would cost 50 ms; its title matches, a few ms)."""
    sql = _SQLITE_SEARCH_FILTERED if filtered else _SQLITE_SEARCH
    limit = params["limit"]
    rows = conn.execute(text(sql.format(floor="")), {**params, "match": parsed.fts5(in_title=True)}).all()
    if len(rows) >= limit:
        return rows
    match = parsed.fts5()
    floor = conn.exec_driver_sql(_SQLITE_FLOOR, (match, RANKED_AT_MOST - 1)).scalar()
    seen = {row.id for row in rows}
    more = conn.execute(text(sql.format(floor=_FLOOR if floor is not None else "")),
                        {**params, "match": match, "floor": floor, "limit": limit + len(rows)}).all()
    return rows + [row for row in more if row.id not in seen][: limit - len(rows)]


def _index_values(article_id: int, title: str | None, lead: str | None, body: str | None) -> tuple:
    return article_id, stemmed_text(title), stemmed_text(lead), stemmed_text(body)


# The driver's own execute for the index's statements: SQLAlchemy's statement machinery cost as much as the
# index's write.
_SQLITE_INDEX = "INSERT INTO articles_search (rowid, title, lead, body) VALUES (?, ?, ?, ?)"
_SQLITE_UNINDEX = "INSERT INTO articles_search (articles_search, rowid, title, lead, body) VALUES ('delete', ?, ?, ?, ?)"
_SQLITE_TEXTS = text("SELECT title, lead, body FROM articles WHERE id = :id")

_FILTERS = """
      AND (:source IS NULL OR a.source = :source)
      AND (:since IS NULL OR a.published_date >= :since)
      AND (:until IS NULL OR a.published_date <= :until)"""

#: Matches ranked at most by the second tier of a SQLite search (the most recently stored).
RANKED_AT_MOST = 20_000

_BM25 = f"bm25(articles_search, {', '.join(map(str, _WEIGHTS))})"
# ({floor}: the second tier's bound on the matches ranked, or nothing.) Ranked in the index alone when nothing
# filters: joined first, the article rows (their bodies) of every match would be read before the sort.
_SQLITE_SEARCH = f"""
    WITH hits AS (
        SELECT articles_search.rowid AS id, {_BM25} AS score FROM articles_search
        WHERE articles_search MATCH :match {{floor}}
        ORDER BY score, articles_search.rowid LIMIT :limit)
    SELECT a.id, a.url, a.source, a.published_date, a.title, a.lead, a.body, hits.score
    FROM hits JOIN articles AS a ON a.id = hits.id
    ORDER BY hits.score, a.id
"""
_SQLITE_SEARCH_FILTERED = f"""
    SELECT a.id, a.url, a.source, a.published_date, a.title, a.lead, a.body, {_BM25} AS score
    FROM articles_search JOIN articles AS a ON a.id = articles_search.rowid
    WHERE articles_search MATCH :match {{floor}} {_FILTERS}
    ORDER BY score, a.id
    LIMIT :limit
"""
_FLOOR = "AND articles_search.rowid >= :floor"
# The rowid of the RANKED_AT_MOST-th most recent match (none when fewer match): a walk of the index's list.
_SQLITE_FLOOR = ("SELECT rowid FROM articles_search WHERE articles_search MATCH ? "
                 "ORDER BY rowid DESC LIMIT 1 OFFSET ?")

_PG_SEARCH = f"""
    SELECT a.url, a.source, a.published_date, a.title, a.lead, a.body,
           -ts_rank(a.search, q.query) AS score
    FROM articles AS a, websearch_to_tsquery('french', newscrawl_search_text(:query)) AS q(query)
    WHERE a.search @@ q.query {_FILTERS.replace(":source IS NULL", "CAST(:source AS TEXT) IS NULL")
                                       .replace(":since IS NULL", "CAST(:since AS DATE) IS NULL")
                                       .replace(":until IS NULL", "CAST(:until AS DATE) IS NULL")}
    ORDER BY NOT (ts_filter(a.search, '{{a}}') @@ q.query), score, a.id
    LIMIT :limit
"""


def create_search_index(conn: Connection) -> None:
    """The search index of a database, filled with the articles it holds (a fresh database, or the migration
    to schema version 5)."""
    if conn.dialect.name == "sqlite":
        # Contentless (content=''): the stems are indexed, not kept a second time (the articles hold the text).
        conn.execute(text("CREATE VIRTUAL TABLE IF NOT EXISTS articles_search USING fts5("
                          "title, lead, body, content = '', tokenize = 'unicode61 remove_diacritics 2')"))
        conn.execute(text("INSERT INTO articles_search (articles_search) VALUES ('delete-all')"))  # (may run twice)
        result = conn.execution_options(yield_per=500).execute(text("SELECT id, title, lead, body FROM articles"))
        for rows in result.partitions():
            conn.exec_driver_sql(_SQLITE_INDEX, [_index_values(*row) for row in rows])
        return
    # PostgreSQL: unaccent when the server has it and we may install it (a savepoint: a refusal costs nothing).
    unaccent = False
    try:
        with conn.begin_nested():
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS unaccent"))
        unaccent = True
    except Exception as exc:  # noqa: BLE001 - no extension, no right to create it: search without accent folding
        logger.warning("PostgreSQL's unaccent extension is not available (%s): search folds no accents",
                       str(exc).splitlines()[0])
    body = "unaccent('unaccent'::regdictionary, coalesce($1, ''))" if unaccent else "coalesce($1, '')"
    # IMMUTABLE (unaccent itself is not): a generated column needs it; its dictionary does not change.
    conn.execute(text(f"CREATE OR REPLACE FUNCTION newscrawl_search_text(text) RETURNS text "
                      f"LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT {body} $$"))
    conn.execute(text(
        "ALTER TABLE articles ADD COLUMN IF NOT EXISTS search tsvector GENERATED ALWAYS AS ("
        "setweight(to_tsvector('french', newscrawl_search_text(title)), 'A') || "
        "setweight(to_tsvector('french', newscrawl_search_text(lead)), 'B') || "
        "setweight(to_tsvector('french', newscrawl_search_text(body)), 'D')) STORED"))
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_articles_search ON articles USING gin (search)"))
