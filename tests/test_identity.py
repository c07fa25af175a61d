"""Article identity and nothing lost: one article, one key, whatever host, run or failure.

Every crawl here runs on a mirror the project's own fixtures did not model
(``tests/support/mirrors.canonical_mirror``): its Maghress pages declare the
production host as canonical, and its listings link to articles with slugs,
queries, the production host over http, or the mirror's own host.
"""

from __future__ import annotations

import csv
import json
import random
import string

import pytest
from sqlalchemy import text

from tests.support.fixtureserver import FixtureServer
from newscrawl.ops.status import store_status
from newscrawl.store import Store

from .conftest import run_crawl
from .support.mirrors import add_listing_entry, canonical_mirror, maghress_article

pytestmark = pytest.mark.timeout(300)

SOURCES = "lopinion,lematin,aujourdhui,libe"  # the sources the fixture site holds
FIRST_PAGES = sorted(["/robots.txt", "/fr/lopinion", "/fr/lematin", "/fr/aujourdhui", "/fr/libe"])


@pytest.fixture
def mirror(tmp_path):
    return canonical_mirror(tmp_path / "mirror")


def crawl(server, database_url, workdir, **kwargs):
    args = {"sources": SOURCES, **kwargs.pop("args", {})}
    return run_crawl(server.origin, database_url, workdir, spider="maghress", args=args, **kwargs)


def rows(database_url: str) -> dict[str, dict]:
    """Stored articles by Maghress key."""
    store = Store(database_url)
    with store.engine.connect() as conn:
        found = {r.article_key: dict(r._mapping) for r in conn.execute(text("SELECT * FROM articles"))}
    store.close()
    return found


def article_pages(server) -> list[str]:
    return sorted(p for p in server.requests if p.startswith("/fr/") and p.rsplit("/", 1)[1].isdigit())


def test_a_recrawl_of_an_unchanged_mirror_fetches_only_the_first_listing_pages(mirror, database_url, tmp_path):
    with FixtureServer(mirror) as server:
        first = crawl(server, database_url, tmp_path)
        assert first.returncode == 0, first.log[-3000:]
        stored = rows(database_url)
        assert len(stored) == 19  # lopinion 11 (5010006 is an alias), lematin 3, aujourdhui 2, libe 2, leconomiste 1
        # The URL kept is the page's canonical one: the production host, for every article.
        assert all(r["url"] == f"https://www.maghress.com/fr/{key}" for key, r in stored.items())
        server.clear_log()
        second = crawl(server, database_url, tmp_path)
        assert second.returncode == 0, second.log[-3000:]
        assert sorted(server.requests) == FIRST_PAGES
    assert rows(database_url).keys() == stored.keys()


def test_an_article_that_failed_through_a_whole_run_is_stored_by_the_next(mirror, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'a.db'}"
    with FixtureServer(mirror) as server:
        # On the last listing page, behind two pages that the next run finds all stored.
        server.site.routes["/fr/lopinion/5010011"] = {"status": 503}
        first = crawl(server, database_url, tmp_path)
        assert first.returncode == 0, first.log[-3000:]
        assert "lopinion/5010011" not in rows(database_url)
        assert first.stats["newscrawl/frontier/failed"] == 1
        del server.site.routes["/fr/lopinion/5010011"]
        server.clear_log()
        # One request at a time, so that the server's log is the order the crawl asked in.
        second = crawl(server, database_url, tmp_path, settings={"CONCURRENT_REQUESTS": "1"})
        assert second.returncode == 0, second.log[-3000:]
        assert article_pages(server) == ["/fr/lopinion/5010011"]  # and no other article again
        # What the archive owes comes first: before any listing page.
        listings = [i for i, p in enumerate(server.requests) if p.startswith("/fr/") and not p.rsplit("/", 1)[1].isdigit()]
        assert server.requests.index("/fr/lopinion/5010011") < min(listings), server.requests
        assert "/fr/lopinion?page=3" not in server.requests  # found from the frontier, not by walking the listing
    assert rows(database_url)["lopinion/5010011"]["title"].startswith("CA FIFA 25")
    store = Store(database_url)
    assert store_status(store, 5)["lopinion"]["failed"] == 0


@pytest.mark.parametrize("failing", ["/fr/lopinion?page=2", "/fr/lopinion?page=3"])
def test_a_listing_page_that_failed_through_a_whole_run_is_walked_by_the_next(mirror, tmp_path, failing):
    database_url = f"sqlite:///{tmp_path / 'a.db'}"
    with FixtureServer(mirror) as server:
        server.site.routes[failing] = {"status": 503}
        first = crawl(server, database_url, tmp_path, args={"sources": "lopinion"})
        assert first.returncode == 0, first.log[-3000:]
        assert "lopinion/5010011" not in rows(database_url)  # on page 3, never reached
        del server.site.routes[failing]
        second = crawl(server, database_url, tmp_path, args={"sources": "lopinion"})
        assert second.returncode == 0, second.log[-3000:]
    # Page 1 (and page 2) hold nothing new, yet the walk went on: the last one had not ended.
    assert {"lopinion/5010011", "lopinion/5010012", "lopinion/5010007"} <= rows(database_url).keys()


def test_a_republished_story_fetches_its_publisher_page_once_in_a_run_and_across_runs(mirror, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'a.db'}"
    publisher_page = "/Khamssa-w-Khmiss-Jaylann-le-retour-manifeste_a22940.html"
    with FixtureServer(mirror) as server:
        first = crawl(server, database_url, tmp_path, args={"sources": "lopinion"})
        assert first.returncode == 0, first.log[-3000:]
        # 5010005 and 5010006 link to one publisher page (the second with a tracking query).
        assert [p for p in server.requests if p.startswith(publisher_page)] == [publisher_page]
        # A third id republishes it in the next run: stored as an alias, the publisher page not fetched.
        (mirror / "fr" / "lopinion" / "5010030.html").write_text(maghress_article(
            "« Khamssa w Khmiss » : Jaylann, le retour manifeste", "<p>Le rappeur Jaylann revient.</p>",
            source_link="{{ORIGIN}}" + publisher_page), "utf-8")
        add_listing_entry(mirror, "lopinion", '<li><a href="/fr/lopinion/5010030">Khamssa w Khmiss : Jaylann</a></li>')
        server.clear_log()
        second = crawl(server, database_url, tmp_path, args={"sources": "lopinion"})
        assert second.returncode == 0, second.log[-3000:]
        assert article_pages(server) == ["/fr/lopinion/5010030"]
        assert not [p for p in server.requests if p.startswith(publisher_page)]
    # One row for the three ids (whichever of 5010005 and 5010006 came first), the two others its aliases.
    store = Store(database_url)
    with store.engine.connect() as conn:
        owners = conn.execute(text(
            "SELECT a.article_key FROM article_aliases l JOIN articles a ON a.id = l.article_id"
            " WHERE l.article_key IN ('lopinion/5010005', 'lopinion/5010006', 'lopinion/5010030')")).scalars().all()
    assert len(owners) == 2 and len(set(owners)) == 1 and owners[0] in ("lopinion/5010005", "lopinion/5010006")


# -- pages that break the model's assumptions, in one crawl ---------------------------------------

STOCK_BODY = "<p>Réservé aux abonnés.</p>"


def _publisher_page(title: str, canonical: str, body: str = "", jsonld: str = "") -> str:
    return (
        f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{title}</title>'
        f'<link rel="canonical" href="{canonical}">'
        '<meta property="article:published_time" content="2025-12-12T09:30:00+01:00">'
        + (f'<script type="application/ld+json">{jsonld}</script>' if jsonld else "")
        + f'</head><body><div id="z_col1"><div class="titre"><h1>{title}</h1></div>'
        f'<div class="texte">{body}</div></div></body></html>'
    )


def _edge_cases(site) -> None:
    """Articles of L'Opinion the fixture site lacks, each breaking one assumption."""
    pages = {
        # Two stories whose Maghress body is a stock line of three words.
        5010021: maghress_article("Le budget 2026 adopté en seconde lecture", STOCK_BODY),
        5010022: maghress_article("Les Lions qualifiés pour le quart de finale", STOCK_BODY),
        # A publisher whose canonical link is its home page, one whose canonical is the article's section.
        5010023: maghress_article("Sécheresse : les barrages à 28 %", "<p>Le taux de remplissage baisse.</p>",
                                  source_link="{{ORIGIN}}/Secheresse-barrages_a40023.html"),
        5010024: maghress_article("Tanger Med : trafic record en novembre", "<p>Le port a battu son record.</p>",
                                  source_link="{{ORIGIN}}/Tanger-Med-record_a40024.html"),
        5010025: maghress_article("Éducation : la rentrée des préscolaires", "<p>Les classes ouvrent lundi.</p>",
                                  source_link="{{ORIGIN}}/societe/education-rentree-prescolaire.html"),
        5010026: maghress_article("Santé : une campagne de vaccination", "<p>La campagne commence mardi.</p>",
                                  source_link="{{ORIGIN}}/societe/sante-campagne-vaccination.html"),
        # A NUL (JSON-escaped) in the publisher page's JSON-LD: author, headline, body.
        5010027: maghress_article("Casablanca : le tramway prolongé", "<p>La ligne 3 est prolongée.</p>",
                                  source_link="{{ORIGIN}}/Tramway-prolonge_a40027.html"),
        # "<<" and ">>" written as entities in the headline: text, not a tag.
        5010028: maghress_article("Interview : « Le silence amplifie la détresse des &lt;&lt; étudiants &gt;&gt; "
                                  "marocains de Chypre du Nord »", "<p>Haitam Nkita raconte.</p>"),
    }
    for maghress_id, html in pages.items():
        (site / "fr" / "lopinion" / f"{maghress_id}.html").write_text(html, "utf-8")
        add_listing_entry(site, "lopinion", f'<li><a href="/fr/lopinion/{maghress_id}">article {maghress_id}</a></li>')
    (site / "Secheresse-barrages_a40023.html").write_text(_publisher_page(
        "Sécheresse : les barrages à 28 %", "{{ORIGIN}}/", "<p>Le taux de remplissage des barrages baisse.</p>"), "utf-8")
    (site / "Tanger-Med-record_a40024.html").write_text(_publisher_page(
        "Tanger Med : trafic record en novembre", "{{ORIGIN}}/", "<p>Le port de Tanger Med a battu son record.</p>"),
        "utf-8")
    (site / "societe").mkdir(exist_ok=True)
    for name, title in (("education-rentree-prescolaire", "Éducation : la rentrée des préscolaires"),
                        ("sante-campagne-vaccination", "Santé : une campagne de vaccination")):
        (site / "societe" / f"{name}.html").write_text(_publisher_page(
            title, "{{ORIGIN}}/societe", f"<p>{title}, le texte entier.</p>"), "utf-8")
    jsonld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle",
                         "headline": "Casablanca : le tramway\u0000 prolongé",
                         "author": [{"@type": "Person", "name": "Omar\u0000 ASSIF"}],
                         "articleBody": "La ligne 3 du tramway\u0000 est prolongée jusqu'à l'aéroport."})
    (site / "Tramway-prolonge_a40027.html").write_text(_publisher_page(
        "Casablanca : le tramway prolongé", "{{ORIGIN}}/Tramway-prolonge_a40027.html", jsonld=jsonld), "utf-8")


def test_pages_that_break_the_models_assumptions(mirror, database_url, tmp_path):
    _edge_cases(mirror)
    with FixtureServer(mirror) as server:
        result = crawl(server, database_url, tmp_path, args={"sources": "lopinion"})
    assert result.returncode == 0, result.log[-3000:]
    stored = rows(database_url)
    # A stock body is no evidence of one story: two rows.
    assert {"lopinion/5010021", "lopinion/5010022"} <= stored.keys()
    # A canonical that names the home page or the section: the page's own URL is the publisher URL.
    origin = server.origin
    assert stored["lopinion/5010023"]["source_url"] == f"{origin}/Secheresse-barrages_a40023.html"
    assert stored["lopinion/5010024"]["source_url"] == f"{origin}/Tanger-Med-record_a40024.html"
    assert stored["lopinion/5010025"]["source_url"] == f"{origin}/societe/education-rentree-prescolaire.html"
    assert stored["lopinion/5010026"]["source_url"] == f"{origin}/societe/sante-campagne-vaccination.html"
    # No control character reaches the store (PostgreSQL would refuse the row).
    tram = stored["lopinion/5010027"]
    assert json.loads(tram["authors"]) == ["Omar ASSIF"]
    assert not any("\x00" in str(value) for row in stored.values() for value in row.values())
    assert "newscrawl/store/rejected" not in result.stats
    # Entities decoded after the markup is gone: "<<" stays text.
    assert stored["lopinion/5010028"]["title"] == (
        "Interview : « Le silence amplifie la détresse des << étudiants >> marocains de Chypre du Nord »")


def test_one_publisher_url_shared_by_different_stories_merges_nothing(mirror, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'a.db'}"
    shared = "{{ORIGIN}}/une-page-de-partage_a40100.html"
    for maghress_id, title, path in ((5010031, "La Bourse ouvre en hausse", "Bourse-hausse_a40031.html"),
                                     (5010032, "Le Raja remporte le derby", "Raja-derby_a40032.html")):
        (mirror / "fr" / "lopinion" / f"{maghress_id}.html").write_text(maghress_article(
            title, f"<p>{title}, en bref.</p>", source_link="{{ORIGIN}}/" + path), "utf-8")
        add_listing_entry(mirror, "lopinion", f'<li><a href="/fr/lopinion/{maghress_id}">{title}</a></li>')
        (mirror / path).write_text(_publisher_page(title, shared, f"<p>{title} : tout le texte.</p>"), "utf-8")
    with FixtureServer(mirror) as server:
        result = crawl(server, database_url, tmp_path, args={"sources": "lopinion"})
    assert result.returncode == 0, result.log[-3000:]
    stored = rows(database_url)
    assert stored["lopinion/5010031"]["title"] == "La Bourse ouvre en hausse"
    assert stored["lopinion/5010032"]["title"] == "Le Raja remporte le derby"
    assert result.stats["newscrawl/dedup/publisher_url_conflict"] == 1


def _refused_title() -> str:
    return "Un article que la base refuse, quoi qu'il arrive"


def _long_title() -> str:
    # Incompressible and long: its key was over PostgreSQL's limit for a btree entry (2704 bytes).
    rng = random.Random(14)
    return "Titre " + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(20_000))


def test_a_row_the_database_refuses_costs_only_itself(mirror, database_url, tmp_path):
    (mirror / "fr" / "lopinion" / "5010040.html").write_text(
        maghress_article(_refused_title(), "<p>Un article que la base refuse.</p>"), "utf-8")
    add_listing_entry(mirror, "lopinion", '<li><a href="/fr/lopinion/5010040">Un article refusé</a></li>')
    store = Store(database_url)
    # A trigger refuses the row as a constraint would.
    with store.engine.begin() as conn:
        if store.dialect == "sqlite":
            conn.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON articles WHEN NEW.article_key = 'lopinion/5010040' "
                              "BEGIN SELECT RAISE(ABORT, 'refused by the test''s constraint'); END"))
        else:
            conn.execute(text("CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                              "IF NEW.article_key = 'lopinion/5010040' THEN "
                              "RAISE EXCEPTION 'refused by the test''s constraint'; END IF; RETURN NEW; END $$ "
                              "LANGUAGE plpgsql"))
            conn.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON articles FOR EACH ROW EXECUTE FUNCTION refuse()"))
    store.close()
    feed = tmp_path / "feed.csv"
    with FixtureServer(mirror) as server:
        result = crawl(server, database_url, tmp_path, args={"sources": "lopinion"}, csv=feed)
    assert result.returncode == 4, result.log[-3000:]
    assert "1 articles were refused by the database" in result.log and "rejected_articles" in result.log
    assert result.stats["newscrawl/health/problems"]["store"]
    stored = rows(database_url)
    assert len(stored) == 11 and "lopinion/5010040" not in stored  # every other row written
    # The feed lists what the archive holds: every stored article, not the refused one.
    with feed.open(encoding="utf-8", newline="") as handle:
        listed = {row["url"].rsplit("/fr/", 1)[1] for row in csv.DictReader(handle)}
    assert listed == set(stored)
    store = Store(database_url)
    with store.engine.connect() as conn:
        rejected = conn.execute(text("SELECT article_key, item, error FROM rejected_articles")).all()
    assert [r.article_key for r in rejected] == ["lopinion/5010040"]
    assert json.loads(rejected[0].item)["title"] == _refused_title()
    assert store_status(store, 5)["lopinion"]["rejected"] == 1
