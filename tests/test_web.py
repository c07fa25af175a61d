"""`newscrawl serve`: the archive in Datasette, driven in real Chromium (Playwright)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from newscrawl.crawl.rendering import find_browser
from newscrawl.store import Store

from .conftest import REPO

BODY = "Les agriculteurs du Souss font face à une sécheresse sans précédent, disent les coopératives."


def _archive(path: Path) -> str:
    url = f"sqlite:///{path}"
    store = Store(url)
    rows = []
    for n in range(1, 31):
        source = ("lopinion", "lematin", "libe")[n % 3]
        rows.append({"url": f"https://www.maghress.com/fr/{source}/{5010000 + n}", "maghress_id": 5010000 + n,
                     "source": source, "source_name": source.capitalize(), "title": f"Chronique numéro {n}",
                     "published_date": f"2025-05-{1 + n % 9:02d}", "body": f"Texte de la chronique {n}. " * 12,
                     "source_url": f"https://example.org/{n}.html"})
    rows.append({"url": "https://www.maghress.com/fr/lematin/5020001", "maghress_id": 5020001, "source": "lematin",
                 "title": "Les sécheresses se succèdent", "published_date": "2025-05-03", "body": "Un dossier."})
    rows.append({"url": "https://www.maghress.com/fr/lopinion/5020002", "maghress_id": 5020002,
                 "source": "lopinion", "title": "Le Souss face au manque d'eau", "published_date": "2025-05-04",
                 "body": BODY + "\n\nUn second paragraphe.", "source_url": "https://www.lopinion.ma/souss.html"})
    # 5020002 was first stored shorter: its second paragraph came later (version 2).
    store.write([{**rows[-1], "body": BODY}])
    store.write(rows)
    store.close()
    return url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def web_view(tmp_path):
    url = _archive(tmp_path / "archive.db")
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "newscrawl.ops.cli", "serve", "--database", url, "--port",
                               str(port)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    origin = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(origin + "/", timeout=2).read()
            break
        except OSError:
            if server.poll() is not None or time.time() > deadline:
                server.kill()
                raise AssertionError(f"newscrawl serve did not answer: {server.stdout.read()}") from None
            time.sleep(0.2)
    yield origin
    server.terminate()
    server.wait(10)


def test_the_web_view_searches_browses_plots_and_shows_an_article(web_view, tmp_path):
    from playwright.sync_api import sync_playwright

    browser_path = find_browser()
    assert browser_path, "Chromium is needed (Debian's chromium: make test installs it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path, headless=True)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        # The front page is the search.
        page.goto(web_view + "/")
        page.fill("input[name=q]", "sécheresse")
        page.click("input[type=submit]")
        page.wait_for_url("**/archive/search?q=*")
        titles = page.locator("table.rows-and-columns td.col-title").all_inner_texts()
        assert titles[:2] == ["Les sécheresses se succèdent", "Le Souss face au manque d'eau"]  # title hit first
        assert "sécheresse" in page.locator("td.col-snippet mark").first.inner_text()
        page.screenshot(path=str(tmp_path / "web-view.png"), full_page=True)
        if shots := os.environ.get("NEWSCRAWL_SCREENSHOTS"):  # (how docs/images/web-view.png is made)
            shutil.copy(tmp_path / "web-view.png", Path(shots) / "web-view.png")
        # A result's title leads to the article's page: its body, its source link.
        page.click("td.col-title a >> text=Le Souss face au manque d'eau")
        assert "sans précédent" in page.locator(".newscrawl-body").inner_text()
        assert page.locator("a.newscrawl-source").get_attribute("href") == "https://www.lopinion.ma/souss.html"
        # It changed once: its earlier version is a click away.
        assert "version 2" in page.locator(".newscrawl-meta").inner_text()
        page.click(".newscrawl-versions a")
        page.wait_for_url("**/archive/article_versions?article_id=*")
        assert page.locator("td.col-version").all_inner_texts() == ["1"]
        assert page.locator("td.col-body").all_inner_texts() == [BODY]
        # The articles table, narrowed by the source facet.
        page.goto(web_view + "/archive/articles")
        everything = _count(page)
        page.click(".facet-info[data-column=source] a >> text=lematin")
        page.wait_for_url("**source=lematin**")
        narrowed = _count(page)
        assert everything == 32 and narrowed == 11
        assert set(page.locator("td.col-source").all_inner_texts()) == {"lematin"}
        # The plot: one line per source, drawn from the data.
        page.goto(web_view + "/-/plot")
        lines = page.locator("svg polyline")
        assert lines.count() == 3
        assert all(len(lines.nth(i).get_attribute("points").split()) >= 2 for i in range(3))
        assert page.locator("svg").bounding_box()["width"] > 100
        browser.close()
    # Read-only, and no SQL of a visitor's own: the search is the only query.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(web_view + "/archive?sql=select+count(*)+from+articles", timeout=10)
    assert refused.value.code == 403


def _count(page) -> int:
    # Datasette prints "<n> rows" above a table.
    text = page.locator("h3").first.inner_text()
    return int(text.split()[0].replace(",", ""))


def test_the_web_views_search_ranks_as_newscrawl_search_does(tmp_path):
    """The canned query (metadata.json) and ``Store.search`` are two statements of one ranking: same order."""
    import json
    import sqlite3

    from newscrawl.store import search
    from newscrawl.web.plugins import newscrawl_web

    url = _archive(tmp_path / "archive.db")
    store = Store(url)
    store.write([{"url": "https://www.maghress.com/fr/lopinion/5020003", "maghress_id": 5020003, "source": "lopinion",
                  "title": "Rapport annuel", "published_date": "2025-05-05",
                  "body": "Souss eau " * 30 + "Le Souss et son eau."}])
    metadata = json.loads((REPO / "newscrawl" / "web" / "metadata.json").read_text("utf-8"))
    sql = metadata["databases"]["archive"]["queries"]["search"]["sql"]
    assert f"offset {search.RANKED_AT_MOST - 1})" in sql  # the same bound on the matches ranked
    db = sqlite3.connect(tmp_path / "archive.db")
    newscrawl_web.prepare_connection(db)
    for query in ("sécheresse", "eau Souss", "chronique", "chronique -numéro", "Souss OR sécheresses"):
        web = [row[5] for row in db.execute(sql, {"q": query}).fetchall()]
        assert web == [hit.url for hit in store.search(query, limit=100)], query
    assert db.execute(sql, {"q": "-Souss"}).fetchall() == []  # a query that asks for nothing: no article
    store.close()
