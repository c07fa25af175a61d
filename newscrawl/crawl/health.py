"""The crawl's health: what went wrong, as each component reports it, and the exit status it leads to.

Scrapy's ``scrapy crawl`` exits 0 whenever the spider ran. A crawl run by cron, systemd or scrapyd must say
when it failed, so components report their problems here (``CrawlHealth.report``) and our crawl command
(``newscrawl.commands.crawl``) exits with ``CrawlHealth.exit_code()``. At close, the verdict goes to the
stats too (``newscrawl/health/exit_code``, ``newscrawl/health/problems``: the stats file has it).

``ExitCode`` is the one list of exit statuses of newscrawl's commands; docs/operations.md repeats it.
"""

from __future__ import annotations

import logging
from enum import IntEnum

logger = logging.getLogger(__name__)


class ExitCode(IntEnum):
    """Exit statuses of ``scrapy crawl`` and of the ``newscrawl`` tools."""

    OK = 0
    #: Scrapy's own: a bad spider argument or setting; the crawl never began. (``newscrawl schedule --once``:
    #: a job could not be submitted.)
    BAD_ARGUMENT = 1
    #: A ``newscrawl`` tool refused its input (no database file, a damaged scheduler state, a bad plan).
    REFUSED = 2
    #: The layout-change alarm went off (``LayoutAlarm``): silently empty columns make a failed run.
    ALARM = 3
    #: Articles could not be stored: refused by the database (kept in ``rejected_articles``) or not written
    #: at all (still in the frontier, fetched again next run).
    STORE = 4
    #: A source, or the whole site, could not be reached (``ReachabilityCheck``).
    UNREACHABLE = 5
    #: The crawl could not start (Scrapy's finish reason ``start_error``): its database could not be opened,
    #: or the spider's start failed otherwise.
    START_ERROR = 6


#: When several problems were reported, the status is the first of these that was.
PRECEDENCE = (ExitCode.START_ERROR, ExitCode.UNREACHABLE, ExitCode.ALARM, ExitCode.STORE)


class CrawlHealth:
    """Extension: the problems of this crawl, by exit status; the crawl command reads ``exit_code()``.

    Ordered after the extensions that judge the crawl at close (alarm, reachability) and before
    ``StatsFile``: the stats file carries the verdict.
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.problems: dict[ExitCode, list[str]] = {}
        self.finish_reason: str | None = None

    @classmethod
    def from_crawler(cls, crawler) -> CrawlHealth:
        from scrapy import signals  # (here: the newscrawl tools read ExitCode without importing Scrapy)

        health = cls(crawler)
        crawler.signals.connect(health.spider_closed, signal=signals.spider_closed)
        return health

    @classmethod
    def of(cls, crawler) -> CrawlHealth | None:
        """The crawl's ``CrawlHealth`` (``None`` when the extension is switched off)."""
        return crawler.get_extension(cls)

    def report(self, code: ExitCode, message: str) -> None:
        """A problem that makes the crawl exit with ``code`` (each message is said once)."""
        messages = self.problems.setdefault(code, [])
        if message not in messages:
            messages.append(message)

    def exit_code(self, finish_reason: str | None = None) -> ExitCode:
        """The crawl's exit status: ``START_ERROR`` when it could not start (``finish_reason``, else the one
        it closed with), else the first reported problem in ``PRECEDENCE``, else ``OK``."""
        if (finish_reason or self.finish_reason) == "start_error":
            return ExitCode.START_ERROR
        return next((code for code in PRECEDENCE if self.problems.get(code)), ExitCode.OK)

    def spider_closed(self, spider, reason) -> None:
        self.finish_reason = reason
        code = self.exit_code()
        stats = self.crawler.stats
        stats.set_value("newscrawl/health/exit_code", int(code))
        if self.problems:
            stats.set_value("newscrawl/health/problems",
                            {code.name.lower(): messages for code, messages in sorted(self.problems.items())})
