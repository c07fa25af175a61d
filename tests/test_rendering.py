"""JavaScript pages through a real Chromium (scrapy-playwright), and only where they need it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.support.fixtureserver import FixtureServer
from newscrawl.crawl.rendering import find_browser, needs_rendering

from .conftest import run_crawl

pytestmark = pytest.mark.timeout(240)

SITE_JS = Path(__file__).resolve().parent / "site_js"
RENDERED_BODY = (
    "Son Altesse Royale la Princesse Lalla Asmaa a inauguré mardi à Meknès un centre d'excellence pour enfants sourds."
    "\n\nLe centre accueillera 120 enfants et formera des enseignants à la langue des signes marocaine."
)
MAGHRESS_BODY = "Son Altesse Royale a inauguré le centre à Meknès."


@pytest.fixture(scope="module")
def js_site():
    if find_browser() is None:
        pytest.fail("No Chromium on PATH: install Debian's 'chromium' (.ci/run does)")
    with FixtureServer(SITE_JS) as server:
        yield server


def crawl(server, tmp_path, mode: str, **extra):
    db = tmp_path / "a.db"
    settings = {"NEWSCRAWL_RENDER_MODES": json.dumps({"127.0.0.1": mode})}
    settings.update(extra.pop("settings", {}))
    server.clear_log()
    result = run_crawl(f"{server.origin}/fr/lopinion", f"sqlite:///{db}", tmp_path, settings=settings, **extra)
    assert result.returncode == 0, result.log[-3000:]
    with sqlite3.connect(db) as conn:
        bodies = dict(conn.execute("SELECT maghress_id, body FROM articles"))
    return result, bodies


def test_auto_renders_the_page_whose_body_needs_javascript(js_site, tmp_path):
    result, bodies = crawl(js_site, tmp_path, "auto")
    assert bodies[6000002] == RENDERED_BODY
    assert bodies[6000001].startswith("Le MASI ouvre en hausse de 0,4 %, porté")
    stats = result.stats
    assert stats["newscrawl/render/rendered"] == 1 and stats["newscrawl/render/plain"] == 2
    assert stats["playwright/browser_count"] == 1
    assert not any(path.startswith("/photo/") for path in js_site.requests)  # images are blocked


def test_a_crawl_that_needs_no_javascript_never_starts_the_browser(js_site, tmp_path):
    result, bodies = crawl(js_site, tmp_path, "auto", args={"max_pages": 1})
    assert list(bodies) == [6000001]
    assert "playwright/browser_count" not in result.stats and "newscrawl/render/rendered" not in result.stats
    assert "Starting download handler" not in result.log  # Playwright itself never started


def test_always_renders_every_publisher_page(js_site, tmp_path):
    result, bodies = crawl(js_site, tmp_path, "always")
    assert bodies[6000002] == RENDERED_BODY
    assert result.stats["newscrawl/render/rendered"] == 2 and "newscrawl/render/plain" not in result.stats


def test_never_keeps_to_plain_fetches(js_site, tmp_path):
    result, bodies = crawl(js_site, tmp_path, "never")
    assert bodies[6000002] == MAGHRESS_BODY  # the publisher page had no body without JavaScript
    assert "newscrawl/render/rendered" not in result.stats and "playwright/browser_count" not in result.stats


def test_without_a_browser_auto_degrades_to_plain_fetching_with_one_warning(js_site, tmp_path):
    result, bodies = crawl(js_site, tmp_path, "auto", settings={"NEWSCRAWL_BROWSER_PATH": "/nonexistent/chromium"})
    assert bodies[6000002] == MAGHRESS_BODY
    assert result.log.count("No Chromium found") == 1
    assert "playwright/browser_count" not in result.stats


def test_a_render_that_fails_keeps_the_plain_page(js_site, tmp_path):
    # A navigation timeout far too short for any page: every render fails.
    result, bodies = crawl(js_site, tmp_path, "auto", settings={"NEWSCRAWL_RENDER_TIMEOUT": "0.001"})
    assert result.stats["newscrawl/render/failed"] == 1
    assert bodies[6000002] == MAGHRESS_BODY


def test_needs_rendering():
    long_maghress = ["x" * 400]
    assert needs_rendering([], ["Texte"], "<div class='texte'></div>")
    assert needs_rendering(["Court."], ["Texte"], "<noscript>Please enable JavaScript</noscript>")
    assert needs_rendering(["y" * 100], long_maghress, "<p>")
    assert not needs_rendering(["y" * 300], long_maghress, "<p>")
    assert not needs_rendering(["Un vrai corps d'article."], ["Texte"], "<html></html>")


def test_find_browser(tmp_path):
    assert find_browser("/nonexistent/chromium") is None
    fake = tmp_path / "chrome"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert find_browser(str(fake)) == str(fake)


def test_browser_contexts_are_renewed_so_memory_does_not_grow(js_site, tmp_path):
    result, bodies = crawl(js_site, tmp_path, "always", settings={"NEWSCRAWL_RENDER_PAGES_PER_CONTEXT": "1"})
    assert bodies[6000002] == RENDERED_BODY
    assert result.stats["playwright/context_count"] == 2  # one per rendered page
    assert result.stats["newscrawl/render/contexts_closed"] >= 1


def test_on_a_mirror_the_sources_render_mode_applies(js_site, tmp_path):
    """A mirror's host is no publisher host: its pages take their source's mode (L'Opinion: auto)."""
    db = tmp_path / "a.db"
    js_site.clear_log()
    result = run_crawl(f"{js_site.origin}/fr/lopinion", f"sqlite:///{db}", tmp_path)  # no NEWSCRAWL_RENDER_MODES
    assert result.returncode == 0, result.log[-3000:]
    with sqlite3.connect(db) as conn:
        bodies = dict(conn.execute("SELECT maghress_id, body FROM articles"))
    assert bodies[6000002] == RENDERED_BODY
    assert result.stats["newscrawl/render/rendered"] == 1


def test_the_browser_reaches_no_host_the_crawl_may_not(tmp_path):
    """Behind the host guard: a rendered page whose script navigates to another loopback address, and one
    whose server redirects there, make the browser fetch nothing from it (Playwright's interception never
    sees redirects; the browser's proxy does)."""
    site = _js_site_with(tmp_path, {
        6000003: ("{{ORIGIN}}/Script-escape_a30003.html", "Un script qui part ailleurs"),
        6000004: ("{{ORIGIN}}/go/escape", "Un serveur qui redirige ailleurs"),
    })
    (site / "Script-escape_a30003.html").write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title>'
        '<script>location.href = "{{OTHER}}/stolen-by-script";</script></head>'
        '<body><div id="z_col1"><div class="titre"><h1>Un script qui part ailleurs</h1></div>'
        '<div class="texte"><p>Texte.</p></div></div></body></html>', "utf-8")
    (site / "_routes.json").write_text(json.dumps({"/go/escape": {"redirect": "{{OTHER}}/stolen-by-redirect"}}))
    inside = tmp_path / "inside"
    inside.mkdir()
    (inside / "stolen-by-script.html").write_text("secret", "utf-8")
    with FixtureServer(inside, host="127.0.0.2") as other, \
            FixtureServer(site, variables={"OTHER": other_origin(other)}) as server:
        db = tmp_path / "a.db"
        result = run_crawl(f"{server.origin}/fr/lopinion", f"sqlite:///{db}", tmp_path,
                           settings={"NEWSCRAWL_RENDER_MODES": json.dumps({"127.0.0.1": "always"})})
        assert other.requests == []  # nothing reached the other address
    assert result.returncode == 0, result.log[-3000:]
    assert result.stats["newscrawl/render/blocked"] >= 2
    with sqlite3.connect(db) as conn:
        bodies = dict(conn.execute("SELECT maghress_id, body FROM articles"))
    assert bodies[6000002] == RENDERED_BODY  # pages the crawl may render still render, through the proxy
    assert set(bodies) >= {6000003, 6000004}  # the others are stored from what could be fetched


def _js_site_with(tmp_path: Path, articles: dict[int, tuple[str, str]]) -> Path:
    """A copy of the JavaScript site with more L'Opinion articles: id -> (source link, title)."""
    import shutil

    from .support.mirrors import add_listing_entry, maghress_article

    site = tmp_path / "site"
    shutil.copytree(SITE_JS, site)
    for maghress_id, (link, title) in articles.items():
        (site / "fr" / "lopinion" / f"{maghress_id}.html").write_text(
            maghress_article(title, f"<p>{title}.</p>", source_link=link), "utf-8")
        add_listing_entry(site, "lopinion", f'<li><a href="/fr/lopinion/{maghress_id}">{title}</a></li>')
    return site


def other_origin(server) -> str:
    return server.origin


def test_a_rendered_page_sends_no_udp_and_reaches_no_other_port_of_the_sites_host(tmp_path):
    """WebRTC would send STUN over UDP straight from the browser, around its proxy; and on a loopback mirror
    every other local service shares the mirror's host. Neither may be reached by a rendered page."""
    import socket
    import threading

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.2)
    received: list[bytes] = []
    listening = threading.Event()
    listening.set()

    def listen():
        while listening.is_set():
            try:
                received.append(udp.recv(2048))
            except OSError:
                continue

    pages = {
        6000005: ("{{ORIGIN}}/Webrtc_a30005.html", "Une page qui parle en UDP"),
        6000006: ("{{ORIGIN}}/Port_a30006.html", "Une page qui vise un autre port"),
    }
    site = _js_site_with(tmp_path, pages)
    article = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title>{script}'
               # Loaded slowly: the page stays open (its load event waits) while the script above runs.
               '<script src="/slow.js"></script></head>'
               '<body><div id="z_col1"><div class="titre"><h1>{title}</h1></div>'
               '<div class="texte"><p>Texte.</p></div></div></body></html>')
    stun = ('<script>var pc = new RTCPeerConnection({iceServers: [{urls: "stun:127.0.0.1:%d"}]});'
            'pc.createDataChannel("x"); pc.createOffer().then(function (o) { return pc.setLocalDescription(o); });'
            '</script>' % udp.getsockname()[1])
    (site / "Webrtc_a30005.html").write_text(article.format(script=stun, title=pages[6000005][1]), "utf-8")
    (site / "Port_a30006.html").write_text(article.format(
        script='<script>fetch("{{SERVICE}}/from-script"); var i = new Image(); i.src = "{{SERVICE}}/i.png";</script>',
        title=pages[6000006][1]), "utf-8")
    (site / "slow.js").write_text("var loaded = true;", "utf-8")
    (site / "_routes.json").write_text(json.dumps({"/slow.js": {"delay": 2}}))
    service_root = tmp_path / "service"
    service_root.mkdir()
    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    try:
        with FixtureServer(service_root) as service, \
                FixtureServer(site, variables={"SERVICE": service.origin}) as server:
            result = run_crawl(f"{server.origin}/fr/lopinion", f"sqlite:///{tmp_path / 'a.db'}", tmp_path,
                               settings={"NEWSCRAWL_RENDER_MODES": json.dumps({"127.0.0.1": "always"})})
            assert service.requests == []
            assert "/slow.js" in server.requests  # the pages were rendered, scripts and all
    finally:
        listening.clear()
        thread.join(5)
        udp.close()
    assert result.returncode == 0, result.log[-3000:]
    assert result.stats["newscrawl/render/rendered"] >= 2
    assert received == []  # no STUN packet reached the port
