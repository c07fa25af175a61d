"""Scrapy add-ons of the project that switch whole components on or off.

Kept apart from what they enable, so that a crawl that does not use them
imports none of it (scrapy-redis and redis here).
"""

from __future__ import annotations

import os

from scrapy.settings import SETTINGS_PRIORITIES


class DistributedAddon:
    """Switches the crawl to the shared scheduler when ``NEWSCRAWL_REDIS_URL`` is set."""

    def update_settings(self, settings) -> None:
        url = settings.get("NEWSCRAWL_REDIS_URL") or os.environ.get("NEWSCRAWL_REDIS_URL")
        if not url:
            return
        settings.set("REDIS_URL", url, priority="addon")
        settings.set("SCHEDULER", "newscrawl.crawl.distributed.SharedScheduler", priority="addon")
        # Over our project default (ResumableDupeFilter): the shared seen-set replaces the JOBDIR one.
        settings.set("DUPEFILTER_CLASS", "newscrawl.crawl.distributed.SharedDupeFilter", priority="project")
        # The spider asks it before fetching a publisher page or walking ids: one fetch across all workers.
        # (Priority "project": over settings.py's default, the local coordinator.)
        settings.set("NEWSCRAWL_COORDINATOR", "newscrawl.crawl.distributed.RedisCoordinator", priority="project")
        settings.set("SCHEDULER_PERSIST", True, priority="addon")  # never flushed by a worker that finishes
        # JSON, not scrapy-redis's pickle: a Redis entry must never be code the workers run.
        settings.set("SCHEDULER_SERIALIZER", "newscrawl.crawl.redisqueue", priority="addon")
        # Leases (distributed.py): a request whose lease another worker took over is dropped; a page's lease
        # is given up once its callback's output is consumed, or its download failed for good (below the retry
        # middleware, 550, so that a download it retries is not given up). Keys: named per run by the scheduler.
        settings.set_in_component_priority_dict("DOWNLOADER_MIDDLEWARES", "newscrawl.crawl.distributed.LeaseGuard", 540)
        settings.set_in_component_priority_dict("SPIDER_MIDDLEWARES", "newscrawl.crawl.distributed.LeaseRelease", 940)
        # A worker leases only what it can fetch now: Scrapy's engine takes requests until CONCURRENT_REQUESTS are
        # in its downloader, most of them waiting behind the per-host limit, leased and held from the other
        # workers. (More workers, not a deeper local queue, is how a distributed crawl goes faster.)
        per_host = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        if settings.getpriority("CONCURRENT_REQUESTS") <= SETTINGS_PRIORITIES["project"] and per_host > 0:
            settings.set("CONCURRENT_REQUESTS", per_host, priority="project")
