"""Distributed crawls: many ``scrapy crawl lopinion`` processes sharing one Redis (scrapy-redis).

``NEWSCRAWL_REDIS_URL=redis://host:port/db`` turns it on (``newscrawl.crawl.addons.DistributedAddon``):
the processes ("workers") share scrapy-redis's request queue and seen-set,
so every page is fetched once across all of them, and they write to one
store (PostgreSQL for several machines). Without the setting nothing changes.

scrapy-redis 0.9.1 works with Scrapy 2.19 and the asyncio reactor for
queueing and de-duplication; its *lifecycle* does not fit a crawl of many
plain spiders, so ``SharedScheduler`` and ``SharedDupeFilter`` adapt it:

- With ``SCHEDULER_PERSIST=False`` (its default) the first worker to finish
  flushes the queue and seen-set that the others still use. We always
  persist, and clear keys on purpose instead: the first worker of a crawl
  nobody is running starts it clean (atomically, so workers started together
  agree), and the last worker to finish deletes the crawl's keys.
- A plain spider closes as soon as the shared queue is momentarily empty,
  even while other workers are about to add to it (``SCHEDULER_IDLE_BEFORE_CLOSE``
  is ignored by its default priority queue). Workers publish a heartbeat
  with whether they are busy; a worker stays open while any live worker is.
- A worker that dies loses the requests it had taken from the queue (they
  are already in the seen-set). The crawl records which listing and article
  pages were scheduled; when every live worker is idle and one of them died
  (its heartbeat stopped without a goodbye), one worker asks the store which
  articles are missing and queues them again, with the listing pages, once.
- Its dupefilter ignores ``REQUEST_FINGERPRINTER_CLASS``; ours uses the
  crawler's fingerprinter, like Scrapy's own.
- An idle worker asks the scheduler for work only on the engine's heartbeat,
  every 5 s: it would sit out most of a fast crawl that the others feed. We
  shorten that worker's heartbeat to ``POLL_SECONDS`` (the engine's
  ``_SLOT_HEARTBEAT_INTERVAL``, set on this engine only).
- ``RedisSpider`` only defines ``start_requests()``, which Scrapy 2.19 never
  calls: we keep our own spider (``async def start()``) and share only the
  scheduler; each worker requests the start URL (the seen-set drops it after
  the first).

Keys are ``newscrawl:<spider>:<crawl id>:…`` (``NEWSCRAWL_CRAWL_ID``, default
``default``). A crawl whose workers all died is resumed by the next worker
only with ``NEWSCRAWL_REDIS_RESUME=true``; otherwise, once its heartbeat has
expired, the next worker starts it afresh.

(One module: everything that adapts scrapy-redis, and the crawl state the
workers share through Redis.)
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid

from scrapy.http import Request

from newscrawl import statkeys
from newscrawl.crawl.dupefilter import PAGE_KIND
from newscrawl.crawl.idranges import IdWalk
from newscrawl.store.keys import ArticleKey, article_key
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler

logger = logging.getLogger(__name__)

HEARTBEAT_TTL = 15.0  # seconds without a heartbeat before a busy worker counts as dead
# An idle worker beats every CHECK_EVERY seconds: an idle one silent this long is dead (killed while idle), and
# the others must know before they settle (SETTLE), or what it had just taken would be lost.
QUIET = 2.5
CHECK_EVERY = 1.0  # seconds between looks at the other workers
SETTLE = 3.0  # seconds every worker must have been idle before the crawl counts as done
POLL_SECONDS = 0.5  # how often an idle worker looks at the shared queue

# Claim a crawl: the first worker of a crawl that nobody is running starts it clean.
_CLAIM = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  if ARGV[3] ~= '1' then redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]) end
  return 1
end
return 0
"""


class SharedIdWalk:
    """A back-catalogue walk (``idranges.IdWalk``) shared by every worker of a crawl, its state in Redis.

    Each call loads the walk, applies one step and saves it in one Redis
    transaction, so workers claim distinct ids (every id handed out once, across
    restarts of any worker) and misses are counted in id order across all of
    them: the ``max_misses`` rule holds as in one process. Ids handed out and
    not answered when every live worker is idle were lost with a dead worker:
    the reconcile asks for them again (``unanswered``).
    """

    def __init__(self, server, key: str, ranges: list[tuple[int, int]], max_misses: int, window: int):
        self.server, self.key = server, key
        self.server.set(key, json.dumps(IdWalk(ranges, max_misses, window).to_dict()), nx=True)

    def _step(self, step):
        """Apply ``step`` to the walk atomically: optimistic (WATCH … MULTI), retried at once when another worker
        changed it meanwhile. (A lock would make a worker sleep in the reactor while another holds it.)"""
        result = []

        def transaction(pipe):
            walk = IdWalk.from_dict(json.loads(pipe.get(self.key)))
            result[:] = [step(walk)]
            pipe.multi()
            pipe.set(self.key, json.dumps(walk.to_dict()))

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


class SharedScheduler(Scheduler):
    """scrapy-redis's scheduler with a crawl lifecycle that fits several workers (see module doc)."""

    def open(self, spider):
        super().open(spider)
        settings = spider.crawler.settings
        _poll_every(spider.crawler.engine, POLL_SECONDS)
        self.prefix = self.queue_key.rsplit(":", 1)[0] % {"spider": spider.name}
        self.keys = {name: f"{self.prefix}:{name}"
                     for name in ("state", "requests", "seen", "articles", "listings", "workers", "reconciled",
                                  "publishers")}
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        resume = settings.getbool("NEWSCRAWL_REDIS_RESUME")
        k = self.keys
        started = self.server.eval(_CLAIM, 8, k["state"], k["requests"], k["seen"], k["articles"], k["workers"],
                                   k["reconciled"], k["listings"], k["publishers"], self.worker, int(HEARTBEAT_TTL),
                                   "1" if resume else "0")
        if started and not resume and (walks := self.server.keys(f"{self.prefix}:ids:*")):
            self.server.delete(*walks)  # the back-catalogue walks of an earlier crawl
        # The spider asks before fetching a publisher page: one fetch of it across all workers; and walks
        # the back-catalogue with the others.
        spider.claim_shared = self.claim
        spider.shared_id_walk = self.id_walk
        how = "started" if started else "joined"
        if started and resume and len(self.queue):
            how = "resumed"
        logger.info("Distributed crawl %s: %s it as worker %s (%d requests queued)", self.prefix, how, self.worker,
                    len(self.queue))
        self.stats.set_value("newscrawl/distributed/role", how, spider=spider)
        self._idle_since: float | None = None
        self._last_beat = 0.0
        self._last_check = 0.0
        self._answer = True
        self._beat(busy=True)

    def id_walk(self, slug: str, ranges: list[tuple[int, int]], max_misses: int, window: int) -> SharedIdWalk:
        """The crawl's walk over ``ranges`` of source ``slug``, made by the first worker, joined by the others."""
        return SharedIdWalk(self.server, f"{self.prefix}:ids:{slug}", ranges, max_misses, window)

    def claim(self, kind: str, member: str) -> bool:
        """True for the first worker of the crawl to claim ``member`` of ``kind`` (e.g. a publisher page)."""
        return bool(self.server.sadd(self.keys[kind], member))

    # -- heartbeats -------------------------------------------------------------------

    def _locally_busy(self) -> bool:
        engine = self.spider.crawler.engine
        if engine is None:
            return False
        slot = engine.scraper.slot
        unwritten = self.stats.get_value(statkeys.STORE_BUFFERED, 0)  # set by StorePipeline
        return bool(engine.downloader.active) or (slot is not None and not slot.is_idle()) or unwritten > 0

    def _maybe_beat(self, force: bool = False) -> None:
        """A heartbeat at most every CHECK_EVERY seconds, busy or not (a busy worker must not look dead)."""
        now = time.time()
        if force or now - self._last_beat >= CHECK_EVERY:
            self._beat(busy=self._locally_busy())

    def _beat(self, busy: bool) -> None:
        now = time.time()
        self._last_beat = now
        if busy:
            self._idle_since = None
        elif self._idle_since is None:
            self._idle_since = now
        record = json.dumps({"ts": now, "busy": busy, "idle_since": self._idle_since})
        pipe = self.server.pipeline()
        pipe.hset(self.keys["workers"], self.worker, record)
        pipe.expire(self.keys["state"], int(HEARTBEAT_TTL))
        pipe.execute()

    @staticmethod
    def _alive(record: dict, now: float) -> bool:
        return now - record["ts"] < (HEARTBEAT_TTL if record["busy"] else QUIET)

    def _dead_workers(self) -> int:
        """Workers that stopped beating without saying goodbye (killed)."""
        now = time.time()
        return sum(1 for raw in self.server.hvals(self.keys["workers"]) if not self._alive(json.loads(raw), now))

    def _others(self) -> list[dict]:
        now = time.time()
        live = []
        for worker, raw in self.server.hgetall(self.keys["workers"]).items():
            worker = worker.decode() if isinstance(worker, bytes) else worker
            record = json.loads(raw)
            if worker != self.worker and self._alive(record, now):
                live.append(record)
        return live

    # -- the scheduler interface --------------------------------------------------------

    def enqueue_request(self, request: Request) -> bool:
        added = super().enqueue_request(request)
        callback = getattr(request.callback, "__name__", "")
        if added and callback == "parse_article":
            self.server.sadd(self.keys["articles"], request.url)
        elif added and callback == "parse_listing":
            self.server.sadd(self.keys["listings"], json.dumps([request.url, request.cb_kwargs.get("page", 1)]))
        return added

    def next_request(self):
        request = super().next_request()
        if request is not None and self._idle_since is not None:
            self._beat(busy=True)  # say so at once: the others must not settle while this worker works
        return request

    def has_pending_requests(self) -> bool:
        """True while this worker or any live worker may still add work, so no worker quits early."""
        self._maybe_beat()
        if len(self.queue) > 0:
            return True
        now = time.time()
        if now - self._last_check < CHECK_EVERY:
            return self._answer
        self._last_check = now
        self._beat(busy=self._locally_busy())
        others = self._others()
        if any(o["busy"] or (o["idle_since"] and now - o["idle_since"] < SETTLE) for o in others):
            self._answer = True
        elif self._idle_since is not None and now - self._idle_since < SETTLE:
            self._answer = True
        else:
            self._answer = self._reconcile()
        return self._answer

    def _reconcile(self) -> bool:
        """Once per crawl, when all workers are idle: queue again the article pages no store row shows.

        Those are the pages a dead worker had taken from the queue (or whose
        articles it had not yet written). Returns whether anything was queued.
        """
        # Only a dead worker loses work: when every worker closed or is alive, what has no row yet is
        # either still being written or was dropped on purpose (invalid, duplicate), not lost.
        dead = self._dead_workers()
        if not dead or not self.server.set(self.keys["reconciled"], self.worker, nx=True):
            return False
        from newscrawl.store import store_for

        store = store_for(self.spider.crawler)
        # Back-catalogue ids handed out and never answered: every live worker is idle, so they died with it.
        lost_ids = [(slug, i) for slug, walk in getattr(self.spider, "id_walks", {}).items()
                    for i in getattr(walk, "unanswered", lambda: [])()]
        urls = [u.decode() if isinstance(u, bytes) else u for u in self.server.smembers(self.keys["articles"])]
        by_key = {str(key): url for url in urls if (key := article_key(url))}
        settled = set(store.known_keys(by_key)) | store.gone_keys(by_key) | {f"{s}/{i}" for s, i in lost_ids}
        missing = [url for key, url in by_key.items() if key not in settled]
        listings = []
        if dead:
            # A dead worker may have held a listing page: the pages after it were never discovered.
            # Walk the listing again from every page it had reached (stored articles are skipped).
            listings = [json.loads(raw) for raw in self.server.smembers(self.keys["listings"])]
        if not missing and not listings and not lost_ids:
            return False
        logger.warning("Distributed crawl %s: %d dead worker(s), %d scheduled article pages not stored and %d "
                       "back-catalogue ids not answered; fetching them and %d listing pages again", self.prefix, dead,
                       len(missing), len(lost_ids), len(listings))
        self.stats.inc_value("newscrawl/distributed/requeued", len(missing) + len(listings) + len(lost_ids),
                             spider=self.spider)
        # Publisher pages the dead worker claimed and never fetched may be claimed again.
        self.server.delete(self.keys["publishers"])
        for url in missing:
            self.queue.push(self.spider.article_request(article_key(url)).replace(dont_filter=True))
        for url, page in listings:
            self.queue.push(Request(url, callback=self.spider.parse_listing, cb_kwargs={"page": page},
                                    dont_filter=True, meta={PAGE_KIND: "listing"}))
        for slug, maghress_id in lost_ids:
            self.queue.push(self.spider.article_request(ArticleKey(slug, maghress_id), backfill=(slug, maghress_id))
                            .replace(dont_filter=True))
        return True

    def close(self, reason):
        self.server.hdel(self.keys["workers"], self.worker)
        if reason == "finished" and not len(self.queue) and not any(o["busy"] for o in self._others()):
            # The crawl is complete: nothing of it must outlive it.
            self.server.delete(*self.keys.values(), *self.server.keys(f"{self.prefix}:ids:*"))
            logger.info("Distributed crawl %s complete: its Redis keys are deleted", self.prefix)
        return super().close(reason)
