"""Scrapy add-ons of the project that switch whole components on or off.

Kept apart from what they enable, so that a crawl that does not use them
imports none of it (scrapy-redis and redis here).
"""

from __future__ import annotations

import os


class DistributedAddon:
    """Switches the crawl to the shared scheduler when ``NEWSCRAWL_REDIS_URL`` is set."""

    def update_settings(self, settings) -> None:
        url = settings.get("NEWSCRAWL_REDIS_URL") or os.environ.get("NEWSCRAWL_REDIS_URL")
        if not url:
            return
        crawl = settings.get("NEWSCRAWL_CRAWL_ID") or os.environ.get("NEWSCRAWL_CRAWL_ID") or "default"
        settings.set("REDIS_URL", url, priority="addon")
        settings.set("SCHEDULER", "newscrawl.crawl.distributed.SharedScheduler", priority="addon")
        # Over our project default (ResumableDupeFilter): the shared seen-set replaces the JOBDIR one.
        settings.set("DUPEFILTER_CLASS", "newscrawl.crawl.distributed.SharedDupeFilter", priority="project")
        settings.set("SCHEDULER_PERSIST", True, priority="addon")  # never flushed by a worker that finishes
        # JSON, not scrapy-redis's pickle: a Redis entry must never be code the workers run.
        settings.set("SCHEDULER_SERIALIZER", "newscrawl.crawl.redisqueue", priority="addon")
        settings.set("SCHEDULER_QUEUE_KEY", f"newscrawl:%(spider)s:{crawl}:requests", priority="addon")
        settings.set("SCHEDULER_DUPEFILTER_KEY", f"newscrawl:%(spider)s:{crawl}:seen", priority="addon")
