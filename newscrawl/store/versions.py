"""Edit history: an article whose text changed keeps its earlier versions.

When the store updates an article (a page fetched again) and the article then says something else — its title,
lead, body, authors or dates, compared on whitespace-folded text, so that a re-wrapped paragraph is no new
version — the stored version goes to ``article_versions`` whole, and the row becomes the next version
(``version``, ``changed_at``). ``history`` reads every version of an article back, oldest first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from newscrawl.identity.keys import ArticleKey
from newscrawl.store.schema import articles, versions

#: What makes a new version when it changes (the rest — image, language, extractor … — is updated in place).
VERSIONED = ("title", "lead", "body", "authors", "published_date", "published_at")


def _folded(value: Any) -> str:
    return " ".join(str(value).split()) if value not in (None, "") else ""


def fingerprint(fields: Mapping[str, Any]) -> str:
    """A hash of the versioned fields, whitespace folded."""
    return hashlib.sha1("\x1f".join(_folded(fields.get(f)) for f in VERSIONED).encode("utf-8")).hexdigest()


class VersionRecords:
    """``article_versions`` (a part of ``Store``)."""

    def keep_version(self, conn: Connection, article_id: int, changes: dict[str, Any], now: str) -> tuple[int, str | None]:
        """Before ``changes`` are written to article ``article_id``: when they change what it says, its stored
        version goes to ``article_versions`` and ``changes`` get the next ``version`` and ``changed_at``.
        Returns the article's version and ``changed_at`` once ``changes`` are written."""
        stored = conn.execute(_STORED, {"id": article_id}).one()._mapping
        after = {f: changes.get(f, stored[f]) for f in VERSIONED}
        if fingerprint(stored) == fingerprint(after):
            return stored["version"], stored["changed_at"]
        conn.execute(versions.insert().values(
            article_id=article_id, version=stored["version"], article_key=stored["article_key"],
            source_url=stored["source_url"], content_hash=fingerprint(stored),
            stored_at=stored["changed_at"] or stored["first_seen"], replaced_at=now,
            **{f: stored[f] for f in VERSIONED},
        ))
        changes["version"], changes["changed_at"] = stored["version"] + 1, now
        return changes["version"], now

    def history(self, key: str | ArticleKey) -> list[dict[str, Any]]:
        """Every version of the article ``key`` (its Maghress key), oldest first: the earlier ones from
        ``article_versions``, then the stored one. Empty when no article has that key."""
        with self.engine.connect() as conn:
            current = conn.execute(select(articles).where(articles.c.article_key == str(key))).first()
            if current is None:
                return []
            older = conn.execute(select(versions).where(versions.c.article_id == current.id)
                                 .order_by(versions.c.version)).mappings().all()
        out = [_version(row, row["stored_at"]) for row in older]
        row = current._mapping
        out.append(_version(row, row["changed_at"] or row["first_seen"]))
        return out


def _version(row: Mapping[str, Any], stored_at: str) -> dict[str, Any]:
    version = {f: row[f] for f in VERSIONED}
    version["authors"] = json.loads(version["authors"]) if version["authors"] else []
    version["published_date"] = str(version["published_date"]) if version["published_date"] else None
    version.update(version_number=row["version"], stored_at=stored_at, source_url=row["source_url"])
    return version


_STORED = select(articles.c.version, articles.c.changed_at, articles.c.first_seen, articles.c.article_key,
                 articles.c.source_url, *(articles.c[f] for f in VERSIONED)).where(articles.c.id == bindparam("id"))
