"""Which URLs, hosts and addresses a crawl may reach: one decision for the downloader, the resolver and the browser.

- Only ``http`` and ``https`` are ever requested (no ``file:``, ``ftp:``, ``s3:``), whatever found the link.
- Publisher pages (and each redirect hop) only on publisher hosts: the registered
  sources' ``publisher_hosts`` (or ``NEWSCRAWL_PUBLISHER_HOSTS``), plus the
  configured Maghress site's own host (a mirror serves its publisher pages too).
- No internal address (anything not globally routable: private, loopback,
  link-local, shared, documentation, benchmarking, multicast, reserved, and IPv6
  forms that embed such an IPv4 address), whether written in the URL or
  returned by DNS for a name, except at the configured site's own **origin**
  (scheme, host and port: a mirror on ``127.0.0.1:8000`` is a mirror, every other
  service on ``127.0.0.1`` is not; ``localhost.example`` resolving to 127.0.0.1 is not).

``newscrawl.crawl.middlewares.RequestGuard`` applies it to every request Scrapy
sends, ``newscrawl.crawl.resolver.GuardedResolver`` to every name Scrapy resolves
(at connection time: the address checked is the one connected to), and
``newscrawl.crawl.browserproxy`` to everything a rendering Chromium asks for.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

#: The only schemes a crawl fetches.
WEB_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

# IANA's special-purpose address registries: blocks that are not globally reachable (or deprecated), and
# multicast. ipaddress's own is_global misses some of them in older Pythons (100.64.0.0/10 up to 3.11, 3fff::/20).
_INTERNAL_NETWORKS = tuple(ipaddress.ip_network(block) for block in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
    "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
    "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
    "::/96", "::1/128", "64:ff9b:1::/48", "100::/64", "100:0:0:1::/64", "2001::/23", "2001:db8::/32", "3fff::/20",
    "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
))
# IPv6 forms that carry an IPv4 address a packet ends up at: judged by that address.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"),)


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in network for network in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_internal(address: str) -> bool:
    """An address that is not globally routable (``169.254.169.254`` and ``100.100.100.200`` included), or an
    IPv6 address that leads to one (``::ffff:127.0.0.1``, ``2002:7f00:1::``, ``64:ff9b::a00:1``). Not an address
    at all: ``False`` (a name is judged by what it resolves to)."""
    ip = ip_literal(address)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and (inner := _embedded_ipv4(ip)) is not None:
        ip = inner
    return not ip.is_global or ip.is_multicast or any(ip in network for network in _INTERNAL_NETWORKS
                                                      if network.version == ip.version)


Origin = tuple[str, str, int]  # (scheme, host, port)


def origin_of(url: str) -> Origin | None:
    """``(scheme, host, port)`` of an http(s) URL, the port made explicit; ``None`` for anything else."""
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:  # a port that is not a number, or out of range
        return None
    if scheme not in WEB_SCHEMES or not host or port is None:
        return None
    return scheme, host, port


@dataclass(frozen=True)
class HostPolicy:
    publisher_hosts: frozenset[str]
    own_origin: Origin | None  # the configured Maghress site's (base_url / start_url): a mirror may be internal

    @classmethod
    def of(cls, spider) -> HostPolicy:
        """The policy of a running spider (its ``CrawlArgs``); none at all before it has any."""
        args = getattr(spider, "args", None)
        return cls(args.publisher_hosts, origin_of(args.base_url)) if args is not None else cls(frozenset(), None)

    @property
    def own_host(self) -> str:
        return self.own_origin[1] if self.own_origin else ""

    def is_own_origin(self, origin: Origin | None) -> bool:
        """The configured site's own origin. (Its move from http to https on the default ports is the same site:
        a server that upgrades every request stays reachable.)"""
        if origin is None or self.own_origin is None or origin[1] != self.own_host:
            return False
        return origin == self.own_origin or {origin[::2], self.own_origin[::2]} == {("http", 80), ("https", 443)}

    def refusal(self, url: str, publisher: bool = False) -> str | None:
        """Why ``url`` may not be requested (``publisher``: as a publisher page or a hop towards one), or
        ``None`` when it may. A name is judged here by its host alone; its address when it is resolved."""
        origin = origin_of(url)
        if origin is None:
            return f"not an http(s) URL: {url[:100]}"
        host = origin[1]
        if publisher and not self.may_fetch_publisher(host):
            return f"not a publisher host: {host}"
        if host == self.own_host and not self.is_own_origin(origin):
            return f"another port or scheme of the site's own host ({origin[0]}://{host}:{origin[2]})"
        if is_internal(host) and not self.is_own_origin(origin):
            return f"an internal address: {host}"
        return None

    def may_fetch_publisher(self, host: str) -> bool:
        """A publisher page (or a page a browser renders for one) may come from ``host``."""
        host = host.lower()
        return host in self.publisher_hosts or host == self.own_host

    def may_connect(self, host: str, address: str, port: int | None = None) -> bool:
        """``host`` may be reached at ``address`` (on ``port``, when known): never an internal address, except at
        the site's own origin. (The resolver knows no port: ``RequestGuard`` has refused every other port of
        the site's own host before its name is resolved.)"""
        if not is_internal(address):
            return True
        return host.lower() == self.own_host and (port is None or self.is_own_port(port))

    def is_own_port(self, port: int) -> bool:
        """The port of the site's own origin (or the other default port: its http/https move)."""
        if self.own_origin is None:
            return False
        return port == self.own_origin[2] or {port, self.own_origin[2]} == {80, 443}
