"""Distributed crawls: many ``scrapy crawl lopinion`` processes sharing one Redis (scrapy-redis).

``NEWSCRAWL_REDIS_URL=redis://host:port/db`` turns it on (``newscrawl.crawl.addons.DistributedAddon``):
the processes ("workers") share a request queue and seen-set in Redis, so
every page is fetched once across all of them, and they write to one store
(PostgreSQL for several machines). Without the setting nothing changes.

**Leases, not guesses.** A worker never simply *takes* a request from the
shared queue: it leases it. The request moves from the queue to the crawl's
leases with an expiry (``NEWSCRAWL_REDIS_LEASE`` seconds), which the worker
renews on its heartbeat (a ``LoopingCall`` every ``NEWSCRAWL_REDIS_HEARTBEAT``
seconds, whatever its pages take), and gives up once the page's callback (or
errback) has run. A lease that expired — its worker was killed, or stopped
past it — goes back to the queue, and only then does another worker get the
request. A worker that finds a lease of its own taken over drops that work
(``LeaseLost``) before fetching the page, or before reading it if it had
been fetched. Workers are alive while their own key, renewed on the same
heartbeat, has not expired: silence alone never makes a worker dead.

**A crawl's keys are its own.** Keys are ``newscrawl:<spider>:<crawl id>:…``
(``NEWSCRAWL_CRAWL_ID``, default ``default``). The first worker of a crawl that
nobody runs starts a new *run* (a fresh id): every per-run key (queue,
seen-set, leases, workers, claims, walks) is named after it, so nothing of an
earlier run decides what this one asks. ``NEWSCRAWL_REDIS_RESUME=true`` joins
the last run instead (a crawl whose workers all died). The last worker of a
finished run deletes its keys; a run nobody renews expires after
``NEWSCRAWL_REDIS_KEEP`` seconds. What is durable (stored articles, the
frontier) lives in the database, as for one worker.

Also adapted from scrapy-redis:

- A plain spider closes as soon as the shared queue is momentarily empty.
  Workers publish whether they are busy; a worker stays open while any live
  worker is busy, while leases are outstanding, and until all have been idle
  for ``SETTLE`` seconds.
- Work a dead worker had finished reading but not yet stored (its unwritten
  batch) is found when every live worker is idle and no lease is left: the
  article pages scheduled in this run that no store row shows are queued
  again, once (the reconcile).
- Its dupefilter ignores ``REQUEST_FINGERPRINTER_CLASS``; ours uses the
  crawler's fingerprinter, like Scrapy's own.
- An idle worker asks the scheduler for work only on the engine's heartbeat,
  every 5 s; we shorten that worker's heartbeat to ``POLL_SECONDS``.
- ``RedisSpider`` only defines ``start_requests()``, which Scrapy 2.19 never
  calls: we keep our own spider (``async def start()``) and share only the
  scheduler; each worker requests the start URL (the seen-set drops it after
  the first).

(One module: everything that adapts scrapy-redis, and the crawl state the
workers share through Redis. ``describe`` reads it for ``newscrawl status``.)
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid

from scrapy import signals
from scrapy.http import Request
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from newscrawl.crawl.storage import store_for
from newscrawl.crawl.coordination import LEASE, LeaseLost
from newscrawl.crawl.dupefilter import PAGE_KIND
from newscrawl.crawl.signals import store_backlog
from newscrawl.crawl.idranges import IdWalk
from newscrawl.identity.keys import ArticleKey, article_key

logger = logging.getLogger(__name__)

SETTLE = 3.0  # seconds every worker must have been idle before the crawl counts as done
CHECK_EVERY = 1.0  # seconds between looks at the other workers
POLL_SECONDS = 0.5  # how often an idle worker looks at the shared queue
#: Per-run keys (``<prefix>:<run>:<name>``).
_RUN_KEYS = ("requests", "seen", "articles", "workers", "reconciled", "publishers", "leased", "leased-request",
             "leased-score", "lease-expiry")

# Start a run, or join the one running. KEYS: state, last run. ARGV: new run id, lease ms, keep s, resume.
_START = """
local run = redis.call('GET', KEYS[1])
if run then return {0, run} end
if ARGV[4] == '1' then run = redis.call('GET', KEYS[2]) end
if not run then run = ARGV[1] end
redis.call('SET', KEYS[1], run, 'PX', ARGV[2])
redis.call('SET', KEYS[2], run, 'EX', ARGV[3])
return {1, run}
"""
# Lease the first request of the queue. KEYS: queue, leased, leased-request, leased-score, lease-expiry.
# ARGV: token, worker, expiry (ms).
_LEASE = """
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #first == 0 then return false end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, 0)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], first[1])
redis.call('HSET', KEYS[4], ARGV[1], first[2])
redis.call('ZADD', KEYS[5], ARGV[3], ARGV[1])
return first[1]
"""
# Renew this worker's leases; returns those it no longer holds. KEYS: leased, lease-expiry.
# ARGV: worker, expiry (ms), tokens...
_RENEW = """
local lost = {}
for i = 3, #ARGV do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[1] then
    redis.call('ZADD', KEYS[2], 'XX', ARGV[2], ARGV[i])
  else
    table.insert(lost, ARGV[i])
  end
end
return lost
"""
# Give a lease up (the page is done). KEYS: leased, leased-request, leased-score, lease-expiry. ARGV: token, worker.
_RELEASE = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
return 1
"""
# Put expired leases' requests back in the queue. KEYS: queue, leased, leased-request, leased-score, lease-expiry.
# ARGV: now (ms), at most this many.
_RECLAIM = """
local expired = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, token in ipairs(expired) do
  local request = redis.call('HGET', KEYS[3], token)
  if request then redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[4], token), request) end
  redis.call('HDEL', KEYS[2], token)
  redis.call('HDEL', KEYS[3], token)
  redis.call('HDEL', KEYS[4], token)
  redis.call('ZREM', KEYS[5], token)
end
return #expired
"""
# Keep the run's state alive, unless another run has taken its place. KEYS: state. ARGV: run, lease ms.
_KEEP_STATE = """
local run = redis.call('GET', KEYS[1])
if run == ARGV[1] or not run then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
"""


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


class LeasedQueue(PriorityQueue):
    """scrapy-redis's priority queue, whose ``pop`` leases the request instead of taking it.

    The scheduler sets ``worker``, ``keys`` and ``lease_seconds`` when it opens; every leased request carries
    its token in ``request.meta[LEASE]``, and the tokens this worker holds are in ``held``.
    """

    worker: str = ""
    keys: dict[str, str] = {}
    lease_seconds: float = 30.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.held: set[str] = set()
        self.taken = 0

    def pop(self, timeout=0):
        token = uuid.uuid4().hex
        k = self.keys
        data = self.server.eval(_LEASE, 5, self.key, k["leased"], k["leased-request"], k["leased-score"],
                                k["lease-expiry"], token, self.worker, _ms(time.time() + self.lease_seconds))
        if not data:
            return None
        request = self._decode_request(data)
        request.meta[LEASE] = token
        self.held.add(token)
        self.taken += 1
        return request


class SharedIdWalk:
    """A back-catalogue walk (``idranges.IdWalk``) shared by every worker of a crawl, its state in Redis.

    Each call loads the walk, applies one step and saves it in one Redis
    transaction, so workers claim distinct ids (every id handed out once, across
    restarts of any worker) and misses are counted in id order across all of
    them: the ``max_misses`` rule holds as in one process. An id's request goes
    through the shared queue, leased like any other; ids handed out and never
    answered (their worker died between the walk and the queue) are asked again
    by the reconcile (``unanswered``).
    """

    def __init__(self, server, key: str, ranges: list[tuple[int, int]], max_misses: int, window: int,
                 keep_seconds: int):
        self.server, self.key = server, key
        self.server.set(key, json.dumps(IdWalk(ranges, max_misses, window).to_dict()), nx=True, ex=keep_seconds)

    def _step(self, step):
        """Apply ``step`` to the walk atomically: optimistic (WATCH … MULTI), retried at once when another worker
        changed it meanwhile. (A lock would make a worker sleep in the reactor while another holds it.)"""
        result = []

        def transaction(pipe):
            walk = IdWalk.from_dict(json.loads(pipe.get(self.key)))
            result[:] = [step(walk)]
            pipe.multi()
            pipe.set(self.key, json.dumps(walk.to_dict()), keepttl=True)

        self.server.transaction(transaction, self.key)
        return result[0]

    def take(self, count: int) -> list[int]:
        return self._step(lambda walk: walk.take(count))

    def record(self, maghress_id: int, found: bool | None) -> None:
        self._step(lambda walk: walk.record(maghress_id, found))

    def pop_stopped(self) -> list[tuple[int, int, int]]:
        return self._step(lambda walk: walk.pop_stopped())

    def still_wanted(self, ids: list[int]) -> list[int]:
        return self._step(lambda walk: walk.still_wanted(ids))

    @property
    def done(self) -> bool:
        return IdWalk.from_dict(json.loads(self.server.get(self.key))).done

    def unanswered(self) -> list[int]:
        return sorted(IdWalk.from_dict(json.loads(self.server.get(self.key))).in_flight)


class SharedDupeFilter(RFPDupeFilter):
    """scrapy-redis's seen-set, fingerprinting requests with the crawler's fingerprinter."""

    @classmethod
    def from_spider(cls, spider):
        dupefilter = super().from_spider(spider)
        dupefilter.fingerprinter = spider.crawler.request_fingerprinter
        return dupefilter

    def request_fingerprint(self, request: Request) -> str:
        return self.fingerprinter.fingerprint(request).hex()


def _poll_every(engine, seconds: float) -> None:
    """Have an idle engine ask the scheduler for requests every ``seconds`` (Scrapy's heartbeat: 5 s).

    Private in Scrapy (``ExecutionEngine._SLOT_HEARTBEAT_INTERVAL``, checked on 2.19.0, bounded in
    pyproject.toml, tests/test_versions.py), read when the engine starts its heartbeat, just after the
    scheduler opens; set on this engine's instance only."""
    if engine is not None:
        engine._SLOT_HEARTBEAT_INTERVAL = seconds


def crawl_prefix(spider_name: str, settings) -> str:
    crawl = settings.get("NEWSCRAWL_CRAWL_ID") or os.environ.get("NEWSCRAWL_CRAWL_ID") or "default"
    return f"newscrawl:{spider_name}:{crawl}"


class SharedScheduler(Scheduler):
    """scrapy-redis's scheduler with leases and a crawl lifecycle that fits several workers (see module doc)."""

    def open(self, spider):
        settings = spider.crawler.settings
        self.lease_seconds = max(1.0, settings.getfloat("NEWSCRAWL_REDIS_LEASE", 30.0))
        self.heartbeat_seconds = min(max(0.1, settings.getfloat("NEWSCRAWL_REDIS_HEARTBEAT", 3.0)),
                                     self.lease_seconds / 3)
        self.keep_seconds = max(60, settings.getint("NEWSCRAWL_REDIS_KEEP", 86400))
        self.prefix = crawl_prefix(spider.name, settings)
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        resume = settings.getbool("NEWSCRAWL_REDIS_RESUME")
        started, run = self.server.eval(_START, 2, f"{self.prefix}:state", f"{self.prefix}:last-run",
                                        uuid.uuid4().hex[:12], _ms(self.lease_seconds), self.keep_seconds,
                                        "1" if resume else "0")
        self.run = _text(run)
        self.run_prefix = f"{self.prefix}:{self.run}"
        self._walk_keys: set[str] = set()
        self._unwritten = False  # articles read and not yet written (StorePipeline says): this worker is busy
        spider.crawler.signals.connect(self._store_backlog, signal=store_backlog)
        self.id_walks: dict[str, SharedIdWalk] = {}  # this worker's share of the run's back-catalogue walks
        self.keys = {name: f"{self.run_prefix}:{name}" for name in _RUN_KEYS}
        self.queue_key = self.keys["requests"]
        self.queue_cls = "newscrawl.crawl.distributed.LeasedQueue"
        super().open(spider)
        self.df.key = self.keys["seen"]
        self.queue.worker, self.queue.keys, self.queue.lease_seconds = self.worker, self.keys, self.lease_seconds
        _poll_every(spider.crawler.engine, POLL_SECONDS)
        if started and not resume:
            self._delete_other_runs()
        how = "started" if started else "joined"
        if started and resume and len(self.queue):
            how = "resumed"
        logger.info("Distributed crawl %s: %s run %s as worker %s (%d requests queued; leases of %g s renewed "
                    "every %g s)", self.prefix, how, self.run, self.worker, len(self.queue), self.lease_seconds,
                    self.heartbeat_seconds)
        self.stats.set_value("newscrawl/distributed/role", how)
        self._idle_since: float | None = None
        self._last_check = 0.0
        self._answer = True
        self._renewed = self._expired = self._lost = 0
        self._heartbeat = task.LoopingCall(self._heartbeat_tick)
        self._heartbeat.start(self.heartbeat_seconds, now=True)
        spider.crawler.signals.connect(self._page_left, signal=signals.request_dropped)

    def _delete_other_runs(self) -> None:
        """A new run: the keys of earlier runs of this crawl (a killed one's, not yet expired) go."""
        stale = [key for key in self.server.scan_iter(match=f"{self.prefix}:*", count=500)
                 if not _text(key).startswith(f"{self.run_prefix}:")
                 and _text(key) not in (f"{self.prefix}:state", f"{self.prefix}:last-run")]
        if stale:
            self.server.delete(*stale)

    def id_walk(self, slug: str, ranges: list[tuple[int, int]], max_misses: int, window: int) -> SharedIdWalk:
        """The crawl's walk over ``ranges`` of source ``slug``, made by the first worker, joined by the others."""
        key = f"{self.run_prefix}:ids:{slug}"
        self._walk_keys.add(key)  # (kept alive by the heartbeat, like the run's other keys)
        walk = self.id_walks[slug] = SharedIdWalk(self.server, key, ranges, max_misses, window, self.keep_seconds)
        return walk

    def claim(self, kind: str, member: str) -> bool:
        """True for the first worker of the run to claim ``member`` of ``kind`` (a publisher page: its request
        then goes through the shared queue, leased like any other)."""
        return bool(self.server.sadd(self.keys[kind], member))

    # -- leases -------------------------------------------------------------------------

    def holds(self, request: Request) -> bool:
        """Whether this worker still holds the lease of ``request`` (requests not from the shared queue: yes)."""
        token = request.meta.get(LEASE)
        if token is None:
            return True
        if _text(self.server.hget(self.keys["leased"], token) or b"") == self.worker:
            return True
        if token in self.queue.held:  # (else the heartbeat found it lost first, and counted it)
            self.queue.held.discard(token)
            self._lost += 1
            self.stats.set_value("newscrawl/distributed/leases/taken_over", self._lost)
        return False

    def release(self, request: Request) -> None:
        """The page of ``request`` is done (its callback or errback ran, or it was dropped)."""
        if (token := request.meta.get(LEASE)) is not None:
            self._release_token(token)

    def _release_token(self, token: str) -> None:
        if token not in self.queue.held:
            return
        self.queue.held.discard(token)
        k = self.keys
        if not self.server.eval(_RELEASE, 4, k["leased"], k["leased-request"], k["leased-score"], k["lease-expiry"],
                                token, self.worker):
            # It ran out while this worker was stopped in the page's last steps: another worker has done the
            # page again. Counted as taken over: this worker's work on it was in vain.
            self._lost += 1
            self.stats.set_value("newscrawl/distributed/leases/taken_over", self._lost)

    def _page_left(self, request, spider=None) -> None:
        self.release(request)

    def _heartbeat_tick(self) -> None:
        """Renew this worker's key and leases, keep the run alive, put expired leases back in the queue."""
        try:
            self._beat()
        except Exception:  # noqa: BLE001 - a Redis hiccup must not stop the heartbeat for good
            logger.exception("Distributed crawl %s: heartbeat failed; trying again in %g s", self.prefix,
                             self.heartbeat_seconds)

    def _record(self, now: float, busy: bool = False) -> str:
        """This worker's record for the others: busy (``busy``: known to be) or idle since when."""
        if busy or self._locally_busy():
            self._idle_since = None
        elif self._idle_since is None:
            self._idle_since = now
        return json.dumps({"ts": now, "busy": self._idle_since is None, "idle_since": self._idle_since})

    def _publish(self, busy: bool = False) -> None:
        """Between heartbeats: only whether this worker is busy (the others must not settle while it works)."""
        self.server.hset(self.keys["workers"], self.worker, self._record(time.time(), busy))

    def _beat(self) -> None:
        now = time.time()
        k = self.keys
        pipe = self.server.pipeline(transaction=False)
        pipe.set(f"{self.run_prefix}:worker:{self.worker}", "1", px=_ms(self.lease_seconds))
        pipe.hset(k["workers"], self.worker, self._record(now))
        pipe.eval(_KEEP_STATE, 1, f"{self.prefix}:state", self.run, _ms(self.lease_seconds))
        for key in (*(k[name] for name in ("requests", "seen", "articles", "workers", "publishers", "leased",
                                           "leased-request", "leased-score", "lease-expiry")), *self._walk_keys):
            pipe.expire(key, self.keep_seconds)
        pipe.expire(f"{self.prefix}:last-run", self.keep_seconds)
        held = sorted(self.queue.held)
        if held:
            pipe.eval(_RENEW, 2, k["leased"], k["lease-expiry"], self.worker, _ms(now + self.lease_seconds), *held)
        pipe.eval(_RECLAIM, 5, k["requests"], k["leased"], k["leased-request"], k["leased-score"], k["lease-expiry"],
                  _ms(now), 1000)
        results = pipe.execute()
        expired = results[-1]
        if held:
            lost = {_text(t) for t in results[-2]}
            self.queue.held -= lost
            self._renewed += len(held) - len(lost)
            self._lost += len(lost)
        if expired:
            self._expired += expired
            logger.warning("Distributed crawl %s: %d leases expired (a worker died or stopped): queued again",
                           self.prefix, expired)
        for name, value in (("taken", self.queue.taken), ("renewed", self._renewed), ("expired", self._expired),
                            ("taken_over", self._lost)):
            self.stats.set_value(f"newscrawl/distributed/leases/{name}", value)

    # -- workers ----------------------------------------------------------------------

    def _locally_busy(self) -> bool:
        engine = self.spider.crawler.engine
        if engine is None:
            return False
        slot = engine.scraper.slot
        return bool(engine.downloader.active) or (slot is not None and not slot.is_idle()) or self._unwritten

    def _store_backlog(self, pending: bool) -> None:
        self._unwritten = pending

    def _workers(self) -> dict[str, tuple[dict, bool]]:
        """Every worker of the run: its last record, and whether it is alive (its key has not expired)."""
        records = {_text(w): json.loads(raw) for w, raw in self.server.hgetall(self.keys["workers"]).items()}
        pipe = self.server.pipeline(transaction=False)
        for worker in records:
            pipe.exists(f"{self.run_prefix}:worker:{worker}")
        return {w: (r, bool(alive)) for (w, r), alive in zip(records.items(), pipe.execute())}

    # -- the scheduler interface --------------------------------------------------------

    def enqueue_request(self, request: Request) -> bool:
        # A leased request back in the queue (a retry, a redirect's next hop) gives its lease up: it is the
        # queue's again, and whoever takes it next leases it anew.
        if (token := request.meta.pop(LEASE, None)) is not None:
            self._release_token(token)
        added = super().enqueue_request(request)
        if added and request.meta.get(PAGE_KIND) == "article":
            self.server.sadd(self.keys["articles"], request.url)
        return added

    def next_request(self):
        request = super().next_request()
        if request is not None and self._idle_since is not None:
            # Say so at once (the request is not in the downloader yet): the others must not settle while it works.
            self._publish(busy=True)
        return request

    def has_pending_requests(self) -> bool:
        """True while this worker or any live worker may still add work, so no worker quits early."""
        if len(self.queue) > 0:
            return True
        now = time.time()
        if now - self._last_check < CHECK_EVERY:
            return self._answer
        self._last_check = now
        self._publish()
        if self._idle_since is None or now - self._idle_since < SETTLE:
            self._answer = True  # this worker is working, or was a moment ago
            return True
        if self.server.zcard(self.keys["lease-expiry"]):
            self._answer = True  # pages being read elsewhere, or leases of a dead worker waiting to expire
            return True
        workers = self._workers()
        others = [record for worker, (record, alive) in workers.items() if alive and worker != self.worker]
        if any(o["busy"] or (o["idle_since"] and now - o["idle_since"] < SETTLE) for o in others):
            self._answer = True
        else:
            # Every live worker has been idle a while, nothing is queued or leased: the run is over, unless a
            # dead worker lost what it had read and not written.
            dead = sum(1 for worker, (_, alive) in workers.items() if not alive)
            self._answer = self._reconcile(dead)
        return self._answer

    def _reconcile(self, dead: int) -> bool:
        """Once per run, when every live worker is idle and no lease is left: queue again the article pages no
        store row shows, and the back-catalogue ids nobody answered.

        Only a dead worker loses work, and every request it held came back when its lease expired; what it can
        still have lost is what it had read and not yet written (its unwritten batch), and ids it took from a
        walk and died before queueing. Returns whether anything was queued.
        """
        if not dead or not self.server.set(self.keys["reconciled"], self.worker, nx=True, ex=self.keep_seconds):
            return False
        store = store_for(self.spider.crawler)
        lost_ids = [(slug, i) for slug, walk in self.id_walks.items() for i in walk.unanswered()]
        urls = [_text(u) for u in self.server.smembers(self.keys["articles"])]
        by_key = {str(key): url for url in urls if (key := article_key(url))}
        settled = set(store.known_keys(by_key)) | store.gone_keys(by_key) | {f"{s}/{i}" for s, i in lost_ids}
        missing = [url for key, url in by_key.items() if key not in settled]
        if not missing and not lost_ids:
            return False
        logger.warning("Distributed crawl %s: %d dead worker(s); %d scheduled article pages not stored and %d "
                       "back-catalogue ids not answered: fetching them again", self.prefix, dead, len(missing),
                       len(lost_ids))
        self.stats.inc_value("newscrawl/distributed/requeued", len(missing) + len(lost_ids))
        for url in missing:
            self.queue.push(self.spider.article_request(article_key(url)).replace(dont_filter=True))
        for slug, maghress_id in lost_ids:
            self.queue.push(self.spider.article_request(ArticleKey(slug, maghress_id), backfill=(slug, maghress_id))
                            .replace(dont_filter=True))
        return True

    def close(self, reason):
        if self._heartbeat.running:
            self._heartbeat.stop()
        self.server.hdel(self.keys["workers"], self.worker)
        self.server.delete(f"{self.run_prefix}:worker:{self.worker}")
        others = [r for w, (r, alive) in self._workers().items() if alive and w != self.worker]
        if reason == "finished" and not len(self.queue) and not others and not self.server.zcard(
                self.keys["lease-expiry"]):
            # The run is complete: nothing of it must outlive it.
            keys = list(self.server.scan_iter(match=f"{self.run_prefix}:*", count=500))
            self.server.delete(*keys, f"{self.prefix}:state", f"{self.prefix}:last-run")  # nothing left to resume
            logger.info("Distributed crawl %s complete: its Redis keys are deleted", self.prefix)
        return super().close(reason)


class RedisCoordinator:
    """The spider's coordinator in a distributed crawl (``newscrawl.crawl.coordination``): a publisher page is
    fetched by the first worker of the run to claim it; back-catalogue walks are the run's, in Redis."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.window = crawler.settings.getint("NEWSCRAWL_BACKFILL_WINDOW", 64)

    @classmethod
    def from_crawler(cls, crawler) -> RedisCoordinator:
        return cls(crawler)

    @property
    def scheduler(self) -> SharedScheduler:
        scheduler = _shared_scheduler(self.crawler)
        if scheduler is None:
            raise RuntimeError("RedisCoordinator needs the shared scheduler (NEWSCRAWL_REDIS_URL)")
        return scheduler

    def claim_publisher(self, key: str) -> bool:
        return self.scheduler.claim("publishers", key)

    def id_walk(self, slug: str, ranges: list[tuple[int, int]], max_misses: int) -> SharedIdWalk:
        return self.scheduler.id_walk(slug, ranges, max_misses, self.window)


def _shared_scheduler(crawler) -> SharedScheduler | None:
    scheduler = crawler.engine.scheduler if crawler.engine is not None else None
    return scheduler if isinstance(scheduler, SharedScheduler) else None


class LeaseGuard:
    """Downloader middleware (installed with the shared scheduler, below the retry middleware): a request whose
    lease this worker lost is dropped before it is fetched, and its response before it is read (``LeaseLost``);
    a download that failed for good gives its lease up (its errback runs outside the spider middlewares)."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _check(self, request) -> None:
        scheduler = _shared_scheduler(self.crawler)
        if scheduler is not None and not scheduler.holds(request):
            logger.info("Lease of %s taken over by another worker: dropped here", request.url)
            raise LeaseLost(f"lease taken over: {request.url}")

    def process_request(self, request, spider=None):
        self._check(request)

    def process_response(self, request, response, spider=None):
        self._check(request)
        return response

    def process_exception(self, request, exception, spider=None):
        # (Below RetryMiddleware: a download retried never gets here; one given up does.)
        if (scheduler := _shared_scheduler(self.crawler)) is not None and not isinstance(exception, LeaseLost):
            scheduler.release(request)


class LeaseRelease:
    """Spider middleware (installed with the shared scheduler): a page's lease is given up once its callback's
    (or, after an HTTP error, its errback's) output has been consumed, or it raised."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _release(self, request) -> None:
        if (scheduler := _shared_scheduler(self.crawler)) is not None:
            scheduler.release(request)

    async def process_spider_output(self, response, result, spider=None):
        try:
            async for value in result:
                yield value
        finally:
            self._release(response.request)

    def process_spider_exception(self, response, exception, spider=None):
        self._release(response.request)


def describe(server) -> list[dict]:
    """The distributed crawls in Redis: per crawl, its run, queue length, leases, and workers (alive or not)
    with the leases each holds. For ``newscrawl status``."""
    crawls = []
    for state_key in sorted(_text(k) for k in server.scan_iter(match="newscrawl:*:state", count=500)):
        prefix = state_key[: -len(":state")]
        run = _text(server.get(state_key) or b"")
        if not run:
            continue
        run_prefix = f"{prefix}:{run}"
        held: dict[str, int] = {}
        for worker in server.hvals(f"{run_prefix}:leased"):
            held[_text(worker)] = held.get(_text(worker), 0) + 1
        workers = []
        for worker, raw in sorted(server.hgetall(f"{run_prefix}:workers").items()):
            worker, record = _text(worker), json.loads(raw)
            workers.append({"worker": worker, "alive": bool(server.exists(f"{run_prefix}:worker:{worker}")),
                            "busy": record.get("busy"), "last_beat": record.get("ts"), "leases": held.get(worker, 0)})
        crawls.append({"crawl": prefix, "run": run, "queued": server.zcard(f"{run_prefix}:requests"),
                       "leases": server.zcard(f"{run_prefix}:lease-expiry"), "workers": workers})
    return crawls
