"""What a crawl may reach: every IANA special-purpose block is internal, the site's own origin is the one
exemption (not its host's other ports), and nothing but http(s) is ever requested."""

from __future__ import annotations

import pytest

from newscrawl.crawl.hostpolicy import HostPolicy, is_internal, origin_of

# IANA's IPv4 and IPv6 special-purpose registries, one address of each block that is not globally reachable
# (and multicast), plus the IPv6 forms that carry an internal IPv4 address.
INTERNAL = [
    "0.0.0.1", "10.1.2.3", "100.64.0.1", "100.100.100.200", "127.0.0.1", "169.254.169.254", "172.16.0.1",
    "172.31.255.255", "192.0.0.1", "192.0.0.170", "192.0.2.1", "192.88.99.1", "192.168.1.1", "198.18.0.1",
    "198.19.255.255", "198.51.100.1", "203.0.113.1", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
    "::", "::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::1", "100::1", "100:0:0:1::1", "2001::1", "2001:2::1", "2001:db8::1", "2002:7f00:1::1",
    "2002:a00:1::", "3fff::1", "5f00::1", "fc00::1", "fd12:3456::1", "fe80::1", "fec0::1", "ff02::1", "[::1]",
]
EXTERNAL = ["8.8.8.8", "1.1.1.1", "41.248.1.1", "2606:4700:4700::1111", "2a00:1450:4007::1", "64:ff9b::808:808",
            "2002:808:808::1", "::ffff:8.8.8.8", "www.lopinion.ma", "localhost.example"]


@pytest.mark.parametrize("address", INTERNAL)
def test_every_special_purpose_address_is_internal(address):
    assert is_internal(address)


@pytest.mark.parametrize("address", EXTERNAL)
def test_public_addresses_and_names_are_not(address):
    assert not is_internal(address)


MIRROR = HostPolicy(frozenset({"www.lopinion.ma", "127.0.0.1"}), origin_of("http://127.0.0.1:8000"))
PRODUCTION = HostPolicy(frozenset({"www.lopinion.ma", "www.maghress.com"}), origin_of("https://www.maghress.com"))


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/fr/lopinion?page=2", "http://127.0.0.1:8000/Article_a1.html"])
def test_the_mirrors_own_origin_may_be_reached(url):
    assert MIRROR.refusal(url) is None and MIRROR.refusal(url, publisher=True) is None
    assert MIRROR.may_connect("127.0.0.1", "127.0.0.1", 8000)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:6379/", "http://127.0.0.1:5432/x", "https://127.0.0.1:8000/", "http://127.0.0.1/",
    "http://127.0.0.2:8000/", "http://169.254.169.254/latest/meta-data/", "http://[::1]:8000/",
    "http://100.100.100.200/", "http://[::ffff:127.0.0.1]:8000/",
])
def test_other_ports_of_the_mirrors_host_and_other_internal_addresses_are_refused(url):
    assert MIRROR.refusal(url) is not None
    assert MIRROR.refusal(url, publisher=True) is not None


def test_the_browser_may_reach_the_mirror_at_its_port_only():
    assert MIRROR.may_connect("127.0.0.1", "127.0.0.1", 8000)
    assert not MIRROR.may_connect("127.0.0.1", "127.0.0.1", 6379)
    assert not MIRROR.may_connect("other.example", "127.0.0.1", 8000)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "file://127.0.0.1/dev/zero", "ftp://127.0.0.1/x",
                                 "s3://bucket/key", "data:text/html,<p>x", "gopher://127.0.0.1:6379/_INFO",
                                 "http://127.0.0.1:99999/", "http:///nohost"])
def test_only_http_and_https_are_ever_requested(url):
    assert MIRROR.refusal(url) is not None
    assert PRODUCTION.refusal(url) is not None


def test_production_publisher_pages_and_the_sites_https_move():
    assert PRODUCTION.refusal("https://www.lopinion.ma/Article_a1.html", publisher=True) is None
    assert PRODUCTION.refusal("https://evil.example/x", publisher=True) == "not a publisher host: evil.example"
    assert PRODUCTION.refusal("http://www.maghress.com/fr/lopinion") is None  # http -> https is the same site
    assert PRODUCTION.refusal("https://www.maghress.com:8443/fr/lopinion") is not None
