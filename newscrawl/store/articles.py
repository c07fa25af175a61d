"""Articles: reads, the batched write (insert, update, alias) and the candidates of a lookup.

Which candidate row an item is, or repeats, is ``newscrawl.identity.matching``'s decision; this part only
finds the candidates (one indexed query on the item's keys, then rows sharing a body band) and writes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import and_, bindparam, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from newscrawl.identity import matching, similarity
from newscrawl.identity.keys import ArticleKey, StoryKeys, article_key
from newscrawl.identity.matching import Match, Ranking, Verdict
from newscrawl.items import ARTICLE_FIELDS
from newscrawl.store.engine import chunks, utc_now
from newscrawl.store.frontier import clear_frontier
from newscrawl.store.schema import TITLE_KEY_INDEXED, TITLE_KEY_PREFIX, aliases, articles, body_bands

logger = logging.getLogger(__name__)


class ArticleRecords:
    """Articles, their aliases and body bands (a part of ``Store``)."""

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
            for chunk in chunks(keys):
                found.update(conn.execute(_KNOWN, {"keys": chunk}).all())
        return found

    def publisher_owner(self, publisher_key: str) -> tuple[str, str | None] | None:
        """``(URL, headline key)`` of the stored article whose publisher page has ``publisher_key``, if any."""
        if not publisher_key:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(_OWNER, {"key": publisher_key}).first()
        return (row.url, row.title_key) if row else None

    def lookup(self, url: str | None, keys: StoryKeys) -> Ranking:
        """The stored article an item (its URL and keys) is, or repeats: ``matching.best_match`` of the candidates."""
        with self.engine.connect() as conn:
            return self._lookup(conn, url, keys)

    def find_match(self, item: Mapping[str, Any]) -> Match | None:
        """``lookup`` of an item's own keys, its match only."""
        return self.lookup(item.get("url"), self.keys_of(item)).match

    def _lookup(self, conn: Connection, url: str | None, keys: StoryKeys) -> Ranking:
        """One indexed query for the exact keys, a second (LSH bands) only when none matched."""
        params = {
            "url": url,
            "article_key": keys.article,
            "source_key": keys.publisher,
            "title_key": keys.title,
            "title_prefix": (keys.title or "")[:TITLE_KEY_INDEXED] or None,
            "published_date": keys.day,
            "source": keys.source,
            "content_hash": keys.body,
        }
        ranking = matching.best_match(conn.execute(_MATCH, params).all(), url, keys)
        if ranking.match is None and ranking.keys.signature() is not None:
            band_params = dict(zip(_BAND_PARAMS, ranking.keys.bands()), url=url)
            similar = matching.most_similar(conn.execute(_SIMILAR, band_params).all(), ranking.keys)
            ranking = replace(ranking, match=similar)
        return ranking

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
        changed_since: date | None = None,
        batch: int = 1000,
    ) -> Iterator[dict[str, Any]]:
        """Stored articles as item dicts (``ARTICLE_FIELDS``), oldest first, streamed; ``changed_since``: only
        articles whose text changed (a version 2 or later) on or after that day."""
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
        if changed_since:
            query = query.where(articles.c.changed_at >= changed_since.isoformat())
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

    def write(self, items: Iterable[Mapping[str, Any]]) -> dict[str, int]:
        """Write a batch in one transaction (``write_each``); return counts of ``inserted``, ``updated``,
        ``aliased``."""
        counts = {"inserted": 0, "updated": 0, "aliased": 0}
        for outcome in self.write_each(items):
            counts[outcome] += 1
        return counts

    def write_each(self, items: Iterable[Mapping[str, Any]]) -> list[str]:
        """Write a batch in one transaction; return what became of each item: ``inserted``, ``updated`` or
        ``aliased``.

        An item whose ``story`` verdict names another article (``alias_of`` a
        key of this run, or a stored ``match`` of another story) is written as
        an alias of it; the others are upserted. Every key written leaves the
        frontier in the same transaction.
        """
        items = list(items)
        if not items:
            return []
        with self.write_transaction() as conn:
            outcomes = [self._write_one(conn, item) for item in items]
            # (The key of each URL: keys_of would compute an item's every key again when it has no verdict.)
            clear_frontier(conn, [str(k) for item in items if (k := article_key(item.get("url")))])
        return outcomes

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
                return self._add_alias(conn, item, target, verdict.reason or (verdict.match.reason if verdict.match else ""))
            if verdict.is_alias:
                # The article it repeats was never written (refused by the database): this one stands alone.
                logger.warning("%s repeats %s, which is not stored: stored as an article of its own",
                               item.get("url"), verdict.alias_of)
                verdict = Verdict(verdict.keys)
        return self._upsert(conn, item, verdict)

    def _upsert(self, conn: Connection, item: Mapping[str, Any], verdict: Verdict | None) -> str:
        keys = verdict.keys if verdict is not None else self.keys_of(item)
        now = utc_now()
        # Looked up moments ago by the deduplication? Then trust it: a race with another writer on the same
        # key or publisher URL still ends in the unique keys and ON CONFLICT below, then a fresh lookup.
        if verdict is not None and verdict.checked:
            match = verdict.match
        else:
            ranking = self._lookup(conn, item.get("url"), keys)
            keys, match = ranking.keys, ranking.match
        values = _item_to_row(item, keys)
        if match is None:
            statement = _INSERT_SQLITE if self.dialect == "sqlite" else _INSERT_PG
            inserted = conn.execute(statement, {**values, "first_seen": now, "last_seen": now, "version": 1}).first()
            if inserted is not None:
                _written_as(item, 1, None)
                self._write_bands(conn, inserted.id, keys, replace=False)
                self.index_article(conn, inserted.id, values)
                self.schedule_revisit(conn, inserted.id, item, values, now, now)
                return "inserted"
            # Another writer stored it between our lookup and our insert.
            match = self._lookup(conn, item.get("url"), keys).match
            if match is None:
                raise RuntimeError(f"insert of {item.get('url')} conflicted with no matching row")
        if match.reason != "article":
            # The same story under another key: keep this one as an alias.
            return self._add_alias(conn, item, match.article_id, match.reason)
        changes = {k: v for k, v in values.items() if v not in (None, "", "[]")}
        for unique in ("source_key", "url", "article_key"):
            # Never steal another row's unique value (that row stays its owner).
            if changes.get(unique):
                owner = conn.execute(
                    select(articles.c.id).where(articles.c[unique] == changes[unique], articles.c.id != match.article_id)
                ).first()
                if owner:
                    del changes[unique]
        # An article that now says something else keeps what it said before (store/versions.py).
        _written_as(item, *self.keep_version(conn, match.article_id, changes, now), new="version" in changes)
        text_changes = {"title", "lead", "body"} & changes.keys()
        if text_changes:
            self.unindex_article(conn, match.article_id)
        conn.execute(update(articles).where(articles.c.id == match.article_id).values(**changes, last_seen=now))
        if changes.get("body_minhash"):
            self._write_bands(conn, match.article_id, keys, replace=True)
        if text_changes:
            self.index_article(conn, match.article_id)
        written = conn.execute(_SCHEDULED, {"id": match.article_id}).one()._mapping
        self.schedule_revisit(conn, match.article_id, item, written, written["first_seen"], now)
        return "updated"

    def _write_bands(self, conn: Connection, article_id: int, keys: StoryKeys, replace: bool) -> None:
        sig = keys.signature()
        if replace:
            conn.execute(body_bands.delete().where(body_bands.c.article_id == article_id))
        if sig is not None:
            conn.execute(body_bands.insert(), [{"band": b, "article_id": article_id} for b in keys.bands()])

    def _add_alias(self, conn: Connection, item: Mapping[str, Any], article_id: int, reason: str) -> str:
        """``item`` is kept as an alias of the stored article ``article_id`` (seen again: its ``last_seen``)."""
        conn.execute(
            self.insert(aliases)
            .values(url=item.get("url"), article_key=self.keys_of(item).article, article_id=article_id, reason=reason,
                    first_seen=utc_now())
            .on_conflict_do_nothing()
        )
        conn.execute(update(articles).where(articles.c.id == article_id).values(last_seen=utc_now()))
        return "aliased"


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
# What an updated article's revisit is scheduled from (store/revisits.py).
_SCHEDULED = select(articles.c.url, articles.c.source_url, articles.c.extractor, articles.c.published_at,
                    articles.c.published_date, articles.c.first_seen, articles.c.article_key).where(
    articles.c.id == bindparam("id"))
_OWNER = select(articles.c.url, articles.c.title_key).where(articles.c.source_key == bindparam("key"))


def _written_as(item: Mapping[str, Any], version: int, changed_at: str | None, new: bool = False) -> None:
    """The version the store wrote, on the item it was given (the feed exports it once committed); ``new``:
    this write made it (``new_version``)."""
    if isinstance(item, dict):
        item["version"], item["changed_at"], item["new_version"] = version, changed_at, new


def _item_to_row(item: Mapping[str, Any], keys: StoryKeys) -> dict[str, Any]:
    # The exported fields only, less what the store itself decides (the version).
    row = {field: item.get(field) for field in ARTICLE_FIELDS if field not in ("version", "changed_at")}
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
