"""Back-catalogue by id: `-a ids=…` fetches article pages directly, in id order."""

from __future__ import annotations

import sqlite3

import pytest

from newscrawl.crawl.idranges import IdWalk, parse_ids

from .conftest import run_crawl

pytestmark = pytest.mark.timeout(240)


def test_parse_ids_reads_ranges_and_lists():
    assert parse_ids("5010000-5010500") == [(5010000, 5010500)]
    assert parse_ids(" 12, 20-22 ,30") == [(12, 12), (20, 22), (30, 30)]
    for bad in ("", "abc", "10-5", "1-99999999999"):
        with pytest.raises(ValueError):
            parse_ids(bad)


def test_walk_stops_a_range_after_consecutive_misses_in_id_order():
    walk = IdWalk([(1, 100)], max_misses=3)
    assert walk.take(4) == [1, 2, 3, 4]
    # Answers arrive out of order; a gap of two misses does not stop the range.
    for i, found in ((2, False), (4, True), (1, True), (3, False)):
        walk.record(i, found)
    assert not walk.done
    assert walk.take(5) == [5, 6, 7, 8, 9]
    walk.record(7, False)
    walk.record(6, False)
    assert not walk.done  # 5 is still unknown: 6 and 7 do not yet follow the last hit
    walk.record(5, False)
    assert walk.done and walk.take(5) == []
    assert walk.stopped_ranges == [(1, 100, 7)]


def test_a_failed_id_neither_breaks_nor_extends_a_run_of_misses():
    walk = IdWalk([(1, 10), (50, 52)], max_misses=2)
    walk.take(10)
    for i, found in ((1, False), (2, None), (3, True), (4, False), (5, None), (6, False)):
        walk.record(i, found)
    assert walk.take(2) == [50, 51]  # the first range stopped after 6; the next one goes on


def test_a_slow_id_does_not_hold_back_a_stop_that_later_misses_make_certain():
    walk = IdWalk([(1, 100)], max_misses=3)
    assert walk.take(10) == list(range(1, 11))
    walk.record(1, True)
    for i in (3, 4, 5):  # 2 is still being fetched (a retried 500): whatever it is, the range ends at 5
        walk.record(i, False)
    assert walk.take(10) == [] and walk.pop_stopped() == [(1, 100, 5)]
    walk.record(2, True)  # its answer changes nothing, and the stop is not counted twice
    assert walk.take(10) == [] and walk.pop_stopped() == []


def test_ids_past_an_end_found_meanwhile_are_handed_back_unasked():
    walk = IdWalk([(1, 100)], max_misses=3)
    ids = walk.take(10)
    for i in (2, 3, 4):  # known gone from an earlier run, recorded without a request
        walk.record(i, False)
    assert walk.still_wanted([i for i in ids if i not in (2, 3, 4)]) == [1]  # 5-10 come after the end
    walk.record(1, True)
    assert walk.done and walk.in_flight == set()  # nothing left for the end-of-crawl reconcile to ask


def test_misses_on_both_sides_of_a_slow_id_are_not_one_run():
    walk = IdWalk([(1, 100)], max_misses=3)
    walk.take(10)
    for i in (1, 2, 4, 5):  # 3 unanswered: two misses before it, two after, no three in a row known
        walk.record(i, False)
    assert walk.take(2) == [11, 12] and walk.pop_stopped() == []


def _ids(db, table, where="1=1"):
    with sqlite3.connect(db) as conn:
        return sorted(r[0] for r in conn.execute(f"SELECT maghress_id FROM {table} WHERE {where}"))


def test_back_catalogue_fetches_ids_records_misses_and_skips_both_next_time(site_server, tmp_path):
    db = tmp_path / "a.db"
    args = {"ids": "5010001-5010400", "max_misses": "5"}
    site_server.clear_log()
    first = run_crawl(site_server.origin, f"sqlite:///{db}", tmp_path, args=args)
    assert first.returncode == 0, first.log[-3000:]
    fetched = sorted(int(p.rsplit("/", 1)[1]) for p in site_server.counts() if p.startswith("/fr/lopinion/5"))
    # Every existing id stored once (5010005 and 5010006 are one story: whichever came first, and its alias).
    stored = _ids(db, "articles")
    assert len(stored) == 11 and set(range(5010001, 5010013)) - set(stored) in ({5010005}, {5010006})
    assert "/fr/lopinion" not in site_server.counts()
    # Ids past the end answer 404: recorded as gone; 5010014 answers 500: recorded as failed (tried again next run).
    missing = _ids(db, "article_frontier", "state = 'gone'")
    assert 5010013 in missing and 5010014 not in missing and 5010015 in missing
    assert _ids(db, "article_frontier", "state = 'failed'") == [5010014]
    # The range stopped after 5 consecutive misses: a window of requests past it at most, not 400 ids.
    assert first.stats["newscrawl/backfill/ranges_stopped"] == 1
    assert max(fetched) < 5010013 + 5 + 2 * 16, max(fetched)
    assert first.stats["newscrawl/backfill/not_found"] == len(missing)

    site_server.clear_log()
    second = run_crawl(site_server.origin, f"sqlite:///{db}", tmp_path, args=args)
    assert second.returncode == 0, second.log[-3000:]
    again = [p for p in site_server.counts() if p.startswith("/fr/lopinion/")]
    # Only the id that failed is asked again; stored and known-missing ids are skipped.
    assert again == ["/fr/lopinion/5010014"]
    assert second.stats["newscrawl/backfill/skipped_stored"] == 12
    assert second.stats["newscrawl/backfill/ranges_stopped"] == 1  # the walk went on to its end, it did not stall
    assert second.stats["newscrawl/backfill/skipped_missing"] >= 5


def test_bad_ids_argument_is_one_clear_line(site_server, tmp_path):
    result = run_crawl(site_server.origin, f"sqlite:///{tmp_path / 'a.db'}", tmp_path, args={"ids": "12-abc"})
    assert result.returncode == 1
    assert "ids='12-abc'" in result.log and "Traceback" not in result.log
