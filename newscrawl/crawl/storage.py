"""The crawl's store, as a crawler component: opened for the spider, disposed when it closes.

Every component of a crawl that reads or writes the archive (the spider, the pipelines, the dupefilter of a
resumed crawl, the distributed scheduler) uses the one ``Store`` this extension holds: ``store_for(crawler)``.
It is opened on first use — the spider's start, or the first article — so that SQLAlchemy is not imported
before the crawl needs it, and a database that cannot be opened fails the crawl's start (exit status 6);
its connections are closed when the spider closes, after the pipelines wrote their last batch.
"""

from __future__ import annotations

import logging

from scrapy import signals

logger = logging.getLogger(__name__)


class CrawlStore:
    """Extension: the crawl's ``Store`` (``NEWSCRAWL_DATABASE_URL`` or ``NEWSCRAWL_DATABASE_URL_FILE``)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self._store = None

    @classmethod
    def from_crawler(cls, crawler) -> CrawlStore:
        component = cls(crawler)
        crawler.signals.connect(component.spider_closed, signal=signals.spider_closed)
        return component

    @property
    def opened(self) -> bool:
        return self._store is not None

    @property
    def store(self):
        if self._store is None:
            from newscrawl.identity.keys import MIN_BODY_WORDS
            from newscrawl.schedule import RevisitSchedule
            from newscrawl.store.database import Store, database_url, safe_url

            settings = self.crawler.settings
            url = database_url(settings.get("NEWSCRAWL_DATABASE_URL"), settings.get("NEWSCRAWL_DATABASE_URL_FILE"))
            self._store = Store(url, min_body_words=settings.getint("NEWSCRAWL_MIN_BODY_WORDS", MIN_BODY_WORDS))
            # (The spider's arguments checked the setting before the first request.)
            self._store.revisit_schedule = RevisitSchedule.parse(settings.get("NEWSCRAWL_REVISIT"))
            logger.info("Article store: %s", safe_url(self._store.url))
        return self._store

    def spider_closed(self, spider, reason) -> None:
        if self._store is not None:
            self._store.close()


def crawl_store(crawler) -> CrawlStore:
    component = crawler.get_extension(CrawlStore)
    if component is None:
        raise RuntimeError("the CrawlStore extension is off (EXTENSIONS): the crawl has no article store")
    return component


def store_for(crawler):
    """The crawl's one ``Store``, opened on first use."""
    return crawl_store(crawler).store
