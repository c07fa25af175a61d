"""Middlewares that bound what a request may reach and what a response may cost.

Downloader middlewares:

- ``RequestGuard`` checks every request Scrapy sends, redirect hops and
  robots.txt included (``newscrawl.crawl.hostpolicy``): http(s) only, never an
  internal address nor another port of the site's own host, and publisher pages
  (``dont_filter=True``: Scrapy's offsite middleware lets those, and their
  redirects, go anywhere) only on publisher hosts.
- ``BoundedHttpCompression``: Scrapy's decompression, which stops at
  ``DOWNLOAD_MAXSIZE`` (a 200 KB gzip body must not become 200 MB), counting
  the pages it stops.
- ``ResponseLimits``: the parsers read at most ``NEWSCRAWL_MAX_PARSE_BYTES`` of a
  page (the rest is cut, counted); a download Scrapy cancelled at
  ``DOWNLOAD_MAXSIZE`` is counted.

Spider middleware:

- ``PageCosts``: the time each page's callback takes (the slowest page of the
  run in the stats), and any exception a callback raises costs that page only:
  counted per kind of page, logged once with its URL, its article recorded in
  the frontier as failed with the reason (so it is retried, then reported).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from twisted.internet.defer import CancelledError

from newscrawl import statkeys
from newscrawl.crawl.dupefilter import PAGE_KIND
from newscrawl.crawl.hostpolicy import HostPolicy

logger = logging.getLogger(__name__)


class RequestGuard:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        kind = request.meta.get(PAGE_KIND)
        if kind == "waiting" and request.url.startswith("data:"):
            return None  # the spider's own in-process request (articles waiting for another worker's page)
        why = HostPolicy.of(self.crawler.spider).refusal(request.url, publisher=kind in ("publisher", "revisit"))
        if why is None:
            return None
        self.crawler.stats.inc_value(statkeys.REFUSED_REQUEST)
        logger.warning("Refused %s: %s (from %s)", request.url[:300], why,
                       (request.meta.get("redirect_urls") or [request.url])[0][:300])
        raise IgnoreRequest(f"refused: {why}")


class BoundedHttpCompression(HttpCompressionMiddleware):
    """Scrapy's ``HttpCompressionMiddleware`` (which stops decompressing at ``DOWNLOAD_MAXSIZE``), counting the
    responses it stops as too large."""

    def process_response(self, request, response, spider=None):
        try:
            return super().process_response(request, response, spider)
        except IgnoreRequest:
            self.stats.inc_value(statkeys.CAPPED_DOWNLOAD)
            raise


class ResponseLimits:
    """The part of a page the parsers read is bounded; downloads cut at ``DOWNLOAD_MAXSIZE`` are counted."""

    def __init__(self, crawler):
        self.stats = crawler.stats
        self.max_parse_bytes = crawler.settings.getint("NEWSCRAWL_MAX_PARSE_BYTES")

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response, spider=None):
        if self.max_parse_bytes and len(response.body) > self.max_parse_bytes:
            self.stats.inc_value(statkeys.CAPPED_PARSE_INPUT)
            logger.warning("%s is %d bytes: its parsers read the first %d (NEWSCRAWL_MAX_PARSE_BYTES)",
                           response.url, len(response.body), self.max_parse_bytes)
            # (A multi-byte character cut in two decodes as a replacement character.)
            return response.replace(body=response.body[: self.max_parse_bytes],
                                    flags=[*response.flags, "truncated"])
        return response

    def process_exception(self, request, exception, spider=None):
        # Scrapy's HTTP handler cancels a download once it passes DOWNLOAD_MAXSIZE (DownloadCancelledError when
        # the response announces more, Twisted's CancelledError when the body grows past it).
        if isinstance(exception, (CancelledError, DownloadCancelledError)):
            self.stats.inc_value(statkeys.CAPPED_DOWNLOAD)
        return None


class PageCosts:
    """Times each page's callback and turns any exception it raises into the failure of that page alone."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.slowest = 0.0

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _timed(self, response, seconds: float) -> None:
        if seconds > self.slowest:
            self.slowest = seconds
            self.stats.set_value(statkeys.SLOWEST_PAGE_SECONDS, round(seconds, 3))
            self.stats.set_value(statkeys.SLOWEST_PAGE_URL, response.url[:500])

    async def process_spider_output(self, response, result: AsyncIterator[Any], spider=None):
        # (An async generator alone: Scrapy 2.19 hands every middleware an asynchronous output.)
        spent, iterator = 0.0, result.__aiter__()
        try:
            while True:
                started = time.perf_counter()
                try:
                    value = await iterator.__anext__()
                except StopAsyncIteration:
                    return
                finally:
                    spent += time.perf_counter() - started
                yield value
        finally:
            self._timed(response, spent)

    def process_spider_exception(self, response, exception, spider=None):
        request = response.request
        kind = request.meta.get(PAGE_KIND) or "other"
        reason = f"{type(exception).__name__} while reading the page: {exception}"[:300]
        self.stats.inc_value(f"{statkeys.PAGE_ERRORS}/{kind}")
        self.stats.inc_value(f"{statkeys.PAGE_ERRORS}/{kind}/{type(exception).__name__}")
        logger.error("Error reading %s page %s: %s", kind, response.url[:300], reason,
                     exc_info=(type(exception), exception, exception.__traceback__))
        # (Our spiders say what a failed page means for its article: MaghressSpider.page_failed.)
        page_failed = getattr(self.crawler.spider, "page_failed", None)
        if page_failed is not None:
            page_failed(request, reason)
        return []
