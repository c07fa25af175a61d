"""Downloader middleware: publisher pages only ever come from publisher hosts.

Publisher requests carry ``dont_filter=True`` (two Maghress ids may name one
publisher page, and each needs its answer), and Scrapy's offsite middleware
lets such requests, and the redirects they lead to, go anywhere. This guard
checks every publisher request, redirects included: http(s) only, a
registered source's publisher host (or one of ``NEWSCRAWL_PUBLISHER_HOSTS``
when set, or the base URL's host), never a private, loopback or link-local
address other than the base URL's own.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

from newscrawl.crawl.dupefilter import PAGE_KIND
from newscrawl.crawl.hostpolicy import HostPolicy

logger = logging.getLogger(__name__)


class PublisherHostGuard:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        if request.meta.get(PAGE_KIND) != "publisher":
            return None
        policy = HostPolicy.of(self.crawler.spider)
        parts = urlsplit(request.url)
        host = (parts.hostname or "").lower()
        # (A name's address is checked when it is resolved: newscrawl.crawl.resolver.)
        if parts.scheme in ("http", "https") and policy.may_fetch_publisher(host) and policy.may_connect(host, host):
            return None
        self.crawler.stats.inc_value("newscrawl/source/refused_redirect")
        logger.warning("Refused %s: not a publisher host (from %s)", request.url,
                       (request.meta.get("redirect_urls") or [request.url])[0])
        raise IgnoreRequest(f"not a publisher host: {host}")
