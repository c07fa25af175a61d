"""Scrapy settings of the newscrawl project.

Only what differs from Scrapy's defaults, each with its reason. Paths
derive from ``NEWSCRAWL_DATA_DIR`` (default ``./data``) so that a crawl
started elsewhere (cron, scrapyd) still writes somewhere sensible.
"""

import os
from pathlib import Path

from newscrawl.items import ARTICLE_FIELDS

BOT_NAME = "newscrawl"
SPIDER_MODULES = ["newscrawl.spiders"]
NEWSPIDER_MODULE = "newscrawl.spiders"

# Where the default database and feeds go.
NEWSCRAWL_DATA_DIR = str(Path(os.environ.get("NEWSCRAWL_DATA_DIR") or "data").expanduser().resolve())
# sqlite:///relative/path, sqlite:////absolute/path or postgresql://user:pass@host/db
NEWSCRAWL_DATABASE_URL = os.environ.get("NEWSCRAWL_DATABASE_URL") or f"sqlite:///{NEWSCRAWL_DATA_DIR}/newscrawl.db"
# A file holding the database URL (password included), read when the store opens: the password then never
# travels as a job argument or setting (scrapyd logs those). Wins over NEWSCRAWL_DATABASE_URL when set.
NEWSCRAWL_DATABASE_URL_FILE = os.environ.get("NEWSCRAWL_DATABASE_URL_FILE", "")
# Writes are batched: a transaction every N articles or every few seconds, and at close.
NEWSCRAWL_STORE_BATCH_SIZE = 100
NEWSCRAWL_STORE_FLUSH_SECONDS = 2.0
# Hosts the "read at source" link may be followed to; empty = every registered source's
# publisher hosts (newscrawl/sources.py). The Maghress mirror's host (base_url) is always added.
NEWSCRAWL_PUBLISHER_HOSTS = []
# Back-catalogue crawls (-a ids=…): a range stops after this many consecutive ids not found.
NEWSCRAWL_BACKFILL_MAX_MISSES = 50
# A back-catalogue shared by workers on Redis: ids handed out and not answered yet, across all of them (one
# process keeps 16). A range never runs more than this past the point where it stops.
NEWSCRAWL_BACKFILL_WINDOW = 64
# The frontier: an article page that failed is fetched again by the next runs, until it failed this many
# times; then it is only reported (`newscrawl status`).
NEWSCRAWL_MAX_ATTEMPTS = 5
# Bodies shorter than this (in words) are no evidence that two articles are one story ("Réservé aux abonnés").
NEWSCRAWL_MIN_BODY_WORDS = 40
# Revisits (docs/operations.md, "Revisits and edit history"): stored articles are fetched again at these ages
# after publication, to keep the versions of an article that changed; "off" disables them. At most
# NEWSCRAWL_REVISIT_LIMIT revisits per run, the longest overdue first (after the frontier, before the listings).
NEWSCRAWL_REVISIT = "1h 6h 24h 3d 7d"
NEWSCRAWL_REVISIT_LIMIT = 1000

# Politeness: obey robots.txt, say who we are, let AutoThrottle pace us.
ROBOTSTXT_OBEY = True
USER_AGENT = "newscrawl/0.1 (Moroccan news archive; Scrapy)"
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_TIMEOUT = 30
# Items a single response may process at once. Our pipelines are synchronous and a callback yields
# one article, so Scrapy's default (100) only spawns idle asyncio tasks for every callback.
CONCURRENT_ITEMS = 8
# Python's cyclic garbage collector during a crawl (extensions.GarbageCollection): start-up's objects frozen
# out of its passes, and young collections every 10,000 allocations instead of 700. Measured on the bench
# mirror: ~7 % less CPU for ~5 MB more memory (docs/performance.md). () and False: CPython's defaults.
NEWSCRAWL_GC_THRESHOLDS = (10_000, 10, 10)
NEWSCRAWL_GC_FREEZE = True
RETRY_TIMES = 2

# Both run code or open a shell inside the crawl: never on by default.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# Hostile input: every response has a bounded cost (docs/operations.md, "Limits"). A page larger than this,
# as downloaded or once decompressed, is dropped and counted (Scrapy's default is 1 GiB); news pages are
# rarely over 2 MB.
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 3 * 1024 * 1024
# The parsers read at most this much of a page (the rest is cut, counted): their cost is bounded by it.
NEWSCRAWL_MAX_PARSE_BYTES = 3 * 1024 * 1024
# Only http(s) is ever fetched: a "file://" link must not read the local disk, whatever found it.
DOWNLOAD_HANDLERS = {"file": None, "s3": None, "ftp": None}

DOWNLOADER_MIDDLEWARES = {
    # After the redirect middleware (600) has made the next request of a chain: checks each hop.
    "newscrawl.crawl.middlewares.RequestGuard": 650,
    # Scrapy's decompression (bounded by DOWNLOAD_MAXSIZE), counting what it stops.
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "newscrawl.crawl.middlewares.BoundedHttpCompression": 590,
    # Below the decompression (590): sees the body as the parsers will.
    "newscrawl.crawl.middlewares.ResponseLimits": 580,
}

SPIDER_MIDDLEWARES = {
    # Next to the spider: times its callbacks, and catches what they raise before anything else.
    "newscrawl.crawl.middlewares.PageCosts": 950,
}

ITEM_PIPELINES = {
    "newscrawl.crawl.pipelines.ValidatePipeline": 100,
    "newscrawl.crawl.pipelines.DeduplicatePipeline": 200,
    "newscrawl.crawl.pipelines.StorePipeline": 300,
}

# CSV: our columns in our order for every feed (Scrapy would take the first item's keys).
FEED_EXPORT_ENCODING = "utf-8"
FEED_EXPORT_FIELDS = list(ARTICLE_FIELDS)
FEED_EXPORTERS = {
    "csv": "newscrawl.store.exporters.ArticleCsvItemExporter",
    "jsonlines": "newscrawl.store.exporters.ArticleJsonLinesItemExporter",
}
# The default feed: one CSV per run. It is added only when FEEDS is empty, so
# `-o`/`-O` on the command line (or FEEDS in your settings) replaces it; '' turns it off.
NEWSCRAWL_DEFAULT_FEED = f"{NEWSCRAWL_DATA_DIR}/exports/%(name)s-%(time)s.csv"

LOG_LEVEL = "INFO"
LOG_FORMATTER = "newscrawl.crawl.logformatter.NewscrawlLogFormatter"
# Scrapy's filter, except that a crawl killed with SIGKILL and restarted with its JOBDIR finishes.
DUPEFILTER_CLASS = "newscrawl.crawl.dupefilter.ResumableDupeFilter"
# Names that resolve to private, loopback or link-local addresses are refused (the mirror's own host aside).
TWISTED_DNS_RESOLVER = "newscrawl.crawl.resolver.GuardedResolver"
# An article page is one request per Maghress key, whatever host, scheme, slug or query its URL has.
REQUEST_FINGERPRINTER_CLASS = "newscrawl.crawl.dupefilter.ArticleKeyFingerprinter"

EXTENSIONS = {
    "newscrawl.crawl.extensions.StatsFile": 500,
    "newscrawl.crawl.extensions.JobdirGuard": 0,
    "newscrawl.crawl.extensions.LayoutAlarm": 400,
    "newscrawl.crawl.extensions.ReachabilityCheck": 450,  # before StatsFile (500): its verdict is in the stats file
    # After the alarm and the reachability check (they report to it at close), before StatsFile: the exit status.
    "newscrawl.crawl.health.CrawlHealth": 480,
    "newscrawl.crawl.extensions.GarbageCollection": 0,
    # The crawl's store: disposed when the spider closes, after every other spider_closed handler that reads it.
    "newscrawl.crawl.storage.CrawlStore": 900,
    # Feeds list the articles the store committed (a row the database refused is in no feed).
    "scrapy.extensions.feedexport.FeedExporter": None,
    "newscrawl.crawl.feeds.CommittedFeedExporter": 0,
    # Off (above), and not even imported: the remote control's module imports aiohttp (0.13 s of start-up).
    "scrapy.extensions.remote_control.RemoteControl": None,
    "scrapy.extensions.telnet.TelnetConsole": None,
}
# `scrapy crawl` with an exit status (newscrawl.crawl.health.ExitCode).
COMMANDS_MODULE = "newscrawl.commands"
# The layout-change alarm: minimum share of a crawl's articles with each field.
NEWSCRAWL_ALARM_ENABLED = True
NEWSCRAWL_ALARM_MIN_COVERAGE = {"title": 0.95, "body": 0.8, "published_date": 0.8, "source_url": 0.5}
NEWSCRAWL_ALARM_MIN_ARTICLES = 5  # fewer articles (or publisher pages per parser) than this: too few to judge
# Per publisher parser: minimum share of its pages on which it found each raw field (the Maghress
# copy fills the article's column when it does not, so a publisher's layout change shows only here).
NEWSCRAWL_ALARM_MIN_PUBLISHER_COVERAGE = {"title": 0.9, "body": 0.8, "dates": 0.8}
# Path of a JSON file that receives the crawl's stats at close ('' = none).
NEWSCRAWL_STATS_FILE = ""

# JavaScript rendering (scrapy-playwright), installed by the add-on when a Chromium is found.
ADDONS = {
    "newscrawl.crawl.rendering.RenderingAddon": 0,
    # Shared Redis scheduler when NEWSCRAWL_REDIS_URL is set (distributed crawls); nothing otherwise.
    "newscrawl.crawl.addons.DistributedAddon": 0,
}
# Per publisher host: "never", "auto" (render when the plain page lacks the body) or "always".
# Defaults come from each source's `render` in the registry; entries here override them.
# Other hosts (a mirror's, for instance) take the mode of the article's source unless listed.
NEWSCRAWL_RENDER_MODES = {}
NEWSCRAWL_BROWSER_PATH = ""  # empty: the first chromium on PATH (env NEWSCRAWL_BROWSER_PATH too)
NEWSCRAWL_RENDER_TIMEOUT = 20.0  # seconds per rendered page
NEWSCRAWL_RENDER_MAX_CONTEXTS = 2  # one in use, one being retired
NEWSCRAWL_RENDER_PAGES_PER_CONTEXT = 50  # then a fresh context: browser memory does not grow with the crawl
NEWSCRAWL_RENDER_MAX_PAGES = 2  # pages open at once per context

# Distributed crawls (scrapy-redis): redis://host:port/db; empty = one process, Scrapy's own scheduler.
NEWSCRAWL_REDIS_URL = ""
# Who fetches what among the crawl's processes (crawl/coordination.py); the distributed add-on sets its own.
NEWSCRAWL_COORDINATOR = "newscrawl.crawl.coordination.LocalCoordinator"
NEWSCRAWL_CRAWL_ID = ""  # workers of one crawl share it; default "default"
NEWSCRAWL_REDIS_RESUME = False  # True: continue a crawl whose workers all died, instead of starting it afresh
# A worker's lease on a request it took from the shared queue: renewed every HEARTBEAT seconds while it works,
# handed to another worker only once expired (its worker killed, or stopped past it). 30 s: a loaded 2-core
# machine blocks a worker's reactor for seconds, never for half a minute.
NEWSCRAWL_REDIS_LEASE = 30.0
NEWSCRAWL_REDIS_HEARTBEAT = 3.0
# Seconds a run's keys outlive its last worker (a killed crawl's queue, for NEWSCRAWL_REDIS_RESUME).
NEWSCRAWL_REDIS_KEEP = 86400
