"""Distributed crawls: several workers, one Redis (scrapy-redis), one store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
import redis

from tests.support.fixtureserver import FixtureServer
from tests.support.mirror import generate
from newscrawl.store import Store

from .conftest import REPO
from .test_crawl_e2e import EXPECTED

pytestmark = pytest.mark.timeout(300)

N = 300


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    root = tmp_path_factory.mktemp("mirror")
    ids = generate(root, N)
    with FixtureServer(root, cache=True) as server:
        yield server, ids


@pytest.fixture
def redis_url():
    from .servers import redis_server

    with redis_server() as url:
        yield url


#: Leases of the tests' workers: short, so that a killed or stopped worker's work comes back within seconds, and
#: still well above what a busy machine blocks a worker's reactor for (the heartbeat renews them every 0.5 s).
LEASE_SECONDS = 8


def start_worker(origin: str, database_url: str, redis_url: str, workdir, name: str, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "scrapy", "crawl", "lopinion", "-a", f"start_url={origin}/fr/lopinion",
               "-s", f"NEWSCRAWL_DATABASE_URL={database_url}", "-s", f"NEWSCRAWL_REDIS_URL={redis_url}",
               "-s", "AUTOTHROTTLE_ENABLED=False", "-s", f"NEWSCRAWL_STATS_FILE={workdir / (name + '.json')}",
               "-s", f"NEWSCRAWL_REDIS_LEASE={LEASE_SECONDS}", "-s", "NEWSCRAWL_REDIS_HEARTBEAT=0.5",
               "-O", str(workdir / f"{name}.csv"), *extra]
    log = (workdir / f"{name}.log").open("w")
    return subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "NEWSCRAWL_DATA_DIR": str(workdir / "data")})


def finish(workers, workdir, names, timeout=180) -> list[dict]:
    for proc in workers:
        proc.wait(timeout)
    logs = {n: (workdir / f"{n}.log").read_text() for n in names}
    assert [p.returncode for p in workers] == [0] * len(workers), {n: log[-1500:] for n, log in logs.items()}
    return [json.loads((workdir / f"{n}.json").read_text()) for n in names]


def _check_every_page_once_and_every_article_stored(server, ids, database_url, stats):
    counts = Counter(server.requests)
    article_pages = {p: c for p, c in counts.items() if p.startswith("/fr/lopinion/")}
    publisher_pages = {p: c for p, c in counts.items() if p.startswith("/Article-")}
    assert len(article_pages) == N and len(publisher_pages) == N
    assert max(article_pages.values()) == 1 and max(publisher_pages.values()) == 1
    stored = {a["maghress_id"] for a in Store(database_url).iter_articles()}
    assert stored == set(ids) and Store(database_url).count() == N
    # Every worker took part of the work.
    assert all(s.get("newscrawl/article/pages", 0) > 0 for s in stats), [s.get("newscrawl/article/pages") for s in stats]


def test_three_workers_fetch_every_page_once_and_store_every_article_once(mirror, redis_url, tmp_path):
    server, ids = mirror
    server.clear_log()
    database_url = f"sqlite:///{tmp_path / 'a.db'}"
    names = ["w1", "w2", "w3"]
    workers = [start_worker(server.origin, database_url, redis_url, tmp_path, n) for n in names]
    stats = finish(workers, tmp_path, names)
    _check_every_page_once_and_every_article_stored(server, ids, database_url, stats)
    assert sorted(s["newscrawl/distributed/role"] for s in stats) == ["joined", "joined", "started"]
    assert redis.Redis.from_url(redis_url).keys("newscrawl:*") == []  # a finished crawl leaves nothing behind


def test_three_workers_on_postgresql(mirror, redis_url, tmp_path, postgresql_admin_url):
    from .servers import create_database

    server, ids = mirror
    server.clear_log()
    database_url = create_database(postgresql_admin_url, "distributed")
    Store(database_url).close()  # the schema, as the first of the workers would make it
    names = ["p1", "p2", "p3"]
    workers = [start_worker(server.origin, database_url, redis_url, tmp_path, n) for n in names]
    stats = finish(workers, tmp_path, names)
    _check_every_page_once_and_every_article_stored(server, ids, database_url, stats)
    # The mirror's pages name the production host as canonical: a re-crawl by two workers still finds
    # every article stored and asks only for the first listing page (and each worker for robots.txt).
    server.clear_log()
    again = ["r1", "r2"]
    finish([start_worker(server.origin, database_url, redis_url, tmp_path, n) for n in again], tmp_path, again)
    assert set(server.requests) == {"/robots.txt", "/fr/lopinion"} and server.requests.count("/fr/lopinion") == 1


def test_a_worker_killed_halfway_leaves_nothing_missing(mirror, redis_url, tmp_path):
    server, ids = mirror
    server.clear_log()
    database_url = f"sqlite:///{tmp_path / 'a.db'}"
    names = ["k1", "k2", "k3"]
    server.delay = 0.02  # every page takes a moment: the worker killed holds pages in flight
    workers = [start_worker(server.origin, database_url, redis_url, tmp_path, n) for n in names]
    deadline = time.time() + 60
    # Killed mid-crawl with pages in hand (a worker between two pages holds none, and loses none).
    while not (sum(1 for p in server.requests if p.startswith("/fr/lopinion/")) >= 20
               and _holds_leases(redis_url, workers[0].pid)) and time.time() < deadline:
        time.sleep(0.005)
    assert workers[0].poll() is None, "the worker to kill finished first"
    workers[0].send_signal(signal.SIGKILL)
    workers[0].wait(10)
    try:
        stats = finish(workers[1:], tmp_path, names[1:])
    finally:
        server.delay = 0
    stored = {a["maghress_id"] for a in Store(database_url).iter_articles()}
    assert stored == set(ids) and Store(database_url).count() == N
    assert sum(s.get("newscrawl/store/inserted", 0) for s in stats) > 0
    # What the dead worker had taken came back: its leases expired, and what it had read and not written was
    # queued again by a survivor (else it would be missing above).
    came_back = sum(s.get("newscrawl/distributed/leases/expired", 0) + s.get("newscrawl/distributed/requeued", 0)
                    for s in stats)
    assert came_back > 0
    twice = _fetched_twice(server)
    assert len(twice) <= came_back, (twice, stats)  # nothing else fetched twice


def test_without_redis_nothing_changes(tmp_path):
    result = subprocess.run([sys.executable, "-c",
                             "from scrapy.utils.project import get_project_settings as g;"
                             "from scrapy.crawler import CrawlerProcess as P;"
                             "from newscrawl.spiders.lopinion import LopinionSpider as S;"
                             "c = P(g()).create_crawler(S); c._apply_settings(); print(c.settings.get('SCHEDULER'))"],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().splitlines()[-1] == "scrapy.core.scheduler.Scheduler", result.stderr[-2000:]


def test_a_republished_story_fetches_its_publisher_page_once_across_workers(redis_url, tmp_path, site_copy):
    """5010005 and 5010006 (listing pages 1 and 2) share a publisher page, slow to answer: whichever worker
    meets the second id while the page is in flight (its own or another's), the page is fetched once."""
    publisher_page = "/Khamssa-w-Khmiss-Jaylann-le-retour-manifeste_a22940.html"
    routes = json.loads((site_copy / "_routes.json").read_text())
    routes[publisher_page] = {"delay": 1.5}
    (site_copy / "_routes.json").write_text(json.dumps(routes))
    database_url = f"sqlite:///{tmp_path / 'a.db'}"
    with FixtureServer(site_copy) as server:
        names = ["s1", "s2"]
        stats = finish([start_worker(server.origin, database_url, redis_url, tmp_path, n) for n in names],
                       tmp_path, names)
        assert [p for p in server.requests if p.startswith(publisher_page)] == [publisher_page]
    store = Store(database_url)
    pair = {a["maghress_id"] for a in store.iter_articles()} & {5010005, 5010006}
    assert len(pair) == 1
    (kept,) = pair
    assert store.aliases_of(f"{server.origin}/fr/lopinion/{kept}") == [
        f"{server.origin}/fr/lopinion/{({5010005, 5010006} - pair).pop()}"]
    assert sum(s.get("newscrawl/source/pages", 0) for s in stats) >= 7


def test_articles_waiting_for_a_publisher_page_another_worker_claimed_are_not_lost(redis_url, tmp_path, site_copy):
    """A worker that meets a publisher page another worker claimed does not fetch it; when idle, it stores the
    articles that waited from Maghress (one row and its alias): nothing lost, the page fetched by nobody twice."""
    from newscrawl.normalize import canonical_key

    publisher_page = "/Khamssa-w-Khmiss-Jaylann-le-retour-manifeste_a22940.html"
    database_url = f"sqlite:///{tmp_path / 'a.db'}"
    with FixtureServer(site_copy) as server:
        # The claim of a worker of this crawl's run that is fetching the page (a resumed run: its keys are kept).
        shared = redis.Redis.from_url(redis_url)
        shared.set("newscrawl:lopinion:default:last-run", "r0")
        shared.sadd("newscrawl:lopinion:default:r0:publishers", canonical_key(server.origin + publisher_page))
        worker = start_worker(server.origin, database_url, redis_url, tmp_path, "w", "-s", "NEWSCRAWL_REDIS_RESUME=true")
        (stats,) = finish([worker], tmp_path, ["w"])
        assert not [p for p in server.requests if p.startswith(publisher_page)]
    store = Store(database_url)
    pair = {a["maghress_id"] for a in store.iter_articles()} & {5010005, 5010006}
    assert len(pair) == 1
    (kept,) = pair
    assert store.aliases_of(f"{server.origin}/fr/lopinion/{kept}") == [
        f"{server.origin}/fr/lopinion/{({5010005, 5010006} - pair).pop()}"]
    assert stats["newscrawl/store/inserted"] == len(EXPECTED)


# -- the back-catalogue shared by workers -------------------------------------------------------------


def _backfill_worker(origin, database_url, redis_url, workdir, name, ids):
    return start_worker(origin, database_url, redis_url, workdir, name, "-a", f"ids={ids}", "-a", "max_misses=10")


def test_three_workers_share_a_back_catalogue_and_a_killed_one_loses_nothing(mirror, redis_url, tmp_path):
    """The ids walked once across the workers (each asked at most once), misses counted in id order across
    them (the walk stops past the last article), and the blocks of a worker killed half way asked again."""
    server, ids = mirror
    server.clear_log()
    server.delay = 0.2  # a real site answers in a few hundred milliseconds: latency, not CPU, bounds the crawl
    database_url = f"sqlite:///{tmp_path / 'a.db'}"
    walk = f"{min(ids)}-{max(ids) + 400}"  # 400 ids past the last article: the walk must stop by itself
    names = ["b1", "b2", "b3"]
    try:
        workers = [_backfill_worker(server.origin, database_url, redis_url, tmp_path, n, walk) for n in names]
        deadline = time.time() + 60
        while len(server.requests) < N // 2 and time.time() < deadline:  # about a quarter of the pages
            time.sleep(0.05)
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(10)
        assert workers[0].returncode == -signal.SIGKILL  # killed mid-way, not finished
        stats = finish(workers[1:], tmp_path, names[1:], timeout=240)
    finally:
        server.delay = 0
    article_pages = Counter(p for p in server.requests if p.startswith("/fr/lopinion/"))
    stored = {a["maghress_id"] for a in Store(database_url).iter_articles()}
    assert stored == set(ids) and Store(database_url).count() == N  # every article once, none lost
    # Every id asked at most once, but for those the killed worker held (asked again, by a survivor).
    came_back = sum(s.get("newscrawl/distributed/requeued", 0) + s.get("newscrawl/distributed/leases/expired", 0)
                    for s in stats)
    assert sum(c - 1 for c in article_pages.values()) <= came_back
    assert "/fr/lopinion" not in article_pages  # no listing: the ids alone
    # The walk stopped after 10 misses in id order, within the shared window, not 400 ids later.
    assert max(int(p.rsplit("/", 1)[1]) for p in article_pages) <= max(ids) + 10 + 64 + 16
    # The survivors both fetched article pages: the work was shared.
    assert all(s.get("newscrawl/article/pages", 0) > 0 for s in stats), [s.get("newscrawl/article/pages") for s in stats]



# -- leases: every page once at real-site latency, on a busy machine ------------------------------------------

SLOW_N = 60


@pytest.fixture(scope="module")
def slow_mirror(tmp_path_factory):
    """A mirror whose every page answers in half a second, as real sites do, and a CPU-bound process beside it."""
    root = tmp_path_factory.mktemp("slow-mirror")
    ids = generate(root, SLOW_N)
    busy = subprocess.Popen(["yes"], stdout=subprocess.DEVNULL)
    try:
        with FixtureServer(root, cache=True, delay=0.5) as server:
            yield server, ids
    finally:
        busy.kill()
        busy.wait()


def _holds_leases(redis_url: str, pid: int) -> bool:
    from newscrawl.crawl.distributed import describe

    return any(w["leases"] and w["worker"].split(":")[1] == str(pid)
               for crawl in describe(redis.Redis.from_url(redis_url)) for w in crawl["workers"])


def _fetched_twice(server) -> dict[str, int]:
    counts = Counter(p for p in server.requests if p != "/robots.txt")  # (each worker asks for robots.txt)
    return {p: c for p, c in counts.items() if c > 1}


@pytest.mark.parametrize("walk", ["listings", "ids"])
def test_at_real_site_latency_every_page_is_fetched_once_in_each_of_two_crawls(slow_mirror, redis_url, tmp_path,
                                                                               walk):
    server, ids = slow_mirror
    for crawl in (1, 2):  # the second on the same Redis: nothing of the first decides what it asks
        server.clear_log()
        work = tmp_path / f"crawl{crawl}"
        work.mkdir()
        database_url = f"sqlite:///{work / 'a.db'}"
        names = ["a", "b", "c"]
        extra = ("-a", f"ids={min(ids)}-{max(ids) + 12}", "-a", "max_misses=10") if walk == "ids" else ()
        stats = finish([start_worker(server.origin, database_url, redis_url, work, n, *extra) for n in names],
                       work, names, timeout=240)
        assert _fetched_twice(server) == {}, crawl
        stored = [a["maghress_id"] for a in Store(database_url).iter_articles()]
        assert sorted(stored) == sorted(ids), crawl  # every article, once
        assert sum(1 for s in stats if s.get("newscrawl/article/pages", 0) > 0) >= 2, crawl
        assert all(s.get("newscrawl/distributed/leases/expired", 0) == 0 for s in stats)  # no live worker lost one
        assert redis.Redis.from_url(redis_url).keys("newscrawl:*") == []  # the run cleaned up after itself


def test_a_worker_stopped_past_its_lease_drops_the_work_another_took_over(slow_mirror, redis_url, tmp_path):
    server, ids = slow_mirror
    server.clear_log()
    database_url = f"sqlite:///{tmp_path / 'a.db'}"
    names = ["p", "q", "r"]
    workers = [start_worker(server.origin, database_url, redis_url, tmp_path, n) for n in names]
    deadline = time.time() + 90
    while not _holds_leases(redis_url, workers[0].pid) and time.time() < deadline:
        time.sleep(0.02)
    workers[0].send_signal(signal.SIGSTOP)  # pages in flight, leases held
    time.sleep(LEASE_SECONDS + 4)  # its leases expire; the others take its pages over
    workers[0].send_signal(signal.SIGCONT)
    stats = finish(workers, tmp_path, names, timeout=240)
    stopped = stats[0]
    assert stopped.get("newscrawl/distributed/leases/taken_over", 0) >= 1, stopped
    assert sum(s.get("newscrawl/distributed/leases/expired", 0) for s in stats[1:]) >= 1
    stored = [a["maghress_id"] for a in Store(database_url).iter_articles()]
    assert sorted(stored) == sorted(ids)  # every article once: the work it lost was done by another, once
    # A page it had already asked for when it stopped is answered twice (the server saw its request) and read
    # once; so is a page it had read and not yet written when its lease ran out (the others, all idle, queue
    # again what no row shows: counted as requeued). No other page is asked twice.
    came_back = stopped["newscrawl/distributed/leases/taken_over"] + sum(
        s.get("newscrawl/distributed/requeued", 0) for s in stats)
    assert len(_fetched_twice(server)) <= came_back
    assert "taken over by another worker: dropped here" in (tmp_path / "p.log").read_text()


def test_status_shows_the_live_workers_and_their_leases(slow_mirror, redis_url, tmp_path):
    server, _ = slow_mirror
    database_url = f"sqlite:///{tmp_path / 'a.db'}"
    worker = start_worker(server.origin, database_url, redis_url, tmp_path, "w")
    try:
        deadline = time.time() + 60
        while not any(p.startswith("/fr/lopinion/") for p in server.requests) and time.time() < deadline:
            time.sleep(0.05)
        while not (tmp_path / "a.db").exists() and time.time() < deadline:
            time.sleep(0.05)
        while True:  # (asked again until it catches the worker with pages in hand: it is, nearly always)
            shown = subprocess.run([sys.executable, "-m", "newscrawl.ops.cli", "status", "--database", database_url,
                                    "--redis", redis_url, "--json"], cwd=REPO, capture_output=True, text=True,
                                   timeout=60)
            assert shown.returncode == 0, shown.stderr
            (crawl,) = json.loads(shown.stdout)["distributed"]
            if crawl["leases"] or time.time() > deadline:
                break
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(60)
    assert crawl["crawl"] == "newscrawl:lopinion:default"
    (record,) = crawl["workers"]
    assert record["alive"] and record["worker"].split(":")[1] == str(worker.pid)
    assert crawl["leases"] == record["leases"] >= 1
