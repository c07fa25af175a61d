"""Several sources in one crawl: `scrapy crawl maghress` against the fixture mirror.

The mirror serves L'Opinion, Le Matin and Aujourd'hui le Maroc (each with a
publisher parser) and Libération (none: the generic extractor reads its
pages). Every publisher page lives on the mirror's host, which ``base_url``
makes a publisher host.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from newscrawl.sources import SOURCES, parse_source_list, source_named

from .conftest import REPO, run_crawl

pytestmark = pytest.mark.timeout(240)

FIXTURE_SOURCES = "lopinion,lematin,aujourdhui,libe"


@pytest.fixture(scope="module")
def multi_crawl(site_server, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("multi")
    db = workdir / "articles.db"
    site_server.clear_log()
    result = run_crawl(site_server.origin, f"sqlite:///{db}", workdir, spider="maghress",
                       args={"sources": FIXTURE_SOURCES}, csv=workdir / "articles.csv")
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = {row["url"].rsplit("/fr/", 1)[1]: dict(row) for row in conn.execute("SELECT * FROM articles")}
    result.database = db  # for the re-crawl
    return result, rows, site_server.counts()


def test_every_selected_source_is_crawled_in_one_run(multi_crawl):
    result, rows, _ = multi_crawl
    assert result.returncode == 0, result.log[-3000:]
    by_source: dict[str, int] = {}
    for row in rows.values():
        by_source[row["source"]] = by_source.get(row["source"], 0) + 1
    assert by_source == {"lopinion": 11, "lematin": 3, "aujourdhui": 2, "libe": 2, "leconomiste": 1}
    assert result.stats["newscrawl/articles/source/lematin"] == 3


def test_publisher_parsers_fill_each_sources_fields(multi_crawl, site_server):
    _, rows, _ = multi_crawl
    matin = rows["lematin/1234567"]
    assert matin["extractor"] == "lematin" and matin["generic_fields"] == ""
    assert matin["source_name"] == "Le Matin"
    assert matin["title"] == "Bourse de Casablanca : ouverture dans le vert"
    assert matin["lead"] == "Le MASI s’inscrit en hausse dès l’ouverture."
    assert json.loads(matin["authors"]) == ["Nadia Ech-Chafii"]
    assert matin["published_at"] == "2025-12-09T10:15:00+01:00"
    assert matin["source_url"] == f"{site_server.origin}/economie/bourse-de-casablanca-ouverture-dans-le-vert/331201"
    assert len(matin["body"].split("\n\n")) == 3  # the publisher's full body, not Maghress's two paragraphs
    alm = rows["aujourdhui/7001001"]
    assert alm["extractor"] == "aujourdhui" and json.loads(alm["authors"]) == ["ALM"]
    assert alm["lead"] == "Le programme entre dans sa dernière phase."
    assert "Partager" not in alm["body"] and "Articles similaires" not in alm["body"]  # plugin blocks left out
    assert rows["lopinion/5010001"]["extractor"] == "lopinion"


def test_a_source_without_parser_is_read_by_the_generic_extractor_and_marked(multi_crawl):
    _, rows, _ = multi_crawl
    libe = rows["libe/998877"]
    assert libe["extractor"] == "generic"
    assert set(libe["generic_fields"].split(", ")) >= {"title", "body", "published_date", "authors"}
    # The publisher's French title and full text, not Maghress's Spanish headline.
    assert libe["title"] == "Meknès : Lalla Asmaa inaugure un centre d'excellence pour enfants sourds"
    assert libe["body"].startswith("SAR la Princesse Lalla Asmaa a inauguré jeudi à Meknès")
    assert "Les plus lus" not in libe["body"] and "Commentaires" not in libe["body"]
    assert json.loads(libe["authors"]) == ["Mehdi Ouassat"]
    # No metadata on the page: the generic extractor found no author; the date it found agrees with Maghress.
    plain = rows["libe/998878"]
    assert plain["extractor"] == "generic" and "authors" not in plain["generic_fields"]
    assert plain["published_date"] == "2025-12-06" and plain["title"] == "Le Parlement adopte la loi de finances 2026"


def test_the_byline_names_the_source(multi_crawl):
    _, rows, _ = multi_crawl
    # Filed under /fr/libe, signed "Publié dans L'Economiste le …".
    row = rows["libe/998879"]
    assert row["source"] == "leconomiste" and row["source_name"] == "L'Economiste"
    assert row["extractor"] == ""  # no publisher page: only Maghress was read


def test_ticker_feeds_every_selected_source(multi_crawl):
    _, rows, requests = multi_crawl
    # 1234568 is on no listing page, only in the ticker.
    assert rows["lematin/1234568"]["title"].startswith("Performances boursières en 2025")
    # The Arabic section is not a French source: never fetched.
    assert not any(path.startswith("/alittihad") for path in requests)


def test_same_headline_same_day_in_two_papers_are_two_articles(multi_crawl):
    _, rows, _ = multi_crawl
    assert rows["lopinion/5010012"]["title"] == rows["lematin/1234570"]["title"]
    assert rows["lopinion/5010012"]["published_date"] == rows["lematin/1234570"]["published_date"]


def test_a_recrawl_of_every_source_fetches_only_each_first_listing_page(multi_crawl, site_server, tmp_path):
    site_server.clear_log()
    first, _, _ = multi_crawl
    again = run_crawl(site_server.origin, f"sqlite:///{first.database}", tmp_path, spider="maghress",
                      args={"sources": FIXTURE_SOURCES})
    assert again.returncode == 0, again.log[-2000:]
    assert sorted(site_server.counts()) == ["/fr/aujourdhui", "/fr/lematin", "/fr/libe", "/fr/lopinion", "/robots.txt"]
    assert again.stats.get("newscrawl/store/inserted", 0) == 0


def test_lopinion_shortcut_is_the_maghress_spider_for_one_source(site_server, tmp_path):
    result = run_crawl(site_server.origin, f"sqlite:///{tmp_path / 'a.db'}", tmp_path, spider="lopinion",
                       args={"sources": "lematin"})
    assert result.returncode == 1
    assert "the lopinion spider crawls L'Opinion only" in result.log


def test_a_registered_source_missing_from_maghress_fails_the_run_and_the_others_are_crawled(site_server, tmp_path):
    # The mirror has no /fr/albayane: its listing answers 404; the other source is crawled as usual, and
    # the run says that a source was unreachable (exit status 5), with the slug hint a 404 deserves.
    result = run_crawl(site_server.origin, f"sqlite:///{tmp_path / 'a.db'}", tmp_path, spider="maghress",
                       args={"sources": "aujourdhui,albayane"})
    assert result.returncode == 5, result.log[-2000:]
    assert result.stats["newscrawl/listing/failed/albayane"] == 1
    assert "is /fr/albayane the right Maghress section for this source?" in result.log
    assert result.stats["newscrawl/unreachable"] == [
        "albayane: no listing page could be fetched (1 tried; last: HTTP 404)"]
    assert result.stats["newscrawl/articles/source/aujourdhui"] == 2


def test_unknown_source_is_refused_with_one_line(site_server, tmp_path):
    result = run_crawl(site_server.origin, f"sqlite:///{tmp_path / 'a.db'}", tmp_path, spider="maghress",
                       args={"sources": "lopinion,lemonde"})
    assert result.returncode == 1
    assert "unknown source(s) lemonde" in result.log and "Traceback" not in result.log


def test_registry_defaults_and_byline_names():
    assert [s.slug for s in parse_source_list("")] == list(SOURCES)
    assert source_named("L'opinion").slug == "lopinion"
    assert source_named("L’Économiste").slug == "leconomiste"
    assert source_named("Aujourd'hui le Maroc").slug == "aujourdhui"
    assert source_named("Le Temps") is None
    from newscrawl.extract.sites import PUBLISHER_PARSERS

    assert all(s.parser in PUBLISHER_PARSERS for s in SOURCES.values() if s.parser)


def test_a_publisher_layout_change_raises_the_alarm_even_though_maghress_fills_the_column(site_copy, tmp_path):
    from tests.support.fixtureserver import FixtureServer

    # Le Matin renames its body container: the Maghress copy still gives every article a body.
    for page in (site_copy / "economie").rglob("*.html"):
        page.write_text(page.read_text("utf-8").replace("article-body", "article-corps"), "utf-8")
    with FixtureServer(site_copy) as server:
        result = run_crawl(server.origin, f"sqlite:///{tmp_path / 'a.db'}", tmp_path, spider="maghress",
                           args={"sources": "lematin"}, settings={"NEWSCRAWL_ALARM_MIN_ARTICLES": "3"})
    assert result.returncode == 3, result.log[-2000:]
    assert result.stats["newscrawl/coverage/body"] == 1.0
    assert "publisher parser lematin found body on 0% of 3 pages" in result.log
    assert "lematin: div.article-body → json-ld articleBody" in result.log


def test_a_parser_that_fails_on_a_page_costs_nothing_but_that_page(monkeypatch):
    from scrapy.http import HtmlResponse, Request
    from scrapy.utils.test import get_crawler

    from newscrawl.extract.assemble import MaghressPage
    from newscrawl.extract.sites import generic
    from newscrawl.spiders.maghress import MaghressSpider

    def broken(page, url, **hints):
        raise ValueError("unexpected markup")

    monkeypatch.setattr(generic, "parse_article", broken)
    crawler = get_crawler(MaghressSpider, {"NEWSCRAWL_RENDER_MODES": {}})
    spider = MaghressSpider.from_crawler(crawler, sources="libe")
    read = MaghressPage(url="https://www.maghress.com/fr/libe/998878", maghress_id=998878, source="libe",
                        source_name="Libération", title="Le Parlement adopte la loi de finances 2026",
                        body=("La Chambre a adopté le texte.",), dates=("06 - 12 - 2025",))
    url = "https://www.libe.ma/le-parlement_a1001.html"
    response = HtmlResponse(url, body=b"<html><body><p>x</p></body></html>", request=Request(url))
    [article] = list(spider.parse_publisher(response, maghress_page=read))
    assert article["title"] == read.title and article["published_date"] == "2025-12-06"
    assert article["extractor"] == ""  # nothing of the publisher page was used
    assert crawler.stats.get_value("newscrawl/publisher/generic/errors") == 1


def test_the_worked_example_of_a_publisher_parser_reads_a_page():
    """docs/sources.md's new parser is a module of chains and nothing else: what it shows must work as shown."""
    import re
    import textwrap

    from scrapy.http import HtmlResponse

    doc = (REPO / "docs" / "sources.md").read_text("utf-8")
    block = next(textwrap.dedent(b) for b in re.findall(r"```python\n(.*?)```", doc, re.S) if "PublisherParser(" in b)
    module: dict = {}
    exec(compile(block, "docs/sources.md", "exec"), module)  # noqa: S102 - our own documentation
    page = HtmlResponse(url="https://lnt.ma/a.html", encoding="utf-8", body="""<html><body>
        <h1 class="titre">Le budget adopté</h1><p class="chapo">Le chapô.</p>
        <div class="corps"><p>Premier paragraphe.</p><p>Second paragraphe.</p></div>
        <span class="date">9 décembre 2025</span></body></html>""".encode())
    raw = module["PARSER"].parse_article(page, page.url)
    assert (raw["title"], raw["lead"], raw["body"], raw["dates"]) == (
        "Le budget adopté", "Le chapô.", ["Premier paragraphe.", "Second paragraphe."], ["9 décembre 2025"])
    assert module["PARSER"].fallbacks["body"] == ["div.corps", "json-ld articleBody"]
