"""`scrapy crawl`, with an exit status a scheduler can act on.

Scrapy's own command exits 0 whenever the spider ran, even when the crawl
raised the layout-change alarm (``newscrawl.extensions.LayoutAlarm``). This
one exits 3 when the crawl's finish reason is that alarm, so cron, systemd
and scrapyd users see a failed run instead of silently empty columns.
"""

from __future__ import annotations

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

ALARM_EXIT_CODE = 3


class Command(ScrapyCrawlCommand):
    def _create_crawler(self, spidercls):
        crawler = super()._create_crawler(spidercls)
        self._crawler = crawler
        return crawler

    def run(self, args, opts) -> None:
        super().run(args, opts)
        crawler = getattr(self, "_crawler", None)
        stats = crawler.stats.get_stats() if crawler is not None and crawler.stats is not None else {}
        if self.exitcode == 0 and str(stats.get("finish_reason", "")).startswith("alarm"):
            self.exitcode = ALARM_EXIT_CODE
