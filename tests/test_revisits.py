"""Revisits: stored articles fetched again on a schedule that thins out with age, asked "changed since?" with
the validators their page came with; a changed article keeps its earlier version (store/revisits.py)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from newscrawl.ops.find import word_diff
from newscrawl.schedule import RevisitSchedule, publication_time
from newscrawl.store import Store
from newscrawl.store.schema import SCHEMA_VERSION
from tests.support.fixtureserver import FixtureServer

from .conftest import run_crawl

UTC = timezone.utc


# -- the schedule -------------------------------------------------------------------------------------------


def test_the_schedule_thins_out_with_age_and_ends():
    schedule = RevisitSchedule.parse(None)  # the default
    assert str(schedule) == "1h 6h 1d 3d 1w"
    published = datetime(2026, 3, 1, 10, tzinfo=UTC)
    # Fetched 20 minutes after publication: next at 1 h; fetched at 2 h: next at 6 h; at 2 days: 3 days.
    assert schedule.next_due(published, published + timedelta(minutes=20)) == published + timedelta(hours=1)
    assert schedule.next_due(published, published + timedelta(hours=2)) == published + timedelta(hours=6)
    assert schedule.next_due(published, published + timedelta(days=2)) == published + timedelta(days=3)
    # Past the last step: never again.
    assert schedule.next_due(published, published + timedelta(days=7, seconds=1)) is None
    # A publication date in the future is no reason to wait: the age counts from the first fetch.
    fetched = published - timedelta(days=30)
    assert schedule.next_revisit(published.isoformat(), None, fetched.isoformat(), fetched) == fetched + timedelta(hours=1)


def test_the_schedule_setting_is_read_plainly_and_off_turns_revisits_off():
    assert RevisitSchedule.parse("2h, 1d 30m").steps == (timedelta(minutes=30), timedelta(hours=2), timedelta(days=1))
    for off in ("off", "none", "0", ""):
        assert not RevisitSchedule.parse(off)
        assert RevisitSchedule.parse(off).next_due(datetime.now(UTC), datetime.now(UTC)) is None
    for bad in ("1x", "soon", "-1h", "h"):
        with pytest.raises(ValueError, match="is no age"):
            RevisitSchedule.parse(bad)


def test_a_publication_day_without_a_time_starts_at_midnight_in_morocco():
    assert publication_time(None, "2025-12-09") == datetime(2025, 12, 8, 23, tzinfo=UTC)  # (UTC+1 that day)
    assert publication_time(None, "2026-03-01") == datetime(2026, 3, 1, 0, tzinfo=UTC)  # (UTC+0 in Ramadan)
    assert publication_time("2026-03-01T10:00:00+01:00", "2026-03-01") == datetime(2026, 3, 1, 9, tzinfo=UTC)
    assert publication_time("garbage", None) is None and publication_time(None, None) is None


# -- the store's part ---------------------------------------------------------------------------------------


def _article(n: int, published: datetime, **more) -> dict:
    return {"url": f"https://www.maghress.com/fr/lopinion/{5010000 + n}", "maghress_id": 5010000 + n,
            "source": "lopinion", "title": f"Article {n}", "body": f"Le texte de l'article {n}.",
            "published_date": published.date().isoformat(), "published_at": published.isoformat(), **more}


def test_the_store_schedules_each_written_article_and_hands_out_those_due(database_url):
    store = Store(database_url)
    now = datetime.now(UTC).replace(microsecond=0)
    store.write([
        _article(1, now - timedelta(minutes=30), source_url="https://www.lopinion.ma/a1.html", extractor="lopinion",
                 page_validators={"etag": '"v1"', "last_modified": "Sat, 05 Dec 2026 10:00:00 GMT"}),
        _article(2, now - timedelta(hours=3)),  # no publisher page: its Maghress page is revisited
        _article(3, now - timedelta(days=30)),  # past the last step: never revisited
    ])
    assert store.revisits_due(["lopinion"], 10) == []  # nothing due yet
    # An hour from now: article 1's first revisit (an hour after its publication) is due, article 2's (six hours
    # after its publication, three hours from now) is not.
    later = (now + timedelta(hours=1)).isoformat()
    (due,) = store.revisits_due(["lopinion"], 10, now=later)
    assert (str(due.key), due.kind, due.url) == ("lopinion/5010001", "publisher", "https://www.lopinion.ma/a1.html")
    assert due.conditional_headers() == {"If-None-Match": '"v1"', "If-Modified-Since": "Sat, 05 Dec 2026 10:00:00 GMT"}
    assert due.stored["title"] == "Article 1"
    much_later = (now + timedelta(days=2)).isoformat()
    assert [(str(d.key), d.kind) for d in store.revisits_due(["lopinion"], 10, now=much_later)] == [
        ("lopinion/5010001", "publisher"), ("lopinion/5010002", "maghress")]  # the longest overdue first
    assert len(store.revisits_due(["lopinion"], 1, now=much_later)) == 1  # the per-run limit
    assert store.revisits_due(["lematin"], 10, now=much_later) == []
    # A revisit answered 304 (made now, early): counted, and the next one is the schedule's next step after now.
    store.revisit_made("lopinion/5010001", not_modified=True)
    assert store.revisits_due(["lopinion"], 10, now=(now + timedelta(minutes=10)).isoformat()) == []
    assert [str(d.key) for d in store.revisits_due(["lopinion"], 10, now=later)] == ["lopinion/5010001"]
    assert store.revisit_report()["lopinion"] == {"made": 1, "not_modified": 1, "due": 0, "versions": 0}
    store.close()


def test_a_database_of_version_6_schedules_its_recent_articles(database_url):
    store = Store(database_url)
    now = datetime.now(UTC).replace(microsecond=0)
    store.write([_article(1, now - timedelta(hours=2)), _article(2, now - timedelta(days=400))])
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE article_revisits"))
        conn.execute(text("UPDATE newscrawl_schema SET version = 6"))
    store.close()
    store = Store(database_url)
    assert store.schema_version() == SCHEMA_VERSION
    due = store.revisits_due(["lopinion"], 10, now=(now + timedelta(days=1)).isoformat())
    assert [(str(d.key), d.kind) for d in due] == [("lopinion/5010001", "maghress")]  # (no validators were kept)
    store.close()
    Store(database_url).close()  # reopening migrates nothing twice


def _cli(*args: str) -> str:
    import subprocess
    import sys

    from .conftest import REPO

    shown = subprocess.run([sys.executable, "-m", "newscrawl.ops.cli", *args], cwd=REPO, capture_output=True,
                           text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    return shown.stdout


# -- crawls: a mirror that changes between runs ---------------------------------------------------------------

#: Publisher pages of the demo site, and the Maghress articles they belong to.
HEADLINE = "/Khamssa-w-Khmiss-Jaylann-le-retour-manifeste_a22940.html"  # 5010005
CORRECTION = "/L-emanation-du-peuple-contre-le-peuple_a22948.html"  # 5010008
DATE_FIXED = "/Education-Au-coeur-des-classes-prescolaires_a22950.html"  # 5010009
UNCHANGED_ETAG = "/Sahara-autonomy-discussions-revive-appeals_a22952.html"  # 5010010
UNCHANGED_LAST_MODIFIED = "/Agriculture-Ces-ravageurs-qui-grignotent-notre-souverainete-alimentaire_a22931.html"  # 5010003
WHITESPACE = "/CA-FIFA-25-Retour-en-video_a22955.html"  # 5010011
PAST_LAST_REVISIT = "/Dialogue-Strategique-Maroc-USA-la-cooperation-dans-la-lutte-contre-la-proliferation-nucleaire_a12345.html"
#: A schedule under which the demo's 2024–2025 articles have a revisit left and its 2021 one (5010001) none.
SCHEDULE = {"NEWSCRAWL_REVISIT": "2000d"}


def _edit(site, path: str, old: str, new: str) -> None:
    page = site / path.lstrip("/")
    html = page.read_text("utf-8")
    assert old in html, (path, old)
    page.write_text(html.replace(old, new), "utf-8")


def change_the_site(site) -> None:
    """What publishers do after publication: a headline rewritten, a correction appended, a date fixed (and a
    "Lire aussi" link added), a page re-wrapped (no change a reader would see), a Maghress-only article that grew
    a paragraph."""
    _edit(site, HEADLINE, "le retour manifeste", "le grand retour")
    _edit(site, CORRECTION, "sert les mêmes fins.", "sert les mêmes fins.\\n\\nRectificatif : il s'agit de Caracas, non de Lima.")
    _edit(site, DATE_FIXED, '<time datetime="2025-10-20T16:40:00+01:00">20/10/2025</time>',
          '<time datetime="2025-10-21T16:40:00+01:00">21/10/2025</time>')
    # ... and, on the same page, furniture: a "Lire aussi" link inside the text (no part of it).
    _edit(site, DATE_FIXED, "apprennent en jouant.</p>", 'apprennent en jouant.</p><p>Lire aussi : <a href="/x_a1.html">'
          "Le Parlement adopte la loi de finances 2026</a></p>")
    _edit(site, WHITESPACE, "<h1>CA FIFA 25 : Retour", "<h1>\n  CA FIFA 25 :   Retour")
    _edit(site, "fr/lopinion/5010002.html", "vaccination des personnes âgées.</span>",
          "vaccination des personnes âgées.<br><br>Mise à jour : la campagne est prolongée jusqu'à fin janvier.</span>")


def revisits_come_due(database_url: str) -> None:
    """Time passes: every article's next revisit is due. (The schedule's own times are moved; the pages keep
    their dates.)"""
    store = Store(database_url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE article_revisits SET next_due = '2000-01-01T00:00:00+00:00' WHERE next_due IS NOT NULL"))
    store.close()


def _site_with_a_last_modified_page(site_copy):
    routes = json.loads((site_copy / "_routes.json").read_text())
    routes[UNCHANGED_LAST_MODIFIED] = {"last_modified": "Wed, 27 Mar 2024 09:15:00 GMT"}
    (site_copy / "_routes.json").write_text(json.dumps(routes))
    return site_copy


def test_revisits_find_exactly_the_edits_and_a_304_costs_no_parse(site_copy, tmp_path, database_url):
    site = _site_with_a_last_modified_page(site_copy)
    with FixtureServer(site) as server:
        listing = f"{server.origin}/fr/lopinion"
        first = run_crawl(listing, database_url, tmp_path, settings=SCHEDULE)
        assert first.returncode == 0, first.log[-3000:]
        assert "newscrawl/revisit/due" not in first.stats  # nothing is due at once

        change_the_site(site)
        # Two articles without a publisher page: one Maghress no longer has, one whose page fails every time.
        server.site.routes["/fr/lopinion/5010004"] = {"status": 404}
        server.site.routes["/fr/lopinion/5010007"] = {"status": 503}
        revisits_come_due(database_url)
        server.clear_log()
        second = run_crawl(listing, database_url, tmp_path, settings=SCHEDULE, csv=tmp_path / "second.csv")
        assert second.returncode == 0, second.log[-3000:]
        fetched = Counter(server.requests)
        # The run's feed lists the articles that changed, with their new version; the unchanged are in earlier feeds.
        with (tmp_path / "second.csv").open(encoding="utf-8") as feed:
            assert {(row["maghress_id"], row["version"]) for row in csv.DictReader(feed)} == {
                ("5010005", "2"), ("5010008", "2"), ("5010009", "2"), ("5010002", "2")}

        # Ten articles revisited once each: six publisher pages, four Maghress pages of articles without one
        # (5010002, 5010004, 5010007, 5010012); the 2021 article is past its last revisit.
        stats = second.stats
        assert stats["newscrawl/revisit/due"] == 10 and stats["newscrawl/revisit/made/lopinion"] == 10
        # The two that failed: the stored articles stand, and are owed nothing (no frontier entry).
        assert stats["newscrawl/revisit/failed/lopinion"] == 2
        assert "newscrawl/frontier/gone" not in stats and "newscrawl/frontier/failed" not in stats
        for page in (HEADLINE, CORRECTION, DATE_FIXED, UNCHANGED_ETAG, UNCHANGED_LAST_MODIFIED, WHITESPACE):
            assert fetched[page] == 1, page
        assert fetched[PAST_LAST_REVISIT] == 0 and fetched["/fr/lopinion/5010001"] == 0
        assert {p for p in fetched if p.startswith("/fr/lopinion/")} == {
            f"/fr/lopinion/{i}" for i in (5010002, 5010004, 5010007, 5010012)}
        # The two unchanged pages answered 304 to their validators (ETag, Last-Modified) and were not parsed:
        # the publisher parser read the four others only.
        assert stats["newscrawl/revisit/not_modified/lopinion"] == 2
        assert stats["newscrawl/publisher/lopinion/pages"] == 4
        # Exactly the changed articles have a version 2; the re-wrapped page made none.
        assert stats["newscrawl/store/new_version/lopinion"] == 4
        store = Store(database_url)
        version = {r["maghress_id"]: r["version"] for r in store.iter_articles()}
        assert {i for i, v in version.items() if v == 2} == {5010005, 5010008, 5010009, 5010002}
        assert set(version.values()) == {1, 2}

        def diff(maghress_id: int, field: str) -> str:
            old, new = store.history(f"lopinion/{maghress_id}")
            return word_diff(str(old[field]), str(new[field]))

        assert diff(5010005, "title") == "«Khamssa w Khmiss» : Jaylann, le {+grand+} retour [-manifeste-]"
        assert "{+Rectificatif" in diff(5010008, "body")
        assert store.history("lopinion/5010009")[0]["published_date"] == "2025-10-20"
        assert store.history("lopinion/5010009")[1]["published_date"] == "2025-10-21"
        before, after = store.history("lopinion/5010009")
        assert before["body"] == after["body"] and "Lire aussi" not in after["body"]  # its text: unchanged
        assert "{+Mise à jour" in diff(5010002, "body")
        # `newscrawl history` tells each article's revisits: how many, the last one's outcome, the next.
        failed = json.loads(_cli("history", "lopinion/5010007", "--database", database_url, "--json"))["revisits"]
        assert (failed["made"], failed["last_outcome"], failed["kind"]) == (1, "HTTP 503", "maghress")
        gone = json.loads(_cli("history", "lopinion/5010004", "--database", database_url, "--json"))["revisits"]
        assert gone["last_outcome"] == "HTTP 404: gone from Maghress"
        unchanged = _cli("history", "lopinion/5010010", "--database", database_url)
        assert "1 made (1 answered 304)" in unchanged and ": not modified; next due 20" in unchanged
        report = store.revisit_report()["lopinion"]
        assert report == {"made": 10, "not_modified": 2, "due": 0, "versions": 4}
        store.close()

        # Straight after: no revisit is due, and the run costs robots.txt and the first listing page.
        server.clear_log()
        third = run_crawl(listing, database_url, tmp_path, settings=SCHEDULE)
        assert third.returncode == 0
        assert sorted(server.requests) == ["/fr/lopinion", "/robots.txt"]


def test_revisits_off_fetches_nothing_again(site_copy, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'a.db'}"
    with FixtureServer(site_copy) as server:
        listing = f"{server.origin}/fr/lopinion"
        assert run_crawl(listing, database_url, tmp_path, settings=SCHEDULE).returncode == 0
        revisits_come_due(database_url)
        server.clear_log()
        off = run_crawl(listing, database_url, tmp_path, settings={"NEWSCRAWL_REVISIT": "off"})
        assert off.returncode == 0 and sorted(server.requests) == ["/fr/lopinion", "/robots.txt"]
        bad = run_crawl(listing, database_url, tmp_path, settings={"NEWSCRAWL_REVISIT": "every day"})
        assert bad.returncode != 0 and "NEWSCRAWL_REVISIT" in bad.log and "Traceback" not in bad.log


def test_a_crawl_resumed_from_its_jobdir_still_makes_its_revisits(site_copy, tmp_path):
    """JOBDIR remembers every request an earlier run made: a revisit is asked again all the same."""
    database_url = f"sqlite:///{tmp_path / 'a.db'}"
    settings = {**SCHEDULE, "JOBDIR": str(tmp_path / "job")}
    with FixtureServer(site_copy) as server:
        listing = f"{server.origin}/fr/lopinion"
        assert run_crawl(listing, database_url, tmp_path, settings=settings).returncode == 0
        for _ in range(2):  # the second time, the first revisits are in JOBDIR's requests.seen
            revisits_come_due(database_url)
            server.clear_log()
            again = run_crawl(listing, database_url, tmp_path, settings=settings)
            assert again.returncode == 0 and again.stats["newscrawl/revisit/made/lopinion"] == 10, again.log[-2000:]
            assert Counter(server.requests)[UNCHANGED_ETAG] == 1


def test_two_workers_on_redis_make_each_revisit_once(site_copy, tmp_path):
    from .servers import redis_server
    from .test_distributed import finish, start_worker

    database_url = f"sqlite:///{tmp_path / 'a.db'}"
    site = _site_with_a_last_modified_page(site_copy)
    with FixtureServer(site) as server:
        assert run_crawl(f"{server.origin}/fr/lopinion", database_url, tmp_path, settings=SCHEDULE).returncode == 0
        change_the_site(site)
        revisits_come_due(database_url)
        server.clear_log()
        server.delay = 0.3  # both workers start before the first revisit is answered
        with redis_server() as redis_url:
            names = ["r1", "r2"]
            workers = [start_worker(server.origin, database_url, redis_url, tmp_path, n, "-s",
                                    f"NEWSCRAWL_REVISIT={SCHEDULE['NEWSCRAWL_REVISIT']}") for n in names]
            stats = finish(workers, tmp_path, names)
        fetched = Counter(server.requests)
    for page in (HEADLINE, CORRECTION, DATE_FIXED, UNCHANGED_ETAG, UNCHANGED_LAST_MODIFIED, WHITESPACE):
        assert fetched[page] == 1, (page, fetched)
    assert sum(s.get("newscrawl/revisit/made/lopinion", 0) for s in stats) == 10
    store = Store(database_url)
    assert store.revisit_report()["lopinion"]["versions"] == 4
    assert sorted(v for v in (r["version"] for r in store.iter_articles())) == [1] * 7 + [2] * 4
    store.close()


def test_status_shows_revisits_per_source(site_copy, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'a.db'}"
    with FixtureServer(site_copy) as server:
        run_crawl(f"{server.origin}/fr/lopinion", database_url, tmp_path, settings=SCHEDULE)
        change_the_site(site_copy)
        revisits_come_due(database_url)
        run_crawl(f"{server.origin}/fr/lopinion", database_url, tmp_path, settings=SCHEDULE)
    lines = _cli("status", "--database", database_url).splitlines()
    (heading,) = [line.split() for line in lines if line.startswith("source")]
    (row,) = [line.split() for line in lines if line.startswith("lopinion")]
    columns = dict(zip(heading[-4:], row[-4:]))
    assert columns == {"revisits": "10", "304": "2", "versions": "4", "due": "0"}
