"""What the spider asks of the process, or processes, it crawls with: the coordinator.

The spider asks its coordinator two things: "may I fetch this publisher page?" (once per crawl, whichever
worker) and "the walk over these back-catalogue ids" (ids handed out once, misses counted in id order).
``LocalCoordinator`` answers for one process; the distributed add-on sets ``NEWSCRAWL_COORDINATOR`` to
``newscrawl.crawl.distributed.RedisCoordinator``, which answers for all the workers of a crawl through Redis.

A distributed crawl (``newscrawl.crawl.distributed``) leases each request it takes from the shared queue;
``LEASE`` is the request.meta key of that lease. A worker that lost a lease to another worker drops the work
with ``LeaseLost``, which the spider's errbacks pass over: the other worker does the page, and records its
outcome. (A module of its own: the spider imports this, not scrapy-redis.)
"""

from __future__ import annotations

from typing import Protocol

from scrapy.exceptions import IgnoreRequest

from newscrawl.crawl.idranges import IdWalk

#: request.meta key of a request's lease token (set by the shared scheduler's queue).
LEASE = "newscrawl_lease"


class LeaseLost(IgnoreRequest):
    """This worker's lease on a request expired and another worker took the request over: the work is dropped
    here. Errbacks ignore it: the page is not failed, another worker has it."""


class Coordinator(Protocol):
    """What the spider asks about work that other processes of the crawl may share."""

    def claim_publisher(self, key: str) -> bool:
        """True when this process is to fetch the publisher page ``key`` (``canonical_key`` of its URL)."""

    def id_walk(self, slug: str, ranges: list[tuple[int, int]], max_misses: int) -> IdWalk:
        """The crawl's walk over back-catalogue ``ranges`` of source ``slug`` (an ``IdWalk``, or one that
        behaves as one)."""


class LocalCoordinator:
    """One process crawls alone: every publisher page is its to fetch, every id walk its own."""

    #: Back-catalogue ids out at once (handed out, answer not yet heard) in one process.
    ID_WINDOW = 16

    @classmethod
    def from_crawler(cls, crawler) -> LocalCoordinator:
        return cls()

    def claim_publisher(self, key: str) -> bool:
        return True

    def id_walk(self, slug: str, ranges: list[tuple[int, int]], max_misses: int) -> IdWalk:
        return IdWalk(ranges, max_misses, self.ID_WINDOW)
