"""Which hosts and addresses a crawl may reach: one decision for the downloader, the resolver and the browser.

- Publisher pages (and each redirect hop) only on publisher hosts: the registered
  sources' ``publisher_hosts`` (or ``NEWSCRAWL_PUBLISHER_HOSTS``), plus the
  configured Maghress site's own host (a mirror serves its publisher pages too).
- No private, loopback, link-local or reserved address, whether written in the
  URL or returned by DNS for a name, except the configured site's own host (a
  mirror on 127.0.0.1 is a mirror, ``localhost.example`` resolving to 127.0.0.1 is not).

``newscrawl.crawl.middlewares.PublisherHostGuard`` applies it to Scrapy's publisher
requests, ``newscrawl.crawl.resolver.GuardedResolver`` to every name Scrapy resolves
(at connection time: the address checked is the one connected to), and
``newscrawl.crawl.browserproxy`` to everything a rendering Chromium asks for.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def is_internal(address: str) -> bool:
    """A private, loopback, link-local, reserved or unspecified address (``169.254.169.254`` included)."""
    ip = ip_literal(address)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_unspecified or ip.is_multicast


@dataclass(frozen=True)
class HostPolicy:
    publisher_hosts: frozenset[str]
    own_host: str  # the configured Maghress site's host (base_url / start_url): a mirror may be internal

    @classmethod
    def of(cls, spider) -> HostPolicy:
        """The policy of a running spider (its ``CrawlArgs``); none at all before it has any."""
        args = getattr(spider, "args", None)
        return cls(args.publisher_hosts, args.start_host) if args is not None else cls(frozenset(), "")

    def may_fetch_publisher(self, host: str) -> bool:
        """A publisher page (or a page a browser renders for one) may come from ``host``."""
        host = host.lower()
        return host in self.publisher_hosts or host == self.own_host

    def may_connect(self, host: str, address: str) -> bool:
        """``host`` may be reached at ``address``: never an internal address, except the site's own host."""
        return host.lower() == self.own_host or not is_internal(address)
