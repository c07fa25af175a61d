"""Item pipelines: validate -> deduplicate -> store.

Each drop is logged with its reason and counted in the crawl stats under
``newscrawl/dropped/<reason>``; each write under ``newscrawl/store/<what>``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem
from twisted.internet import task

from newscrawl.normalize import canonical_key, title_key

logger = logging.getLogger(__name__)


class _CrawlerPipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @property
    def store(self):
        # Opened on first use: SQLAlchemy and the database are not needed before the first article.
        from newscrawl.store import store_for

        return store_for(self.crawler)

    def drop(self, reason: str, message: str) -> DropItem:
        self.stats.inc_value(f"newscrawl/dropped/{reason}")
        return DropItem(message)


class ValidatePipeline(_CrawlerPipeline):
    """An article needs a URL and a title; anything less is dropped, with its reason."""

    REQUIRED = ("url", "title")

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        for field in self.REQUIRED:
            if not adapter.get(field):
                raise self.drop(f"missing_{field}", f"Article without {field}: {adapter.get('url') or adapter.asdict()}")
        return item


class DeduplicatePipeline(_CrawlerPipeline):
    """One article per story, within this run and across runs.

    The same Maghress URL re-crawled passes (the store updates its row). The
    same story under another URL (a republication under a second Maghress
    id, the same publisher URL, the same headline and day from the same
    source, the same or a near-identical body) is recorded as an alias of
    the stored article and dropped.
    """

    def open_spider(self) -> None:
        # Keys of this run's articles -> their URL. Bounded by the run's size;
        # earlier runs are asked of the store with indexed lookups.
        self.seen: dict[tuple[str, Any], str] = {}
        # LSH bands of this run's bodies -> (URL, signature), for near-identical bodies.
        self.bands: dict[int, list[tuple[str, Any]]] = {}

    def _keys(self, adapter: ItemAdapter) -> list[tuple[str, Any]]:
        keys: list[tuple[str, Any]] = [("url", adapter.get("url"))]
        if key := canonical_key(adapter.get("source_url")):
            keys.append(("source_url", key))
        if (tkey := title_key(adapter.get("title"))) and adapter.get("published_date"):
            # Within one source only: two papers print "Cours des devises du mardi 9 décembre 2025" the same day.
            keys.append(("title_and_date", (tkey, adapter.get("published_date"), adapter.get("source"))))
        from newscrawl.store.database import content_hash

        if digest := content_hash(adapter.get("body")):
            keys.append(("body", digest))
        return keys

    def process_item(self, item: Any) -> Any:
        from newscrawl.store import similarity

        adapter = ItemAdapter(item)
        url = adapter["url"]
        keys = self._keys(adapter)
        for key in keys:
            other = self.seen.get(key)
            if other is not None:
                if other == url:
                    raise self.drop("duplicate_in_run", f"Article already stored in this run: {url}")
                self.store.queue_alias(url, other, key[0])
                raise self.drop("republished", f"Same story as {other} (same {key[0]}): {url} kept as its alias")
        sig = similarity.signature(adapter.get("body"))
        if sig is not None:
            for band in similarity.bands(sig):
                for other, other_sig in self.bands.get(band, ()):
                    if other != url and similarity.similarity(sig, other_sig) >= similarity.THRESHOLD:
                        self.store.queue_alias(url, other, "similar_body")
                        raise self.drop("republished", f"Same story as {other} (near-identical body): {url} kept as its alias")
        match = self.store.find_match(adapter)
        if match is not None and match.url != url:
            self.store.queue_alias(url, match.url, match.reason)
            for key in keys:
                self.seen.setdefault(key, match.url)
            raise self.drop("republished", f"Same story as stored {match.url} (same {match.reason}): {url} kept as its alias")
        for key in keys:
            self.seen.setdefault(key, url)
        if sig is not None:
            for band in similarity.bands(sig):
                self.bands.setdefault(band, []).append((url, sig))
        return item


class StorePipeline(_CrawlerPipeline):
    """Batched upserts: a transaction every ``NEWSCRAWL_STORE_BATCH_SIZE`` articles or
    ``NEWSCRAWL_STORE_FLUSH_SECONDS`` seconds, and at close."""

    def open_spider(self) -> None:
        settings = self.crawler.settings
        self.batch_size = settings.getint("NEWSCRAWL_STORE_BATCH_SIZE", 100)
        self.flush_seconds = settings.getfloat("NEWSCRAWL_STORE_FLUSH_SECONDS", 2.0)
        self.buffer: list[dict[str, Any]] = []
        self.last_flush = time.monotonic()
        self.timer = task.LoopingCall(self._flush_if_due)
        self.timer.start(self.flush_seconds, now=False)

    def process_item(self, item: Any) -> Any:
        self.buffer.append(ItemAdapter(item).asdict())
        if len(self.buffer) >= self.batch_size:
            self.flush()
        else:
            # Articles not yet written: a distributed worker counts as busy while it holds any.
            self.stats.set_value("newscrawl/store/buffered", len(self.buffer))
        return item

    def _flush_if_due(self) -> None:
        if self.buffer and time.monotonic() - self.last_flush >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        batch, self.buffer = self.buffer, []
        self.last_flush = time.monotonic()
        self.stats.set_value("newscrawl/store/buffered", 0)
        if not batch and not self.store.pending_aliases:
            return
        try:
            counts = self.store.write(batch)
        except Exception:
            # Keep the batch for the next try; the crawl goes on.
            self.buffer[:0] = batch
            self.stats.set_value("newscrawl/store/buffered", len(self.buffer))
            self.stats.inc_value("newscrawl/store/write_failed")
            logger.exception("Writing %d articles to %s failed; will retry", len(batch), self.store)
            return
        for what, n in counts.items():
            if n:
                self.stats.inc_value(f"newscrawl/store/{what}", n)

    def close_spider(self) -> None:
        if self.timer.running:
            self.timer.stop()
        self.flush()
        if self.buffer:
            logger.error("%d articles could not be written to %s", len(self.buffer), self.store)
        if getattr(self.crawler, "_newscrawl_store", None) is not None:  # only if the crawl opened it
            self.stats.set_value("newscrawl/store/rows_total", self.store.count())
