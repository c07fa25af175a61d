"""Feeds of committed articles: Scrapy's feed exporter, fed by the store instead of the item flow.

Scrapy's ``FeedExporter`` writes an item as soon as the pipelines pass it on. Our store writes in batches,
after that; an article the database then refuses (kept in ``rejected_articles``, the run exits with
``ExitCode.STORE``) would still be listed in the feed as archived. ``CommittedFeedExporter`` writes an
article when its batch is committed (the ``article_committed`` signal), so a feed lists what the archive
holds, no more. Everything else (FEEDS, ``-o``, URI parameters, batches, exporters) is Scrapy's.
"""

from __future__ import annotations

from scrapy import signals
from scrapy.extensions.feedexport import FeedExporter

from newscrawl.crawl.signals import article_committed


class CommittedFeedExporter(FeedExporter):
    """Replaces Scrapy's ``FeedExporter`` (``EXTENSIONS``): items are exported once the store committed them."""

    @classmethod
    def from_crawler(cls, crawler):
        exporter = cls(crawler)
        crawler.signals.connect(exporter.open_spider, signals.spider_opened)
        crawler.signals.connect(exporter.close_spider, signals.spider_closed)
        crawler.signals.connect(exporter.item_scraped, article_committed)
        return exporter
