"""`scrapy crawl`, with an exit status a scheduler can act on.

Scrapy's own command exits 0 whenever the spider ran. This one exits with the crawl's health
(``newscrawl.crawl.health``: ``ExitCode`` lists the statuses, ``CrawlHealth`` collects what the components
reported): 3 for the layout-change alarm, 4 for articles that could not be stored, 5 for a source (or the
whole site) that could not be reached, 6 for a crawl that could not start. (1, Scrapy's own, is a bad
argument or setting: the crawl never began.)

cron, systemd and scrapyd users then see a failed run, not a quiet one.
"""

from __future__ import annotations

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from newscrawl.crawl.health import CrawlHealth, ExitCode


class Command(ScrapyCrawlCommand):
    # Private in Scrapy (checked on 2.19.0, bounded in pyproject.toml, tests/test_versions.py): the one place
    # the command's crawler can be kept, to read its health once the crawl is over (the process forgets it).
    def _create_crawler(self, spidercls):
        crawler = super()._create_crawler(spidercls)
        self._crawler = crawler
        return crawler

    def run(self, args, opts) -> None:
        super().run(args, opts)
        if self.exitcode != 0:
            return  # (a crawler that failed to start has no health to read)
        crawler = getattr(self, "_crawler", None)
        health = CrawlHealth.of(crawler) if crawler is not None and crawler.extensions is not None else None
        if health is None:
            reason = crawler.stats.get_value("finish_reason") if crawler is not None and crawler.stats else None
            self.exitcode = int(ExitCode.START_ERROR if reason == "start_error" else ExitCode.OK)
            return
        self.exitcode = int(health.exit_code(crawler.stats.get_value("finish_reason")))
