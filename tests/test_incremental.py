"""Re-crawls over time: new and edited articles picked up, crashes and overlapping runs survived."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.support.fixtureserver import FixtureServer

from .conftest import REPO, run_crawl
from .support.mirrors import canonical_mirror
from .test_crawl_e2e import EXPECTED

pytestmark = pytest.mark.timeout(300)


def _rows(db) -> dict[int, dict]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return {row["maghress_id"]: dict(row) for row in conn.execute("SELECT * FROM articles")}


NEW_ARTICLE = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Maghress</title></head><body>
{{TICKER}}
<div class="col-md-12">
<h1><span class="articletitle">Le Canada candidat pour accueillir le Sommet de la Francophonie en 2028</span></h1>
<span class="articlenewspaper">Publié dans <a href="/fr/lopinion">L'opinion</a> le 12 - 12 - 2025</span>
<span class="articlecontent"><p>Ottawa a officialisé sa candidature pour le sommet de 2028.</p></span>
</div></body></html>"""


def test_new_article_and_edited_headline_are_picked_up_with_exactly_those_changes(site_copy, tmp_path):
    db = tmp_path / "a.db"
    with FixtureServer(site_copy) as server:
        start = f"{server.origin}/fr/lopinion"
        assert run_crawl(start, f"sqlite:///{db}", tmp_path).returncode == 0
        first = _rows(db)
        server.clear_log()
        assert run_crawl(start, f"sqlite:///{db}", tmp_path).returncode == 0
        assert sorted(server.requests) == ["/fr/lopinion", "/robots.txt"]
        assert _rows(db) == first

        # The site changes: a new article on top of the first listing page, an edited headline.
        listing = site_copy / "fr" / "lopinion" / "index.html"
        html = listing.read_text("utf-8")
        html = html.replace('<ul class="articles">', '<ul class="articles">\n<li><a href="/fr/lopinion/5010013">Le Canada candidat '
                            'pour accueillir le Sommet de la Francophonie en 2028</a> <span class="date">Publié le 12 - 12 - 2025</span></li>')
        html = html.replace("plus vulnérables face à la grippe ? [INTEGRAL]", "plus vulnérables face à la grippe cet hiver ? [INTEGRAL]")
        listing.write_text(html, "utf-8")
        (site_copy / "fr" / "lopinion" / "5010013.html").write_text(NEW_ARTICLE, "utf-8")
        article = site_copy / "fr" / "lopinion" / "5010002.html"
        article.write_text(article.read_text("utf-8").replace("face à la grippe&#8239;?", "face à la grippe cet hiver&#8239;?"), "utf-8")

        server.clear_log()
        feed = tmp_path / "third.csv"
        third = run_crawl(start, f"sqlite:///{db}", tmp_path, csv=feed)
        assert third.returncode == 0, third.log[-2000:]
        fetched = sorted(p for p in server.requests if p.startswith("/fr/lopinion/"))
        assert fetched == ["/fr/lopinion/5010002", "/fr/lopinion/5010013"]
    after = _rows(db)
    assert sorted(after) == sorted([*first, 5010013])
    assert after[5010013]["title"] == "Le Canada candidat pour accueillir le Sommet de la Francophonie en 2028"
    assert after[5010002]["title"] == "Effets post-Covid : Sommes-nous devenus plus vulnérables face à la grippe cet hiver ?"
    for maghress_id, row in first.items():
        if maghress_id != 5010002:
            assert {k: v for k, v in after[maghress_id].items() if k != "last_seen"} == {
                k: v for k, v in row.items() if k != "last_seen"
            }
    assert third.stats["newscrawl/store/inserted"] == 1 and third.stats["newscrawl/store/updated"] == 1
    # The edited article is its version 2 (the first kept in article_versions), in the store and in the feed.
    assert after[5010002]["version"] == 2 and after[5010002]["changed_at"]
    assert after[5010013]["version"] == 1 and third.stats["newscrawl/store/new_version"] == 1
    with feed.open(encoding="utf-8", newline="") as handle:
        listed = {row["maghress_id"]: (row["version"], row["changed_at"]) for row in csv.DictReader(handle)}
    assert listed == {"5010002": ("2", after[5010002]["changed_at"]), "5010013": ("1", "")}
    shown = subprocess.run([sys.executable, "-m", "newscrawl.ops.cli", "history", "lopinion/5010002", "--database",
                            f"sqlite:///{db}"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "2 version(s)" in shown.stdout and "{+cet hiver+}" in shown.stdout


REPUBLISHED = (5010005, 5010006)  # one story under two Maghress ids


def assert_one_row_per_story(db, rows: dict[int, dict]) -> None:
    """Every fixture article once; of the republished pair, whichever was stored first, the other its alias."""
    assert set(rows) - set(REPUBLISHED) == set(EXPECTED) - set(REPUBLISHED)
    kept = [i for i in REPUBLISHED if i in rows]
    assert len(kept) == 1, kept
    with sqlite3.connect(db) as conn:
        aliases = [url for (url,) in conn.execute("SELECT url FROM article_aliases")]
    assert [u.rsplit("/", 1)[1] for u in aliases] == [str(i) for i in REPUBLISHED if i not in rows]


def _crawl_process(origin: str, db, workdir, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "scrapy", "crawl", "lopinion", "-a", f"start_url={origin}/fr/lopinion",
               "-s", f"NEWSCRAWL_DATABASE_URL=sqlite:///{db}", "-s", "AUTOTHROTTLE_ENABLED=False",
               "-s", "NEWSCRAWL_STORE_BATCH_SIZE=2", "-s", "CONCURRENT_REQUESTS=2", "-O", str(workdir / f"{time.time()}.csv"), *extra]
    env = {**os.environ, "NEWSCRAWL_DATA_DIR": str(workdir / "data")}
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _count(db) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


@pytest.mark.parametrize("with_jobdir, mirror", [(False, False), (True, False), (False, True)],
                         ids=["plain", "jobdir", "canonical-mirror"])
def test_crawl_killed_halfway_then_run_again_stores_every_article_once(site_copy, tmp_path, with_jobdir, mirror):
    db = tmp_path / "a.db"
    extra = ("-s", f"JOBDIR={tmp_path / 'job'}") if with_jobdir else ()
    site = canonical_mirror(tmp_path / "mirror") if mirror else site_copy
    with FixtureServer(site, delay=0.3) as slow:
        proc = _crawl_process(slow.origin, db, tmp_path, *extra)
        deadline = time.time() + 60
        while _count(db) < 2 and time.time() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert proc.poll() is None, "the crawl ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        killed_at = _count(db)
        assert 2 <= killed_at < len(EXPECTED)
        stored_before = set(_rows(db))
        # The second run, not slowed down, finishes the crawl, and fetches no article page already stored.
        slow.delay = 0
        slow.clear_log()
        again = _crawl_process(slow.origin, db, tmp_path, *extra)
        out, _ = again.communicate(timeout=120)
        assert again.returncode == 0, out[-2000:]
        fetched_again = {int(p.rsplit("/", 1)[1]) for p in slow.requests if p.startswith("/fr/lopinion/")}
        assert not fetched_again & stored_before, fetched_again & stored_before
    rows = _rows(db)
    assert_one_row_per_story(db, rows)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*), count(DISTINCT url) FROM articles").fetchone() == (len(EXPECTED),) * 2


def test_two_crawls_at_once_on_one_database(site_server, tmp_path):
    db = tmp_path / "a.db"
    procs = [_crawl_process(site_server.origin, db, tmp_path, "-a", "refresh=true") for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]
    assert not any("database is locked" in out for out in outputs), [o[max(0, o.find("database is locked") - 3000):o.find("database is locked") + 500] for o in outputs if "database is locked" in o]
    rows = _rows(db)
    assert sorted(rows) == sorted(EXPECTED)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM article_aliases").fetchone()[0] == 1
