"""Item pipelines: validate -> deduplicate -> store.

- ``ValidatePipeline`` cuts values longer than newscrawl stores (``items.FIELD_MAX_CHARS``) and drops what
  cannot be an article (no URL, no title).
- ``DeduplicatePipeline`` computes each item's story keys once (``newscrawl.identity.keys``)
  and decides what it is: a new article, a stored article seen again (same
  Maghress key: its row is updated), or another copy of a story already
  stored or seen in this run (an alias). It writes its verdict on the item
  (the internal ``story`` field) and passes every item on.
- ``StorePipeline`` writes articles and aliases in batches; aliases then
  leave the item flow. An article goes to the feeds once its batch is committed
  (``article_committed``: ``newscrawl.crawl.feeds``), never before. A batch the database refuses
  is written again row by row, and a row it still refuses is kept in
  ``rejected_articles``, counted, and makes the run exit with ``ExitCode.STORE`` (4).

Each drop is logged with its reason and counted in the crawl stats under
``newscrawl/dropped/<reason>``; each write under ``newscrawl/store/<what>``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy.exceptions import DropItem
from twisted.internet import task

from newscrawl import statkeys
from newscrawl.crawl.storage import crawl_store, store_for
from newscrawl.crawl.health import CrawlHealth, ExitCode
from newscrawl.crawl.signals import article_committed, store_backlog
from newscrawl.items import AUTHOR_MAX_CHARS, FIELD_MAX_CHARS, MAX_AUTHORS, URL_FIELDS
from newscrawl.identity.keys import MIN_BODY_WORDS, article_key, story_keys
from newscrawl.identity.matching import RunMemory, Verdict

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
        return store_for(self.crawler)

    def drop(self, reason: str, message: str) -> DropItem:
        self.stats.inc_value(f"{statkeys.DROPPED}/{reason}")
        return DropItem(message)


class ValidatePipeline(_CrawlerPipeline):
    """An article needs a URL and a title; anything less is dropped with its reason, and its Maghress page
    stays in the frontier as failed (tried again by the next runs)."""

    REQUIRED = ("url", "title")

    def process_item(self, item: Any) -> Any:
        for field in capped_fields(item):
            self.stats.inc_value(f"{statkeys.CAPPED_FIELD}/{field}")
            logger.info("%s of %s was longer than newscrawl stores: cut", field, item.get("url"))
        for field in self.REQUIRED:
            if not item.get(field):
                if key := article_key(item.get("url")):
                    self.store.frontier_failed(key, item["url"], f"no {field} found on the page")
                raise self.drop(f"missing_{field}", f"Article without {field}: {item.get('url') or dict(item)}")
        return item


def capped_fields(item: Any) -> list[str]:
    """Cuts ``item``'s values to ``FIELD_MAX_CHARS`` (a text at its last word within the cap, a URL dropped) and
    its authors to ``MAX_AUTHORS`` names of ``AUTHOR_MAX_CHARS``; returns the fields it cut."""
    cut = []
    for field, limit in FIELD_MAX_CHARS.items():
        value = item.get(field)
        if isinstance(value, str) and len(value) > limit:
            cut.append(field)
            item[field] = "" if field in URL_FIELDS else _cut_at_word(value, limit)
    authors = item.get("authors") or []
    if len(authors) > MAX_AUTHORS or any(len(name) > AUTHOR_MAX_CHARS for name in authors):
        cut.append("authors")
        item["authors"] = [_cut_at_word(name, AUTHOR_MAX_CHARS) for name in authors[:MAX_AUTHORS]]
    return cut


def _cut_at_word(text: str, limit: int) -> str:
    head = text[:limit]
    space = head.rfind(" ", limit - 200)  # a word boundary near the cap, if there is one
    return (head[:space] if space > 0 else head).rstrip()


class DeduplicatePipeline(_CrawlerPipeline):
    """One article per story, within this run and across runs.

    The same Maghress key seen again updates its row. The same story under
    another key (a republication under a second Maghress id, the same
    publisher URL with a headline that agrees, the same headline and day from
    the same source, the same or a near-identical body of at least
    ``NEWSCRAWL_MIN_BODY_WORDS`` words) becomes an alias of the stored article.
    A publisher URL that different headlines share is no identity (logged,
    counted under ``newscrawl/dedup/publisher_url_conflict``).
    """

    def open_spider(self) -> None:
        self.min_body_words = self.crawler.settings.getint("NEWSCRAWL_MIN_BODY_WORDS", MIN_BODY_WORDS)
        self.run = RunMemory()

    def process_item(self, item: Any) -> Any:
        keys = story_keys(item, self.min_body_words)
        me = keys.article or item["url"]
        keys, shared = self.run.without_shared_publisher(keys)
        if shared:
            self._publisher_conflict(item, item.get("source_url"))
        repeat = self.run.repeat_of(me, keys)
        if repeat is not None:
            other, reason = repeat
            if other == me:
                raise self.drop(statkeys.DROP_DUPLICATE_IN_RUN, f"Article already handled in this run: {item['url']}")
            if isinstance(other, str):  # an article of this run, maybe not written yet
                item["story"] = Verdict(keys, alias_of=other, reason=reason)
            else:  # the stored article an earlier item of this run repeated
                item["story"] = Verdict(keys, match=other, reason=reason, checked=True)
            return item
        ranking = self.store.lookup(item.get("url"), keys)
        keys, match = ranking.keys, ranking.match
        if ranking.publisher_conflict:
            self._publisher_conflict(item, ranking.publisher_conflict)
        if match is not None and match.reason != "article":
            self.run.remember(me, keys, stored=match)
            item["story"] = Verdict(keys, match=match, reason=match.reason, checked=True)
            return item
        self.run.remember(me, keys)
        item["story"] = Verdict(keys, match=match, checked=True)
        return item

    def _publisher_conflict(self, item: Any, other: str | None) -> None:
        self.stats.inc_value(statkeys.PUBLISHER_URL_CONFLICT)
        logger.info("%s shares its publisher URL %s with an article of another headline (%s): not merged",
                    item.get("url"), item.get("source_url"), other)


class StorePipeline(_CrawlerPipeline):
    """Batched writes: a transaction every ``NEWSCRAWL_STORE_BATCH_SIZE`` items or
    ``NEWSCRAWL_STORE_FLUSH_SECONDS`` seconds, and at close. A batch the database refuses is
    written row by row; a row it still refuses is kept in ``rejected_articles``."""

    def open_spider(self) -> None:
        settings = self.crawler.settings
        self.batch_size = settings.getint("NEWSCRAWL_STORE_BATCH_SIZE", 100)
        self.flush_seconds = settings.getfloat("NEWSCRAWL_STORE_FLUSH_SECONDS", 2.0)
        self.min_body_words = settings.getint("NEWSCRAWL_MIN_BODY_WORDS", MIN_BODY_WORDS)
        self.buffer: list[tuple[dict[str, Any], Any]] = []  # (the row to write, the item to export once written)
        self.last_flush = time.monotonic()
        self.timer = task.LoopingCall(self._flush_if_due)
        self.timer.start(self.flush_seconds, now=False)

    def process_item(self, item: Any) -> Any:
        verdict = item.get("story")
        if verdict is None:  # no deduplication pipeline: the store looks the item up itself
            verdict = item["story"] = Verdict(story_keys(item, self.min_body_words))
        self.buffer.append((dict(item), item))
        del item["story"]  # internal: what leaves the pipelines is the article alone
        if len(self.buffer) >= self.batch_size:
            self.flush()
        elif len(self.buffer) == 1:
            self.crawler.signals.send_catch_log(signal=store_backlog, pending=True)
        if verdict.is_alias:
            other = verdict.alias_of or verdict.match.url
            raise self.drop(statkeys.DROP_REPUBLISHED, f"Same story as {other} (same {verdict.reason}): {item['url']} kept as its alias")
        return item

    def _flush_if_due(self) -> None:
        if self.buffer and time.monotonic() - self.last_flush >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        """Write the articles held; each one committed as an article goes to the feeds (``article_committed``)."""
        batch, self.buffer = self.buffer, []
        self.last_flush = time.monotonic()
        if not batch:
            return
        rows = [row for row, _ in batch]
        try:
            outcomes = self.store.write_each(rows)
        except Exception as exc:  # noqa: BLE001 - whatever the database says, one bad row must cost only itself
            self.stats.inc_value(statkeys.STORE_WRITE_FAILED)
            logger.warning("Writing %d articles to %s failed (%s); writing them one by one", len(batch), self.store,
                           _first_line(exc))
            outcomes = [self._write_alone(row) for row in rows]
        spider = self.crawler.spider
        for (row, item), outcome in zip(batch, outcomes):
            if outcome in statkeys.STORED_WHAT:
                self.stats.inc_value(f"{statkeys.STORED}/{outcome}")
            if outcome in ("inserted", "updated"):
                item["version"], item["changed_at"] = row.get("version"), row.get("changed_at")  # (the store's)
                if row.get("new_version"):
                    self.stats.inc_value(statkeys.STORE_NEW_VERSION)
                    self.stats.inc_value(f"{statkeys.STORE_NEW_VERSION}/{row.get('source') or 'unknown'}")
                elif row.get("revisit"):
                    continue  # revisited and unchanged: in an earlier feed already
                self.crawler.signals.send_catch_log(signal=article_committed, item=item, spider=spider)
        self.crawler.signals.send_catch_log(signal=store_backlog, pending=False)

    def _write_alone(self, row: dict[str, Any]) -> str:
        """One row in its own transaction: its outcome, or ``rejected``/``lost`` when the database refuses it."""
        try:
            return self.store.write_each([row])[0]
        except Exception as exc:  # noqa: BLE001
            return self._reject(row, exc)

    def _reject(self, entry: dict[str, Any], error: BaseException) -> str:
        try:
            self.store.reject(entry, error)
        except Exception:  # noqa: BLE001 - the database is gone: the frontier (pending) still has the article
            self.stats.inc_value(statkeys.STORE_LOST)
            logger.exception("Could not record the refused article %s; the next run fetches it again", entry.get("url"))
            return "lost"
        self.stats.inc_value(statkeys.STORE_REJECTED)
        logger.error("The database refused %s (%s): kept in rejected_articles", entry.get("url"), _first_line(error))
        return "rejected"

    def close_spider(self) -> None:
        if self.timer.running:
            self.timer.stop()
        self.flush()
        refused = self.stats.get_value(statkeys.STORE_REJECTED, 0)
        lost = self.stats.get_value(statkeys.STORE_LOST, 0)
        if refused or lost:
            message = (f"{refused} articles were refused by the database (kept in its rejected_articles table) and "
                       f"{lost} could not be written at all (fetched again next run)")
            logger.error("%s; `newscrawl status` lists them. This run exits with status %d.", message, ExitCode.STORE)
            if (health := CrawlHealth.of(self.crawler)) is not None:
                health.report(ExitCode.STORE, message)
        if crawl_store(self.crawler).opened:  # (a crawl that stored nothing need not open the database)
            self.stats.set_value("newscrawl/store/rows_total", self.store.count())


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0][:300]

