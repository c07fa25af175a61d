"""Crawl extensions: the crawl's stats as a JSON file, for schedulers, dashboards and tests."""

from __future__ import annotations

import gc
import json
import logging
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured

from newscrawl import statkeys
from newscrawl.crawl.health import CrawlHealth, ExitCode

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
        stats.setdefault("finish_reason", reason)  # the alarm may have set its own
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(stats, default=str, indent=1, sort_keys=True), encoding="utf-8")


class JobdirGuard:
    """Makes a JOBDIR left by a killed crawl safe to resume.

    Scrapy's on-disk request queue is not written to survive SIGKILL: a crawl
    killed mid-write leaves a queue that breaks the next run. While a crawl
    runs, a marker file sits in its JOBDIR; if a new run finds it, the last
    run did not close, so its queue is set aside (not deleted) and the crawl
    rediscovers what is left from the listing pages instead (see
    ``newscrawl.crawl.dupefilter``). A cleanly paused crawl (Ctrl-C once) keeps its
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


#: Fields whose coverage the alarm watches; the rest of the item is informational.
WATCHED_FIELDS = ("title", "published_date", "body", "source_url", "authors")


class LayoutAlarm:
    """The layout-change alarm: at close, field coverage of this crawl's articles, and an error when it drops.

    A site that changes its markup does not make a crawl fail: it makes
    columns empty. This extension counts, for the articles the crawl stored,
    how many have each watched field, and raises the alarm when

    - article pages answered 200 but not one article came out of them, or a
      listing page answered 200 without a single article link; or
    - a field's coverage is under its threshold (``NEWSCRAWL_ALARM_MIN_COVERAGE``)
      on a crawl of at least ``NEWSCRAWL_ALARM_MIN_ARTICLES`` articles; or
    - a publisher parser found a field on too few of its pages
      (``NEWSCRAWL_ALARM_MIN_PUBLISHER_COVERAGE``, parsers with at least as many pages).

    The alarm logs an error naming the field and the selectors that were
    tried, sets the finish reason to ``alarm: <what>``, and our ``scrapy
    crawl`` then exits with ``ExitCode.ALARM`` (3).

    (Spidermon could compute field coverage, but it brings its own monitor
    framework and still no exit status; this is the part we need.)
    """

    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.thresholds = {f: float(v) for f, v in settings.getdict("NEWSCRAWL_ALARM_MIN_COVERAGE").items()}
        self.min_articles = settings.getint("NEWSCRAWL_ALARM_MIN_ARTICLES", 5)
        self.publisher_thresholds = {
            f: float(v) for f, v in settings.getdict("NEWSCRAWL_ALARM_MIN_PUBLISHER_COVERAGE").items()
        }
        self.articles = 0
        self.filled = dict.fromkeys(WATCHED_FIELDS, 0)

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("NEWSCRAWL_ALARM_ENABLED", True):
            raise NotConfigured
        extension = cls(crawler)
        crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def item_scraped(self, item, response, spider):
        self.articles += 1
        for field in WATCHED_FIELDS:
            if item.get(field):
                self.filled[field] += 1

    def spider_closed(self, spider, reason):
        stats = self.crawler.stats
        stats.set_value("newscrawl/coverage/articles", self.articles)
        coverage = {f: (self.filled[f] / self.articles if self.articles else 0.0) for f in WATCHED_FIELDS}
        for field, share in coverage.items():
            stats.set_value(f"newscrawl/coverage/{field}", round(share, 3))
        if reason != "finished":
            return  # a crawl stopped early says nothing about the layout
        problems = []
        # Pages that should have given an article here: article pages (not those left out by `since`), less those
        # that handed their article on to a publisher page, plus the publisher pages whose article was built here
        # (the same in one process; in a distributed crawl another worker may read a page's publisher page).
        article_pages = (stats.get_value(statkeys.ARTICLE_PAGES, 0) - stats.get_value(statkeys.ARTICLE_BEFORE_SINCE, 0)
                         - stats.get_value(statkeys.ARTICLE_HANDED_ON, 0)
                         + stats.get_value(statkeys.ARTICLE_TAKEN_BACK, 0))
        dropped_dupes = sum(stats.get_value(f"{statkeys.DROPPED}/{reason}", 0)
                            for reason in (statkeys.DROP_REPUBLISHED, statkeys.DROP_DUPLICATE_IN_RUN))
        if article_pages and not self.articles and not dropped_dupes:
            problems.append(("nothing", f"{article_pages} article pages answered, no article stored", "title"))
        if stats.get_value(statkeys.LISTING_EMPTY, 0):
            problems.append(("listing", "a listing page answered without any article link", "listing_links"))
        if self.articles >= self.min_articles:
            for field, minimum in self.thresholds.items():
                if field in coverage and coverage[field] < minimum:
                    problems.append((field, f"{field} in {coverage[field]:.0%} of {self.articles} articles (minimum {minimum:.0%})", field))
        messages = [(name, message, selectors_for(field)) for name, message, field in problems]
        for name, message, field, parser in publisher_problems(stats, self.publisher_thresholds, self.min_articles):
            messages.append((name, message, selectors_for(field, (parser,))))
        if not messages:
            return
        health = CrawlHealth.of(self.crawler)
        for _, message, selectors in messages:
            logger.error("Layout-change alarm: %s. Selectors tried: %s", message, selectors)
            if health is not None:
                health.report(ExitCode.ALARM, message)
        stats.set_value("finish_reason", f"alarm: {', '.join(name for name, _, _ in messages)}")
        stats.set_value("newscrawl/alarm", [message for _, message, _ in messages])


def selectors_for(field: str, parsers: tuple[str, ...] | None = None) -> str:
    """The fallback chains of Maghress and the publisher parsers for a field, as the alarm names them."""
    from newscrawl.extract.sites import GENERIC, PUBLISHER_PARSERS, maghress, parser

    sites = [("maghress", maghress.FALLBACKS)] if parsers is None else []
    sites += [(name, parser(name).fallbacks) for name in (parsers if parsers is not None else (*PUBLISHER_PARSERS, GENERIC))]
    chains = [f"{name}: {' → '.join(chain)}" for name, labels in sites if (chain := labels.get(field))]
    return "; ".join(chains) or "(none)"


def publisher_problems(stats, thresholds: dict[str, float], min_pages: int) -> list[tuple[str, str, str, str]]:
    """Parsers that found a field on too few of their pages: ``(name, message, field, parser)``.

    The Maghress copy fills in what a publisher parser misses, so a publisher's
    layout change does not empty a column: it shows here, per parser.
    """
    from newscrawl.extract.sites import GENERIC, PUBLISHER_PARSERS

    problems = []
    for parser in sorted((*PUBLISHER_PARSERS, GENERIC)):
        pages = stats.get_value(statkeys.publisher_pages(parser), 0)
        if pages < min_pages:
            continue
        for field, minimum in thresholds.items():
            share = stats.get_value(statkeys.publisher_found(parser, field), 0) / pages
            if share < minimum:
                item_field = "published_date" if field == "dates" else field
                problems.append((f"{parser}.{field}", f"publisher parser {parser} found {field} on {share:.0%} of "
                                 f"{pages} pages (minimum {minimum:.0%})", item_field, parser))
    return problems


class ReachabilityCheck:
    """At close: a crawl that reached nothing says so, per source, with the cause.

    A source whose every listing page failed (DNS, refused connection,
    HTTP errors after retries), or a run that stored nothing while no request
    got an answer below 400, is logged as one error line per source, listed
    under ``newscrawl/unreachable``, and our ``scrapy crawl`` exits with
    ``ExitCode.UNREACHABLE`` (5): cron and scrapyd see a failed run, not an empty one.
    """

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self, spider, reason):
        stats = self.crawler.stats
        lines = []
        args = getattr(spider, "args", None)
        for source in args.sources if args is not None else ():
            slug = source.slug
            failed = stats.get_value(f"{statkeys.LISTING_FAILED}/{slug}", 0)
            if failed and not stats.get_value(f"{statkeys.LISTING_PAGES}/{slug}", 0):
                cause = stats.get_value(f"{statkeys.LISTING_LAST_ERROR}/{slug}", "?")
                lines.append(f"{slug}: no listing page could be fetched ({failed} tried; last: {cause})")
        answered = sum(n for key, n in stats.get_stats().items()
                       if key.startswith("downloader/response_status_count/") and int(key.rsplit("/", 1)[1]) < 400)
        stored = sum(stats.get_value(f"{statkeys.STORED}/{what}", 0) for what in statkeys.STORED_WHAT)
        if stats.get_value("downloader/request_count", 0) and not answered and not stored:
            errors = {key.rsplit("/", 1)[1]: n for key, n in stats.get_stats().items()
                      if key.startswith("downloader/exception_type_count/")}
            errors.update({f"HTTP {key.rsplit('/', 1)[1]}": n for key, n in stats.get_stats().items()
                           if key.startswith("downloader/response_status_count/")})
            cause = max(errors, key=errors.get) if errors else "no answer"
            lines.append(f"the whole run: no request got an answer, nothing stored (mostly {cause})")
        if not lines:
            return
        health = CrawlHealth.of(self.crawler)
        for line in lines:
            logger.error("Unreachable: %s", line)
            if health is not None:
                health.report(ExitCode.UNREACHABLE, line)
        stats.set_value(statkeys.UNREACHABLE, lines)


class GarbageCollection:
    """Sets Python's cyclic garbage collector for a crawl: ``NEWSCRAWL_GC_THRESHOLDS``, and the objects of
    start-up (modules, settings, compiled statements) frozen out of its passes (``NEWSCRAWL_GC_FREEZE``)
    when the spider opens. The crawl's stats say what was set (``newscrawl/gc/…``).

    A crawl allocates container objects by the million (requests, responses, selectors, items, Deferreds),
    nearly all freed by reference counting; with CPython's default thresholds (700, 10, 10) the collector
    still walks the young ones every 700 allocations and every live object, start-up's included, every
    70,000. Cycles are still collected, less often. Measured: docs/performance.md.
    """

    def __init__(self, crawler, thresholds: tuple[int, ...], freeze: bool):
        self.crawler = crawler
        self.thresholds = thresholds
        self.freeze = freeze

    @classmethod
    def from_crawler(cls, crawler):
        thresholds = _gc_thresholds(crawler.settings.getlist("NEWSCRAWL_GC_THRESHOLDS"))
        freeze = crawler.settings.getbool("NEWSCRAWL_GC_FREEZE")
        if not thresholds and not freeze:
            raise NotConfigured
        extension = cls(crawler, thresholds, freeze)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        return extension

    def spider_opened(self, spider):
        if self.freeze:
            gc.collect()
            gc.freeze()
            self.crawler.stats.set_value(statkeys.GC_FROZEN, gc.get_freeze_count())
        if self.thresholds:
            gc.set_threshold(*self.thresholds)
        self.crawler.stats.set_value(statkeys.GC_THRESHOLDS, ",".join(map(str, gc.get_threshold())))


def _gc_thresholds(values: list) -> tuple[int, ...]:
    """``NEWSCRAWL_GC_THRESHOLDS`` as ``gc.set_threshold`` takes them; ``()`` (CPython's, logged) when they
    are not one to three whole numbers, the first positive."""
    try:
        thresholds = tuple(int(str(v).strip()) for v in values)
    except ValueError:
        thresholds = ()
    else:
        if not thresholds or (len(thresholds) <= 3 and thresholds[0] > 0 and min(thresholds) >= 0):
            return thresholds
    logger.error("NEWSCRAWL_GC_THRESHOLDS=%r: expected one to three whole numbers (e.g. 10000,10,10), the first "
                 "positive; Python's own thresholds are kept", ",".join(map(str, values)))
    return ()
