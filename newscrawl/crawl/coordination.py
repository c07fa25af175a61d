"""What the spider and the shared scheduler of a distributed crawl say to each other, without importing it.

A distributed crawl (``newscrawl.crawl.distributed``) leases each request it takes from the shared queue;
``LEASE`` is the request.meta key of that lease. A worker that lost a lease to another worker drops the work
with ``LeaseLost``, which the spider's errbacks pass over: the other worker does the page, and records its
outcome. (A module of its own: the spider imports this, not scrapy-redis.)
"""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest

#: request.meta key of a request's lease token (set by the shared scheduler's queue).
LEASE = "newscrawl_lease"


class LeaseLost(IgnoreRequest):
    """This worker's lease on a request expired and another worker took the request over: the work is dropped
    here. Errbacks ignore it: the page is not failed, another worker has it."""
