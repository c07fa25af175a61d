"""`scrapy crawl`, with an exit status a scheduler can act on.

Scrapy's own command exits 0 whenever the spider ran. This one exits

- 3 when the crawl's finish reason is the layout-change alarm
  (``newscrawl.crawl.extensions.LayoutAlarm``): silently empty columns become a failed run;
- 4 when some articles could not be stored: the database refused them (kept
  in its ``rejected_articles`` table) or could not be written at all (their
  articles stay in the frontier and are fetched again next run);
- 5 when a source, or the whole site, could not be reached: every listing page
  of a source failed, or no request got an answer and nothing was stored
  (``newscrawl.crawl.extensions.ReachabilityCheck``);
- 6 when the crawl could not start at all (Scrapy's finish reason ``start_error``):
  its database could not be opened (a server that does not answer, a URL file
  that is missing), or the spider's start failed otherwise.
(1, Scrapy's own, is a bad argument or setting: the crawl never began.)

cron, systemd and scrapyd users then see a failed run, not a quiet one.
"""

from __future__ import annotations

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from newscrawl import statkeys

ALARM_EXIT_CODE = 3
STORE_EXIT_CODE = statkeys.STORE_EXIT_CODE
UNREACHABLE_EXIT_CODE = statkeys.UNREACHABLE_EXIT_CODE
START_ERROR_EXIT_CODE = statkeys.START_ERROR_EXIT_CODE


class Command(ScrapyCrawlCommand):
    # Private in Scrapy (checked on 2.19.0, bounded in pyproject.toml, tests/test_versions.py): the one place
    # the command's crawler can be kept, to read its stats once the crawl is over (the process forgets it).
    def _create_crawler(self, spidercls):
        crawler = super()._create_crawler(spidercls)
        self._crawler = crawler
        return crawler

    def run(self, args, opts) -> None:
        super().run(args, opts)
        if self.exitcode != 0:
            return  # (a crawler that failed to start has no stats to read)
        crawler = getattr(self, "_crawler", None)
        stats = crawler.stats.get_stats() if crawler is not None and crawler.stats is not None else {}
        if stats.get("finish_reason") == "start_error":
            self.exitcode = START_ERROR_EXIT_CODE
        elif stats.get(statkeys.UNREACHABLE):
            self.exitcode = UNREACHABLE_EXIT_CODE
        elif str(stats.get("finish_reason", "")).startswith("alarm"):
            self.exitcode = ALARM_EXIT_CODE
        elif stats.get(statkeys.STORE_REJECTED) or stats.get(statkeys.STORE_LOST):
            self.exitcode = STORE_EXIT_CODE
