"""Crawl extensions: the crawl's stats as a JSON file, for schedulers, dashboards and tests."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)


class StatsFile:
    """Write the final crawl stats to ``NEWSCRAWL_STATS_FILE`` (JSON) when the spider closes."""

    def __init__(self, crawler, path: str):
        self.crawler = crawler
        self.path = Path(path)

    @classmethod
    def from_crawler(cls, crawler):
        path = crawler.settings.get("NEWSCRAWL_STATS_FILE")
        if not path:
            raise NotConfigured
        extension = cls(crawler, path)
        # spider_closed comes after the stats' own finish_reason and feed export counts.
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self, spider, reason):
        stats = dict(self.crawler.stats.get_stats())
        stats["finish_reason"] = reason
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(stats, default=str, indent=1, sort_keys=True), encoding="utf-8")


class JobdirGuard:
    """Makes a JOBDIR left by a killed crawl safe to resume.

    Scrapy's on-disk request queue is not written to survive SIGKILL: a crawl
    killed mid-write leaves a queue that breaks the next run. While a crawl
    runs, a marker file sits in its JOBDIR; if a new run finds it, the last
    run did not close, so its queue is set aside (not deleted) and the crawl
    rediscovers what is left from the listing pages instead (see
    ``newscrawl.dupefilter``). A cleanly paused crawl (Ctrl-C once) keeps its
    queue and resumes from it, as Scrapy documents.
    """

    MARKER = "newscrawl.running"

    def __init__(self, crawler, jobdir: Path):
        self.crawler = crawler
        self.marker = jobdir / self.MARKER
        queue = jobdir / "requests.queue"
        if self.marker.exists() and queue.exists():
            aside = jobdir / f"requests.queue.unclean-{int(self.marker.stat().st_mtime)}"
            queue.rename(aside)
            logger.warning("The last crawl in %s did not close (killed?): its request queue is set aside as %s; "
                           "the crawl finds what is left from the listing pages", jobdir, aside.name)
        jobdir.mkdir(parents=True, exist_ok=True)
        self.marker.write_text("running\n")

    @classmethod
    def from_crawler(cls, crawler):
        from scrapy.utils.job import job_dir

        jobdir = job_dir(crawler.settings)
        if not jobdir:
            raise NotConfigured
        extension = cls(crawler, Path(jobdir))
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self, spider, reason):
        self.marker.unlink(missing_ok=True)
