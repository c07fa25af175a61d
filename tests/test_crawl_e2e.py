"""End to end: the real `scrapy crawl lopinion` against the fixture site, checked in the database and the CSV."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest

from newscrawl.items import ARTICLE_FIELDS

from tests.support.fixtureserver import FixtureServer

from .conftest import run_crawl

pytestmark = pytest.mark.timeout(240)

P = "{origin}"  # the fixture server's origin, filled in per test

# What each article must be once stored: id -> fields (a subset checked exactly).
EXPECTED = {
    5010001: {
        "source_url": f"{P}/Dialogue-Strategique-Maroc-USA-la-cooperation-dans-la-lutte-contre-la-proliferation-nucleaire_a12345.html",
        "title": "Dialogue Stratégique Maroc-USA : la coopération dans la lutte contre la prolifération nucléaire à l'ordre du jour",
        "lead": "Nouvelle étape du Dialogue Stratégique entre le Maroc et les USA, celle-ci couvre cette fois la lutte contre la prolifération nucléaire.",
        "authors": ["Omar ASSIF"],
        "published_date": "2021-01-26",
        "published_at": "2021-01-26T18:30:00+01:00",
        "language": "fr",
        "image_url": f"{P}/photo/art/grande/53871234-40512345.jpg?v=1611681000",
        "body_paragraphs": 3,
        "body_starts": "L'intense activité diplomatique entre Rabat et Washington se poursuit.",
    },
    # No source link: everything from Maghress; <br>-separated body, entities, [INTEGRAL] removed.
    5010002: {
        "source_url": None,
        "title": "Effets post-Covid : Sommes-nous devenus plus vulnérables face à la grippe ?",
        "lead": None,
        "authors": [],
        "published_date": "2025-12-05",
        "published_at": None,
        "language": "fr",
        "body_paragraphs": 3,
        "body_starts": "La grippe saisonnière frappe plus fort cette année, selon les médecins : les urgences",
    },
    # Source link through a redirect; publisher time without offset, in Ramadan 2024 (UTC+0).
    5010003: {
        "source_url": f"{P}/Agriculture-Ces-ravageurs-qui-grignotent-notre-souverainete-alimentaire_a22931.html",
        "title": "Agriculture : Ces ravageurs qui grignotent notre souveraineté alimentaire",
        "authors": ["Bilal OUHAMMOU", "Sara ZAIRI"],
        "published_date": "2024-03-27",
        "published_at": "2024-03-27T09:15:00+00:00",
        "body_paragraphs": 2,
    },
    # Publisher page answers 500: stored from Maghress, the publisher URL kept.
    5010004: {
        "source_url": f"{P}/Interview-avec-Haitam-Nkita_a22935.html",
        "title": "Interview avec Haitam Nkita : « Le silence amplifie la détresse des étudiants marocains de Chypre du Nord »",
        "authors": [],
        "published_date": "2025-12-09",
        "published_at": None,
        "body_paragraphs": 2,
    },
    5010005: {
        "source_url": f"{P}/Khamssa-w-Khmiss-Jaylann-le-retour-manifeste_a22940.html",
        "title": "«Khamssa w Khmiss» : Jaylann, le retour manifeste",
        "authors": ["Safaa KSAANI"],
        "published_date": "2025-12-10",
        "published_at": "2025-12-10T11:00:00+00:00",
        "image_url": f"{P}/photo/art/grande/9001-9002.jpg?v=1765364400",
    },
    # 5010006 is 5010005 republished under a second id: an alias, not a row.
    # Served as windows-1252; publisher page 404.
    5010007: {
        "source_url": f"{P}/Winners-et-losers_a22944.html",
        "title": "Winners…et losers",
        "published_date": "2025-06-02",
        "body_starts": "Qui a gagné, qui a perdu cette semaine ? Les élèves de l’école publique",
    },
    # Maghress title only in og:title (with the " - Maghress" suffix); publisher body only in JSON-LD.
    5010008: {
        "title": "L'«émanation» du peuple, contre le peuple",
        "authors": ["Ahmed NAJI"],
        "published_at": "2025-11-14T08:05:00+01:00",
        "body_paragraphs": 2,
    },
    # Reachable only through the ticker; relative source link.
    5010009: {
        "source_url": f"{P}/Education-Au-coeur-des-classes-prescolaires_a22950.html",
        "authors": ["Yassine ELALAMI"],
        "published_at": "2025-10-20T16:40:00+01:00",
    },
    # English edition.
    5010010: {
        "language": "en",
        "authors": ["A.K"],
        "published_at": "2024-11-24T12:06:00+01:00",
    },
    # Publisher page with an empty body container: the Maghress body stands, the publisher lead is taken.
    5010011: {
        "lead": "Les Lions ont dominé leur adversaire de bout en bout.",
        "authors": ["Amine ZIANI"],
        "published_date": "2025-06-08",
        "published_at": None,
        "body_starts": "Les Lions de l'Atlas se sont qualifiés",
    },
    # Source link to a host that is not the publisher's: never followed.
    5010012: {"source_url": None, "published_date": "2025-12-09", "title": "Cours des devises du mardi 9 décembre 2025"},
}


def _rows(db_path) -> dict[int, dict]:
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        return {row["maghress_id"]: dict(row) for row in conn.execute("SELECT * FROM articles")}


def _check(row: dict, expected: dict, origin: str) -> None:
    for field, want in expected.items():
        if isinstance(want, str):
            want = want.replace(P, origin)
        if field == "body_paragraphs":
            assert len(row["body"].split("\n\n")) == want, row["body"]
        elif field == "body_starts":
            assert row["body"].startswith(want), row["body"]
        elif field == "authors":
            assert json.loads(row["authors"]) == want
        else:
            assert row[field] == want, (row["maghress_id"], field, row[field])


@pytest.fixture(scope="module")
def first_crawl(site_server, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("crawl")
    db = workdir / "articles.db"
    site_server.clear_log()
    result = run_crawl(f"{site_server.origin}/fr/lopinion", f"sqlite:///{db}", workdir, csv=workdir / "articles.csv")
    requests = site_server.counts()
    return result, db, workdir / "articles.csv", requests, workdir


def test_crawl_stores_every_article_once_with_its_fields(first_crawl, site_server):
    result, db, _, _, _ = first_crawl
    assert result.returncode == 0, result.log[-3000:]
    rows = _rows(db)
    assert sorted(rows) == sorted(EXPECTED)
    for maghress_id, expected in EXPECTED.items():
        row = rows[maghress_id]
        assert row["url"] == f"{site_server.origin}/fr/lopinion/{maghress_id}"
        assert row["source"] == "lopinion" and row["source_name"] == "L'Opinion"
        assert row["title"] and row["body"] and row["scraped_at"]
        _check(row, expected, site_server.origin)


def test_republished_article_is_kept_as_an_alias(first_crawl, site_server):
    _, db, _, _, _ = first_crawl
    with sqlite3.connect(db) as conn:
        aliases = conn.execute(
            "SELECT a.url, r.maghress_id FROM article_aliases a JOIN articles r ON r.id = a.article_id"
        ).fetchall()
    assert aliases == [(f"{site_server.origin}/fr/lopinion/5010006", 5010005)]


def test_csv_has_the_same_rows_in_our_columns(first_crawl):
    result, db, csv_path, _, _ = first_crawl
    with csv_path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == ARTICLE_FIELDS
        rows = list(reader)
    stored = _rows(db)
    assert len(rows) == len(stored) == len(EXPECTED)
    for row in rows:
        db_row = stored[int(row["maghress_id"])]
        for field in ARTICLE_FIELDS:
            if field == "authors":
                assert row[field] == "; ".join(json.loads(db_row[field]))
            else:
                assert row[field] == ("" if db_row[field] is None else str(db_row[field])), field


def test_each_page_is_fetched_once_and_other_sources_are_ignored(first_crawl):
    _, _, _, requests, _ = first_crawl
    article_pages = {path: n for path, n in requests.items() if path.startswith("/fr/lopinion/")}
    assert sorted(article_pages) == sorted(f"/fr/lopinion/{i}" for i in range(5010001, 5010013))
    assert all(n == 1 for n in article_pages.values())
    assert not any(path.startswith(("/fr/lematin", "/fr/libe", "/alittihad")) for path in requests)
    # The failing publisher page is retried (RETRY_TIMES=2), then given up.
    assert requests["/Interview-avec-Haitam-Nkita_a22935.html"] == 3


def test_stats_count_what_happened(first_crawl):
    result, _, _, _, _ = first_crawl
    stats = result.stats
    assert stats["finish_reason"] == "finished"
    assert stats["newscrawl/store/inserted"] == len(EXPECTED)
    assert stats["newscrawl/dropped/republished"] == 1
    assert stats["newscrawl/source/failed/HttpError"] == 2  # 500 and 404
    assert stats["newscrawl/source/no_link"] == 1
    assert stats["newscrawl/source/refused_host"] == 1
    assert stats["newscrawl/listing/pages"] == 3
    # The garbage collector as settings.py sets it for a crawl: start-up's objects frozen out of it.
    assert stats["newscrawl/gc/thresholds"] == "10000,10,10"
    assert stats["newscrawl/gc/frozen_objects"] > 10_000


def test_recrawl_of_unchanged_site_fetches_only_the_first_listing_page(first_crawl, site_server):
    _, db, _, _, workdir = first_crawl
    site_server.clear_log()
    result = run_crawl(f"{site_server.origin}/fr/lopinion", f"sqlite:///{db}", workdir, csv=workdir / "again.csv")
    assert result.returncode == 0, result.log[-3000:]
    assert sorted(site_server.requests) == ["/fr/lopinion", "/robots.txt"]
    assert len(_rows(db)) == len(EXPECTED)
    assert result.stats.get("item_scraped_count", 0) == 0


def test_refresh_refetches_and_updates_without_new_rows(site_server, tmp_path):
    db = tmp_path / "a.db"
    origin = site_server.origin
    first = run_crawl(f"{origin}/fr/lopinion", f"sqlite:///{db}", tmp_path, args={"max_pages": 1})
    assert first.returncode == 0
    before = _rows(db)
    again = run_crawl(f"{origin}/fr/lopinion", f"sqlite:///{db}", tmp_path, args={"max_pages": 1, "refresh": "true"})
    assert again.returncode == 0
    after = _rows(db)
    assert sorted(after) == sorted(before)
    assert again.stats["newscrawl/store/updated"] == len(before)
    for maghress_id, row in after.items():
        assert row["first_seen"] == before[maghress_id]["first_seen"]
        assert row["last_seen"] > before[maghress_id]["last_seen"]  # (two crawls are never within one second)


def test_max_pages_and_follow_source(site_server, tmp_path):
    db = tmp_path / "a.db"
    result = run_crawl(f"{site_server.origin}/fr/lopinion", f"sqlite:///{db}", tmp_path,
                       args={"max_pages": 1, "follow_source": "false"})
    assert result.returncode == 0
    rows = _rows(db)
    # Listing page 1 (5 articles) and the ticker's L'Opinion article.
    assert sorted(rows) == [5010001, 5010002, 5010003, 5010004, 5010005, 5010009]
    assert all(row["authors"] == "[]" and row["published_at"] is None for row in rows.values())
    assert result.stats["newscrawl/source/not_followed"] == 5


def test_bad_gc_thresholds_are_reported_and_pythons_own_kept(site_server, tmp_path):
    result = run_crawl(f"{site_server.origin}/fr/lopinion", f"sqlite:///{tmp_path / 'a.db'}", tmp_path,
                       args={"max_pages": 1, "follow_source": "false"},
                       settings={"NEWSCRAWL_GC_THRESHOLDS": "10k,10"})
    assert result.returncode == 0, result.log[-3000:]
    assert "NEWSCRAWL_GC_THRESHOLDS='10k,10': expected one to three whole numbers" in result.log
    assert result.stats["newscrawl/gc/thresholds"] == "700,10,10"
    assert result.stats["newscrawl/store/inserted"] == 6


def test_since_skips_older_articles_and_stops_pagination(site_server, tmp_path):
    db = tmp_path / "a.db"
    site_server.clear_log()
    result = run_crawl(f"{site_server.origin}/fr/lopinion", f"sqlite:///{db}", tmp_path, args={"since": "2025-12-10"})
    assert result.returncode == 0
    assert sorted(_rows(db)) == [5010005]  # 5010006 (page 2) is its republication
    assert "/fr/lopinion/5010002" not in site_server.requests  # dated 05-12-2025 on the listing: not fetched


def test_since_stops_pagination_at_a_page_of_older_articles(site_server, tmp_path):
    db = tmp_path / "a.db"
    site_server.clear_log()
    result = run_crawl(f"{site_server.origin}/fr/lopinion", f"sqlite:///{db}", tmp_path, args={"since": "2025-12-11"})
    assert result.returncode == 0
    assert "/fr/lopinion?page=2" not in site_server.requests
    assert _rows(db) == {}
    # The five listing articles are skipped unfetched; the ticker's 5010001 is one of them (not fetched
    # either); the ticker's 5010009 carries no date there: fetched, then skipped by its own date.
    assert result.stats["newscrawl/skipped/before_since"] == 6
    assert [p for p in site_server.requests if p.startswith("/fr/lopinion/")] == ["/fr/lopinion/5010009"]


@pytest.mark.parametrize(
    "args, message",
    [
        ({"max_pages": "abc"}, "max_pages='abc'"),
        ({"max_pages": "0"}, "max_pages='0'"),
        ({"since": "26/01/2021"}, "since='26/01/2021'"),
        ({"follow_source": "maybe"}, "follow_source='maybe'"),
        ({"start_url": "ftp://example.org/fr/lopinion"}, "start_url="),
    ],
)
def test_bad_arguments_stop_the_crawl_with_a_clear_message(args, message, tmp_path, site_server):
    start = args.pop("start_url", f"{site_server.origin}/fr/lopinion")
    site_server.clear_log()
    result = run_crawl(start, f"sqlite:///{tmp_path / 'a.db'}", tmp_path, args=args)
    assert result.returncode != 0
    last_line = result.log.strip().splitlines()[-1]
    assert last_line.startswith("lopinion: bad spider argument: ") and message in last_line
    assert site_server.requests == []


def test_crawl_into_postgresql_stores_the_same_articles(site_server, tmp_path, postgresql_admin_url):
    from newscrawl.store import Store

    from .servers import create_database

    url = create_database(postgresql_admin_url, "e2e_crawl")
    result = run_crawl(f"{site_server.origin}/fr/lopinion", url, tmp_path)
    assert result.returncode == 0, result.log[-3000:]
    stored = {a["maghress_id"]: a for a in Store(url).iter_articles()}
    assert sorted(stored) == sorted(EXPECTED)
    assert stored[5010003]["published_at"] == "2024-03-27T09:15:00+00:00"
    assert stored[5010003]["authors"] == ["Bilal OUHAMMOU", "Sara ZAIRI"]
    assert Store(url).aliases_of(stored[5010005]["url"]) == [f"{site_server.origin}/fr/lopinion/5010006"]
    # A second crawl adds nothing and fetches no article page.
    site_server.clear_log()
    again = run_crawl(f"{site_server.origin}/fr/lopinion", url, tmp_path)
    assert again.returncode == 0 and sorted(site_server.requests) == ["/fr/lopinion", "/robots.txt"]
    assert Store(url).count() == len(EXPECTED)


def test_a_ticker_that_changes_during_the_crawl_is_read_again(site_copy, tmp_path):
    """The ticker is read once per distinct block, not once per page: a story that enters the ticker on a
    later page (Maghress updates it between requests) is still found."""
    page = site_copy / "fr" / "lopinion" / "5010012.html"
    page.write_text(page.read_text("utf-8").replace(
        "{{TICKER}}",
        '<div class="ticker"><a href="/fr/lopinion/5010077">Une dépêche entrée dans le fil en cours de route</a>'
        "</div>{{TICKER}}"), "utf-8")
    late = (site_copy / "fr" / "lopinion" / "5010002.html").read_text("utf-8")
    late = late.replace("Effets post-Covid&nbsp;: Sommes-nous devenus plus vulnérables face à la grippe&#8239;?",
                        "Une dépêche entrée dans le fil en cours de route")
    late = late.replace("La grippe saisonnière frappe plus fort", "Le vent de sable souffle plus fort")
    (site_copy / "fr" / "lopinion" / "5010077.html").write_text(late, "utf-8")
    db = tmp_path / "a.db"
    with FixtureServer(site_copy) as server:
        result = run_crawl(f"{server.origin}/fr/lopinion", f"sqlite:///{db}", tmp_path)
        requested = server.counts()
    assert result.returncode == 0, result.log[-3000:]
    assert requested.get("/fr/lopinion/5010077") == 1
    with sqlite3.connect(db) as conn:
        titles = dict(conn.execute("SELECT maghress_id, title FROM articles"))
    assert titles[5010077] == "Une dépêche entrée dans le fil en cours de route"
    assert len(titles) == 12  # the eleven stored stories of the site (one is an alias) and the late one
