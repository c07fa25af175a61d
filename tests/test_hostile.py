"""Pages built to hurt: every parser reads each in bounded time without raising, and a crawl among them (a gzip
bomb, an endless body, a page over the parse cap, a parser bug, links to local files and local services) ends,
in bounded memory, with every other article stored."""

from __future__ import annotations

import csv
import json
import sqlite3
import time

import pytest
from scrapy.http import HtmlResponse

from newscrawl.extract.assemble import Assembler
from newscrawl.normalize import clean_text, parse_date
from newscrawl.extract.sites import aujourdhui, generic, lematin, lopinion, maghress
from newscrawl.items import FIELD_MAX_CHARS

from .conftest import run_crawl
from .support.fixtureserver import FixtureServer
from .support.hostile import hostile_pages, payloads
from .support.mirrors import add_listing_entry, maghress_article

pytestmark = pytest.mark.timeout(400)

#: Seconds one parser may take on one page: generous for a busy 2-core machine (a linear parser takes well
#: under one); the quadratic paths these pages were built against took from 30 s to many minutes on them.
BOUND = 10.0

PAGES = hostile_pages()
ARTICLE_URL = "http://127.0.0.1:8000/fr/lopinion/5010001"
LISTING_URL = "http://127.0.0.1:8000/fr/lopinion"
PUBLISHER_URL = "http://127.0.0.1:8000/Un-article_a12345.html"


class _Stats:
    """The assembler's counters, kept to look at."""

    def __init__(self):
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1) -> None:
        self.values[key] = self.values.get(key, 0) + count


def _readers():
    def publisher(module):
        return lambda r: module.PARSER.parse_article(r, r.url, site_names=("L'Opinion",))

    return {
        "maghress article": (ARTICLE_URL, lambda r: maghress.parse_article(r, r.url)),
        "maghress listing": (LISTING_URL, lambda r: (maghress.listing_entries(r, r.url, "lopinion"),
                                                     maghress.ticker_links(r, r.url), maghress.next_page(r, r.url))),
        "lopinion": (PUBLISHER_URL, publisher(lopinion)),
        "lematin": (PUBLISHER_URL, publisher(lematin)),
        "aujourdhui": (PUBLISHER_URL, publisher(aujourdhui)),
        "generic": (PUBLISHER_URL, publisher(generic)),
    }


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_parser_reads_a_hostile_page_in_bounded_time_without_raising(name):
    body = PAGES[name].encode("utf-8")
    slow = {}
    for reader, (url, read) in _readers().items():
        response = HtmlResponse(url=url, body=body, encoding="utf-8")
        started = time.perf_counter()
        read(response)  # an exception fails the test: the page would be lost
        if (elapsed := time.perf_counter() - started) > BOUND:
            slow[reader] = round(elapsed, 1)
    # The article assembled from both pages, as the crawl does (item loader, normalisers).
    stats = _Stats()
    assembler = Assembler(stats)
    started = time.perf_counter()
    read = assembler.maghress_page(HtmlResponse(url=ARTICLE_URL, body=body, encoding="utf-8"), ARTICLE_URL)
    publisher = assembler.publisher_page(HtmlResponse(url=PUBLISHER_URL, body=body, encoding="utf-8"),
                                         PUBLISHER_URL, "lopinion")
    articles = assembler.articles(read, publisher)
    if (elapsed := time.perf_counter() - started) > BOUND:
        slow["assembly"] = round(elapsed, 1)
    assert not slow, f"{name}: {slow}"
    assert publisher is not None, f"{name}: the publisher parser raised ({stats.values})"
    assert len(articles) == 1 and articles[0]["url"] == ARTICLE_URL


@pytest.mark.parametrize("value", [["a", "b"], 3, 2.5, None, True, {"@value": "x"}])
def test_a_json_ld_value_that_is_no_string_cleans_to_nothing(value):
    assert clean_text(value) == ""
    assert parse_date(value) is None


@pytest.mark.parametrize("name", ["unclosed_comments", "unclosed_tags", "escaped_tag_starts", "digits"])
def test_the_normalisers_are_linear_on_any_text(name):
    text = payloads()[name]["attr"] * 4
    started = time.perf_counter()
    clean_text(text)
    parse_date(text)
    assert time.perf_counter() - started < BOUND


def test_a_json_ld_list_where_a_string_is_expected_does_not_cost_the_publisher_page():
    jsonld = json.dumps({"@type": "NewsArticle", "headline": ["Un titre", "Deux"], "datePublished": ["2025-12-01"],
                         "author": [[{"name": "Omar ASSIF"}]], "articleBody": 42})
    html = (f'<html><head><script type="application/ld+json">{jsonld}</script></head><body>'
            '<div class="titre"><h1>Le titre de la page</h1></div><div class="texte"><p>Le texte.</p></div>'
            '<div>Rédigé par Sara ZAIRI le Lundi 1 Décembre 2025</div></body></html>')
    fields = lopinion.PARSER.parse_article(HtmlResponse(url=PUBLISHER_URL, body=html.encode(), encoding="utf-8"),
                                    PUBLISHER_URL)
    assert fields["title"] == "Le titre de la page"
    assert fields["body"] == ["Le texte."]
    assert fields["dates"] == ["Lundi 1 Décembre 2025"]


# ---------------------------------------------------------------------------------------------------------------
# A crawl among hostile pages
# ---------------------------------------------------------------------------------------------------------------

HOSTILE_ARTICLES = {
    # id: (title, body markup, source link)
    5010101: ("Un commentaire piégé", "<p>Début.</p>" + payloads()["comment_of_tag_starts"]["text"], ""),
    5010102: ("Une signature piégée", "<p>" + payloads()["bylines"]["text"] + "</p>", ""),
    5010103: ("Une page source qui explose", "<p>Le texte de Maghress.</p>", "/Bomb_a22.html"),
    5010104: ("Une page source sans fin", "<p>Le texte de Maghress.</p>", "/Endless_a23.html"),
    5010105: ("Une page source au JSON-LD étrange", "<p>Le texte de Maghress.</p>", "/Etrange_a24.html"),
    5010106: ("Un article très long", "<p>" + "mot " * 150_000 + "</p>", ""),
    5010107: ("Une page plus grande que ce que lisent les parseurs", "<p>Le début.</p>" + "<p>suite</p>" * 400_000, ""),
    5010108: ("Une page source sur un autre port", "<p>Le texte de Maghress.</p>", "{{SERVICE}}/secret"),
}


@pytest.fixture
def hostile_site(site_copy, tmp_path):
    for maghress_id, (title, body, link) in HOSTILE_ARTICLES.items():
        (site_copy / "fr" / "lopinion" / f"{maghress_id}.html").write_text(
            maghress_article(title, body, source_link=link), "utf-8")
        add_listing_entry(site_copy, "lopinion", f'<li><a href="/fr/lopinion/{maghress_id}">{title}</a></li>')
    (site_copy / "Etrange_a24.html").write_text(PAGES["jsonld_odd_types"], "utf-8")
    routes = json.loads((site_copy / "_routes.json").read_text("utf-8"))
    routes.update({"/Bomb_a22.html": {"gzip_bomb": 200_000_000}, "/Endless_a23.html": {"endless": True}})
    (site_copy / "_routes.json").write_text(json.dumps(routes), "utf-8")
    # The last listing page's "next" link reads a local file.
    last = site_copy / "fr" / "lopinion" / "index@page=3.html"
    last.write_text(last.read_text("utf-8").replace(
        '<div class="pagination">', '<div class="pagination"><a rel="next" href="file://127.0.0.1/dev/zero">»</a>'),
        "utf-8")
    service_root = tmp_path / "service"
    service_root.mkdir()
    (service_root / "secret").write_text("a local service that no crawl may reach")
    with FixtureServer(service_root) as service:
        with FixtureServer(site_copy, variables={"SERVICE": service.origin}) as server:
            yield server, service


def test_a_crawl_among_hostile_pages_ends_in_bounded_memory_and_stores_every_other_article(hostile_site, tmp_path):
    server, service = hostile_site
    db = tmp_path / "a.db"
    feed = tmp_path / "feed.csv"
    result = run_crawl(f"{server.origin}/fr/lopinion", f"sqlite:///{db}", tmp_path, csv=feed, timeout=300,
                       measure_rss=True)
    assert result.returncode == 0, result.log[-3000:]
    # Python's csv reader, with its default limit of 131,072 characters a cell, reads the feed whole.
    with feed.open(encoding="utf-8", newline="") as f:
        in_feed = {int(r["maghress_id"]): r for r in csv.DictReader(f)}
    assert set(HOSTILE_ARTICLES) <= set(in_feed)
    with sqlite3.connect(db) as conn:
        rows = {r[0]: r[1:] for r in conn.execute("SELECT maghress_id, title, body, source_url FROM articles")}
    # Every hostile article is stored from what could be read; the fixture site's own articles are all there.
    for maghress_id, (title, _, link) in HOSTILE_ARTICLES.items():
        if link != "/Etrange_a24.html":  # (that publisher page's own headline wins: "texte")
            assert rows[maghress_id][0] == title, maghress_id
    assert rows[5010105][0] == "texte"
    assert {5010001, 5010003, 5010005, 5010007, 5010009, 5010011, 5010012} <= set(rows)
    assert len(rows[5010106][1]) <= FIELD_MAX_CHARS["body"]
    stats = result.stats
    assert stats["newscrawl/capped/download_too_large"] == 2  # the gzip bomb and the endless body
    assert stats["newscrawl/capped/parse_input"] == 1  # 5010107
    assert stats["newscrawl/capped/field/body"] >= 1  # 5010106
    assert stats["newscrawl/refused/request"] >= 2  # the file: link, the other port
    assert service.requests == []
    assert 0 < stats["newscrawl/slowest_page/seconds"] < BOUND and stats["newscrawl/slowest_page/url"]
    # A 200 MB decompressed body once took this crawl to 9.4 GB.
    assert result.peak_rss_mb < 400, result.peak_rss_mb


def test_a_parser_error_costs_its_page_alone_and_sends_it_back_to_the_frontier(site_server, tmp_path):
    db = tmp_path / "a.db"
    result = run_crawl(site_server.origin, f"sqlite:///{db}", tmp_path, spider="lopinion_broken",
                       args={"broken_ids": "5010003"},
                       settings={"SPIDER_MODULES": "newscrawl.spiders,tests.support.spiders"})
    assert result.returncode == 0, result.log[-3000:]
    with sqlite3.connect(db) as conn:
        stored = {r[0] for r in conn.execute("SELECT maghress_id FROM articles")}
        frontier = conn.execute("SELECT state, attempts, last_error FROM article_frontier "
                                "WHERE article_key = 'lopinion/5010003'").fetchone()
    assert 5010003 not in stored and {5010001, 5010005, 5010007} <= stored
    assert frontier[0] == "failed" and frontier[1] == 1
    assert "RuntimeError" in frontier[2] and "planted parser bug" in frontier[2]
    assert result.stats["newscrawl/page_errors/article"] == 1
    assert result.stats["newscrawl/page_errors/article/RuntimeError"] == 1
    assert "Spider error processing" not in result.log  # handled, not left to Scrapy's catch-all
    assert result.log.count(f"Error reading article page {site_server.origin}/fr/lopinion/5010003") == 1
