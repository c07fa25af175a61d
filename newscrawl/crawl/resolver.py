"""A DNS resolver that refuses names resolving to internal addresses (``DNS_RESOLVER``).

Scrapy connects to the address its resolver returns, so checking it here,
at connection time, cannot be raced by a second lookup: a publisher host
whose DNS record is changed to point inside (``127.0.0.1``, ``10.…``,
``169.254.169.254``) is refused, counted and logged, and the request fails
like an unknown name. The configured Maghress site's own host is the one
exception (``newscrawl.crawl.hostpolicy``). IP literals never reach a resolver:
``RequestGuard`` checks those (and refuses every other port of the site's own host).
"""

from __future__ import annotations

import logging

from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import DNSLookupError

from newscrawl.crawl.hostpolicy import HostPolicy

logger = logging.getLogger(__name__)

REFUSED_STAT = "newscrawl/refused/internal_address"


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, with the host policy applied to every answer.

    Scrapy builds one resolver per process (``from_crawler`` receives the
    ``CrawlerProcess``): the policy is that of the process's running spider(s).
    """

    def __init__(self, reactor, cache_size: int, timeout: float, process=None):
        super().__init__(reactor, cache_size, timeout)
        self.process = process

    @classmethod
    def from_crawler(cls, crawler, reactor):
        resolver = super().from_crawler(crawler, reactor)
        resolver.process = crawler
        return resolver

    def getHostByName(self, name: str, timeout=()):  # noqa: N802 - Twisted's name
        return super().getHostByName(name, timeout).addCallback(self._checked, name)

    def _crawlers(self) -> list:
        crawlers = getattr(self.process, "crawlers", None)
        return list(crawlers) if crawlers is not None else [self.process] if self.process is not None else []

    def _checked(self, address: str, name: str) -> str:
        spiders = [(c, c.spider) for c in self._crawlers() if getattr(c, "spider", None) is not None]
        if not spiders or any(HostPolicy.of(spider).may_connect(name, address) for _, spider in spiders):
            return address
        for crawler, _ in spiders:
            crawler.stats.inc_value(REFUSED_STAT)
        logger.warning("Refused %s: it resolves to %s, an internal address", name, address)
        raise DNSLookupError(f"{name} resolves to {address}, an internal address: refused")
