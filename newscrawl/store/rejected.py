"""Rejected rows: an article the database refused, kept whole with the reason, so it costs only itself."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from newscrawl.identity.keys import ArticleKey
from newscrawl.store.engine import utc_now
from newscrawl.store.schema import rejected


class RejectedRecords:
    """``rejected_articles`` (a part of ``Store``)."""

    def reject(self, item: Mapping[str, Any], error: BaseException | str) -> None:
        """Keep an item the database refused in ``rejected_articles``; its article stays in the frontier (failed)."""
        message = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
        message = message.splitlines()[0][:2000] if message else "refused"
        keys = self.keys_of(item)
        payload = json.dumps({k: v for k, v in item.items() if k != "story"}, ensure_ascii=False, default=str)
        # The refused text may hold what the database refused (NUL in PostgreSQL): kept escaped in the JSON.
        with self.write_transaction() as conn:
            conn.execute(rejected.insert().values(article_key=keys.article, url=item.get("url"), item=payload,
                                                  error=message, rejected_at=utc_now()))
        if keys.article:
            self.frontier_failed(ArticleKey.parse(keys.article), item.get("url") or "", f"database refused: {message}")
