"""``maghress``: the French sources of Maghress, each article enriched from its publisher's page.

Discovery only: which URLs, in what order. What a page says is the site
parsers' business (``newscrawl.extract.sites``), how values are normalised the item
loader's (``newscrawl.extract.assemble``), which sources exist the registry's
(``newscrawl.sources``).

    listing /fr/<source> ──► article pages /fr/<source>/<id> ──► publisher page
        │   └─ ticker (every page, every selected source) ─┘       │ (or its failure)
        └─ next page (?page=N) until max_pages / since / nothing new  └─► one Article

    -a ids=5010000-5010500 ──► /fr/<source>/<id> in id order (stored ids skipped,
                               "not found" recorded, a range stops after max_misses misses)

``scrapy crawl lopinion`` is the same spider limited to L'Opinion (``spiders/lopinion.py``).

(One module, longer than most: requests, their callbacks and errbacks, and
the bookkeeping that decides the next request — the frontier, listing walks,
the id walk, one fetch per publisher page. Reading pages is the Assembler's,
the arguments ``CrawlArgs``', rendering ``RenderPolicy``'s.)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.python.failure import Failure

from newscrawl import statkeys
from newscrawl.crawl.coordination import Coordinator, LeaseLost
from newscrawl.crawl.dupefilter import PAGE_KIND, REVISIT
from newscrawl.extract.encoding import readable
from newscrawl.crawl.idranges import IdWalk
from newscrawl.identity.keys import ArticleKey, article_key, maghress_url, titles_agree
from newscrawl.extract.assemble import Assembler, MaghressPage, PublisherPage
from newscrawl.normalize import canonical_key, clean_source_url, parse_date, title_key
from newscrawl.crawl.rendering import RenderPolicy, needs_rendering
from newscrawl.crawl.storage import store_for
from newscrawl.extract.sites import maghress
from newscrawl.sources import SOURCES
from newscrawl.schedule import MAGHRESS
from newscrawl.spiders.args import ArgumentError, CrawlArgs


#: The spider's -a arguments (``CrawlArgs`` reads them).
_ARGUMENTS = frozenset({"sources", "base_url", "start_url", "max_pages", "since", "follow_source", "refresh", "ids",
                        "max_misses"})

class MaghressSpider(scrapy.Spider):
    name = "maghress"
    #: Back-catalogue ids fetched at once (the window kept in flight).
    id_window = 16

    #: Sources a one-source spider is limited to (``lopinion``); empty: any of the registry.
    only_sources: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any):
        # The -a arguments are read with the settings, in from_crawler (``CrawlArgs``).
        self.arguments = {k: kwargs.pop(k) for k in list(kwargs) if k in _ARGUMENTS}
        super().__init__(*args, **kwargs)
        self._ticker_seen: set[ArticleKey] = set()  # ticker links already handled in this run
        self._tickers_read: set[int] = set()  # hashes of the ticker blocks already read in this run
        # Publisher pages in flight (their key) -> Maghress pages of other ids waiting for the same page.
        self._publisher_waiting: dict[str, list[MaghressPage]] = {}
        # Publisher pages fetched in this run (their key) -> (their canonical URL, their headline).
        self._publisher_fetched: dict[str, tuple[str, str]] = {}
        self._walk_marks: dict[str, set[str]] = {}  # per source: keys of the deepest listing page its walk fetched
        self.unfinished_walks: dict[str, set[str]] = {}

    @classmethod
    def update_settings(cls, settings) -> None:
        super().update_settings(settings)
        default_feed = settings.get("NEWSCRAWL_DEFAULT_FEED")
        if default_feed and not settings.getdict("FEEDS"):
            settings.set("FEEDS", {default_feed: {"format": "csv"}}, priority="project")

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        try:
            spider.args = CrawlArgs.parse(spider.arguments, crawler.settings, only=cls.only_sources)
        except ArgumentError as exc:
            # One clear line instead of a traceback, and a non-zero exit.
            raise SystemExit(f"{cls.name}: bad spider argument: {exc}") from None
        spider.allowed_domains = sorted({"maghress.com", *spider.args.publisher_hosts})
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        spider.id_walks = {}  # back-catalogue: one walk over the ids per selected source, made at start
        return spider

    @cached_property
    def assembler(self) -> Assembler:
        """Reads and assembles the two pages of an article, counting in the crawl's stats (set once it starts)."""
        return Assembler(self.crawler.stats, self.logger, self.args.publisher_hosts)

    @cached_property
    def render_policy(self) -> RenderPolicy:
        """Which publisher pages are rendered (``NEWSCRAWL_BROWSER``: the browser the rendering add-on found)."""
        return RenderPolicy(self.args.render_modes, bool(self.crawler.settings.get("NEWSCRAWL_BROWSER")),
                            self.logger)

    @cached_property
    def coordinator(self) -> Coordinator:
        """Who fetches what among the crawl's processes: this one alone, or the workers of a distributed crawl
        (``NEWSCRAWL_COORDINATOR``, set by the distributed add-on)."""
        return build_from_crawler(load_object(self.crawler.settings["NEWSCRAWL_COORDINATOR"]), self.crawler)

    def article_store(self):
        """The crawl's store, opened on first use. (A method, not a property: the feed exporter reads
        every spider attribute at start, and would open the database before the first request.)"""
        return store_for(self.crawler)

    # -- discovery ------------------------------------------------------------

    async def start(self):
        store = self.article_store()
        sections = [s.slug for s in self.args.sources]
        # Listing walks that did not end (a killed crawl, a listing page that failed through a whole run): the
        # articles of the deepest page each fetched. This run walks until it meets them, whatever "nothing new" says.
        self.unfinished_walks = {} if self.args.refresh else store.unfinished_walks(sections)
        for slug in self.unfinished_walks:
            self.logger.info("The last listing walk of %s did not end: walking at least as deep this time", slug)
        # The frontier first: articles seen by earlier runs and not stored (pending, or failed fewer than
        # NEWSCRAWL_MAX_ATTEMPTS times), whatever the listing walk will decide.
        due = store.frontier_due(sections, self.args.max_attempts)
        if self.args.id_ranges:
            ranges = list(self.args.id_ranges)
            self.id_walks = {slug: self.coordinator.id_walk(slug, ranges, self.args.max_misses) for slug in sections}
            # Ids of this run's walk are the walk's to ask for (it must hear each answer to go on).
            due = [d for d in due if not (d.key.section in self.id_walks and
                                          any(low <= d.key.maghress_id <= high for low, high in self.args.id_ranges))]
        given_up = store.frontier_given_up(sections, self.args.max_attempts)
        if given_up:
            self.crawler.stats.set_value(statkeys.FRONTIER_GIVEN_UP, given_up)
            self.logger.warning("%d articles failed %d times and are no longer fetched; `newscrawl status` lists them",
                                given_up, self.args.max_attempts)
        if due:
            self.crawler.stats.set_value(statkeys.FRONTIER_DUE, len(due))
            self.logger.info("Fetching first %d articles that earlier runs saw and did not store", len(due))
        for article in due:
            yield self.article_request(article.key, priority=1)
        # Then the revisits due (after the frontier, before the listings): edits made since the last fetch.
        for request in self._revisit_requests(sections):
            yield request
        if self.id_walks:
            for request in self._next_id_requests():
                yield request
            return
        for slug, url in self.args.listing_urls.items():
            yield Request(url, callback=self.parse_listing, errback=self.listing_failed,
                          cb_kwargs={"page": 1, "source": slug}, meta={PAGE_KIND: "listing"})

    def parse_listing(self, response: Response, page: int, source: str):
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value("newscrawl/listing/not_html")
            return
        self.crawler.stats.inc_value("newscrawl/listing/pages")
        self.crawler.stats.inc_value(f"{statkeys.LISTING_PAGES}/{source}")
        entries = maghress.listing_entries(response, response.url, source)
        if not entries:
            self.crawler.stats.inc_value(statkeys.LISTING_EMPTY)
            self.logger.warning("Listing page %s holds no %s article link", response.url, source)
        too_old: set[ArticleKey] = set()
        if self.args.since:
            for entry in entries:
                day = parse_date(entry.date_text) if entry.date_text else None
                if day is not None and _day(day) < self.args.since:
                    too_old.add(entry.ref.key)
        if too_old:
            self.crawler.stats.inc_value("newscrawl/skipped/before_since", len(too_old))
        ticker = self._ticker_entries(response)
        stored = self._stored(entries) | self._stored(ticker, compare_headlines=False)
        wanted = [e.ref for e in (*entries, *ticker) if e.ref.key not in stored and e.ref.key not in too_old]
        yield from self._fetch_articles(wanted)

        # Pagination: stop at the page limit, at the date limit, or when nothing is new.
        page_keys = {str(e.ref.key) for e in entries}
        resume_until = self.unfinished_walks.get(source)
        if resume_until is not None and resume_until & page_keys:
            # This page holds where the interrupted walk had got to: the usual rules from the next page on.
            del self.unfinished_walks[source]
        next_url = maghress.next_page(response, response.url)
        stop = None
        if not next_url:
            stop = "its last page"
        elif self.args.max_pages and page >= self.args.max_pages:
            stop = "max_pages"
        elif self.args.since and entries and all(e.ref.key in too_old for e in entries):
            stop = f"all its articles predate {self.args.since}"
        elif not self.args.refresh and resume_until is None and entries and all(e.ref.key in stored for e in entries):
            stop = "all its articles are already stored"
            self.crawler.stats.set_value(f"newscrawl/listing/stopped_nothing_new/{source}", page)
        self._walk_progress(source, page, page_keys, done=stop is not None)
        if stop:
            self.logger.info("Stopping pagination of %s at page %d: %s", source, page, stop)
            return
        # Below the articles' priority: the next listing page waits until this page's articles are fetched, so
        # the queue holds a page's worth of requests, not the whole listing's, however deep the walk.
        yield Request(next_url, callback=self.parse_listing, errback=self.listing_failed, priority=-1,
                      cb_kwargs={"page": page + 1, "source": source}, meta={PAGE_KIND: "listing"})

    def _walk_progress(self, source: str, page: int, page_keys: set[str], done: bool) -> None:
        """Remember how far the walk got, so a walk that does not end (killed, failing) is finished next run.

        While this walk has not yet met the articles where an interrupted one
        stopped, that deeper mark is kept.
        """
        if source in self.unfinished_walks:
            mark = self.unfinished_walks[source]
        else:
            mark = page_keys or self._walk_marks.get(source, set())
        self._walk_marks[source] = mark
        self.article_store().walk_reached(source, page, mark, done=done)

    def listing_failed(self, failure: Failure):
        """A listing page failed: counted per source, and said plainly (a first page that fails is often a wrong slug).
        The walk stays unfinished: the next run walks past this point."""
        if failure.check(LeaseLost):
            return  # another worker of a distributed crawl has the page
        request = failure.request
        source, page = request.cb_kwargs.get("source"), request.cb_kwargs.get("page")
        reason = _reason(failure)
        self.crawler.stats.inc_value(f"{statkeys.LISTING_FAILED}/{source}")
        self.crawler.stats.set_value(f"{statkeys.LISTING_LAST_ERROR}/{source}", reason)
        # A first page that is not found is often a wrong slug; a network error says nothing of the slug.
        status = getattr(getattr(failure.value, "response", None), "status", None)
        hint = f" (is /fr/{source} the right Maghress section for this source?)" if page == 1 and status in (404, 410) else ""
        self.logger.error("Listing page %d of %s (%s) failed: %s%s", page, source, request.url, reason, hint)

    def _ticker_entries(self, response: Response) -> list[maghress.ListingEntry]:
        """The ticker's links to the selected sources not seen on an earlier page of this run (the others are
        counted, not followed). Every page repeats much the same ticker: each link is looked up in the store once
        per run, not once per page; a ticker block already read (most pages show the same) is not read again."""
        # Relative links resolve against the page's directory: the same markup elsewhere is another ticker.
        markup = hash((maghress.ticker_markup(response), response.url.rsplit("/", 1)[0]))
        if markup in self._tickers_read:
            return []
        self._tickers_read.add(markup)
        entries = []
        for entry in maghress.ticker_links(response, response.url):
            if entry.ref.key in self._ticker_seen:
                continue
            self._ticker_seen.add(entry.ref.key)
            if entry.ref.source in self.args.selected:
                entries.append(entry)
            elif entry.ref.source not in SOURCES:
                self.crawler.stats.inc_value("newscrawl/ticker/unregistered_source")
        return entries

    def _stored(self, entries: list[maghress.ListingEntry], compare_headlines: bool = True) -> set[ArticleKey]:
        """Keys of ``entries`` already stored with the headline they show now: one indexed query.

        A listing entry whose headline differs from the one stored is left
        out, so the article is fetched again and its row updated (the
        ticker's headlines may be shortened: they are not compared). Nothing
        is "stored" when ``refresh`` asks to fetch everything.
        """
        if self.args.refresh or not entries:
            return set()
        known = self.article_store().known_keys(e.ref.key for e in entries)
        stored: set[ArticleKey] = set()
        for entry in entries:
            key = entry.ref.key
            if str(key) not in known or key in stored:
                continue
            stored_headline = known[str(key)]
            if (not compare_headlines or stored_headline is None or not entry.headline
                    or title_key(entry.headline) == stored_headline):
                stored.add(key)
                self.crawler.stats.inc_value("newscrawl/skipped/already_stored")
            else:
                self.crawler.stats.inc_value("newscrawl/refetch/headline_changed")
                self.logger.info("Headline of %s changed on Maghress: fetching it again", entry.ref.url)
        return stored

    def _fetch_articles(self, refs: list[maghress.ArticleRef]):
        """Requests for these articles, recorded first in the frontier (pending), so none is lost if the crawl stops."""
        refs = list({r.key: r for r in refs}.values())
        if not refs:
            return
        self.article_store().frontier_seen((r.key, r.url) for r in refs)
        for ref in refs:
            yield self.article_request(ref.key)

    def article_request(self, key: ArticleKey, priority: int = 0, **cb_kwargs: Any) -> Request:
        """The request of an article page, always at ``<base_url>/fr/<section>/<id>``: one URL per key."""
        return Request(key.url_on(self.args.base_url), callback=self.parse_article, errback=self.article_failed,
                       priority=priority, cb_kwargs={"key": str(key), **cb_kwargs},
                       meta={PAGE_KIND: "article", "handle_httpstatus_list": [404, 410]})

    # -- revisits: stored articles fetched again, for their edits --------------------

    def _revisit_requests(self, sections: list[str]):
        """Requests of the revisits due (``store.revisits``), the longest overdue first, at most
        ``NEWSCRAWL_REVISIT_LIMIT``: the publisher page asked with its validators (a 304 is read as "unchanged"),
        or the Maghress page of an article that has none. (Workers of a distributed crawl all ask: the crawl's
        shared duplicate filter lets one request of each through.)"""
        if not self.args.revisit or not self.args.revisit_limit:
            return
        due = self.article_store().revisits_due(sections, self.args.revisit_limit)
        if not due:
            return
        self.crawler.stats.set_value(statkeys.REVISIT_DUE, len(due))
        self.logger.info("Revisiting %d stored articles whose revisit is due (NEWSCRAWL_REVISIT=%s)", len(due),
                         self.args.revisit)
        for revisit in due:
            if revisit.kind == MAGHRESS:
                request = self.article_request(revisit.key, priority=1, revisit=True)
                request.meta[REVISIT] = True
                yield request
                continue
            stored = MaghressPage.from_stored(revisit.stored)
            rendered = self.render_policy.mode(revisit.url, stored.source) == "always"
            yield Request(revisit.url, callback=self.parse_revisit, errback=self.revisit_failed, priority=1,
                          headers=None if rendered else revisit.conditional_headers(),
                          cb_kwargs={"key": str(revisit.key), "stored": stored},
                          meta={PAGE_KIND: "revisit", REVISIT: True, "handle_httpstatus_list": [304],
                                **({"playwright": True} if rendered else {})})

    def parse_revisit(self, response: Response, key: str, stored: MaghressPage):
        """A revisited publisher page: a 304 is "unchanged" (nothing read); a page is read and its article
        written again — the store keeps the stored version when the text changed (``store/versions.py``)."""
        source = stored.source
        self.crawler.stats.inc_value(f"{statkeys.REVISIT_MADE}/{source}")
        if response.status == 304:
            self.crawler.stats.inc_value(f"{statkeys.REVISIT_NOT_MODIFIED}/{source}")
            self.article_store().revisit_made(key, not_modified=True)
            return
        self.article_store().revisit_made(key)
        page = self._readable(response, "source")
        if page is None:
            return
        publisher = self.assembler.publisher_page(page, page.url, source)
        if publisher is None:
            return
        self.assembler.count_fields(publisher)
        yield from self.assembler.articles(stored, replace(publisher, validators=_validators(response)))

    def revisit_failed(self, failure: Failure):
        """A revisit failed (its page gone, the network): the stored article stands; its next revisit is the
        schedule's next step (a page that went away is not asked again every run)."""
        if failure.check(LeaseLost):
            return  # another worker of a distributed crawl has the page
        request = failure.request
        source = request.cb_kwargs["stored"].source
        self.crawler.stats.inc_value(f"{statkeys.REVISIT_MADE}/{source}")
        self.crawler.stats.inc_value(f"{statkeys.REVISIT_FAILED}/{source}")
        self.article_store().revisit_made(request.cb_kwargs["key"], failed=_reason(failure))
        self.logger.info("Revisit of %s failed (%s); the stored article stands", request.url, _reason(failure))

    # -- back-catalogue by id -------------------------------------------------------

    def _next_id_requests(self):
        """Requests for the next ids of every walk, skipping stored and known-missing ids, ``id_window`` in flight."""
        store = self.article_store()
        for slug, walk in self.id_walks.items():
            while not walk.done:
                ids = walk.take(self.id_window)
                if not ids:
                    break
                keys = {i: ArticleKey(slug, i) for i in ids}
                stored = set() if self.args.refresh else set(store.known_keys(keys.values()))
                gone = set() if self.args.refresh else store.gone_keys(keys.values())
                wanted = []
                for maghress_id, key in keys.items():
                    if str(key) in stored:
                        self.crawler.stats.inc_value("newscrawl/backfill/skipped_stored")
                        walk.record(maghress_id, True)
                    elif str(key) in gone:
                        self.crawler.stats.inc_value("newscrawl/backfill/skipped_missing")
                        walk.record(maghress_id, False)
                    else:
                        wanted.append(key)
                if wanted:
                    # The outcomes just recorded may have ended the range: its later ids are not asked.
                    still = set(walk.still_wanted([k.maghress_id for k in wanted]))
                    wanted = [k for k in wanted if k.maghress_id in still]
                if wanted:
                    store.frontier_seen((k, k.url_on(self.args.base_url)) for k in wanted)
                for key in wanted:
                    yield self.article_request(key, backfill=(slug, key.maghress_id))
            self._log_stopped(slug, walk)

    def _id_done(self, backfill: tuple[str, int], found: bool | None):
        slug, maghress_id = backfill
        self.id_walks[slug].record(maghress_id, found)
        yield from self._next_id_requests()

    def _log_stopped(self, slug: str, walk: IdWalk) -> None:
        for low, high, last in walk.pop_stopped():
            self.crawler.stats.inc_value("newscrawl/backfill/ranges_stopped")
            self.logger.info("Back-catalogue %s %d-%d: stopped after id %d, %d consecutive ids not found",
                             slug, low, high, last, self.args.max_misses)

    # -- articles ---------------------------------------------------------------

    def _readable(self, response: Response, kind: str) -> TextResponse | None:
        """The page as text, charset repaired when it lies; ``None`` (counted, logged) when it is not text."""
        page = readable(response) if isinstance(response, TextResponse) else None
        if page is None:
            self.crawler.stats.inc_value(f"newscrawl/{kind}/not_html")
            self.logger.warning("%s page %s is not HTML text (%s); skipped", kind.capitalize(), response.url,
                                (response.headers.get("Content-Type") or b"?").decode("latin-1"))
        elif page is not response:
            self.crawler.stats.inc_value("newscrawl/encoding/repaired")
            self.logger.info("%s declared the wrong charset; read as %s", response.url, page.encoding)
        return page

    def parse_article(self, response: Response, key: str | None = None, backfill: tuple[str, int] | None = None,
                      revisit: bool = False):
        requested = ArticleKey.parse(key) if key else article_key(response.request.url)
        landed = article_key(response.url)
        if revisit and requested is not None:
            # A revisit of an article that has no publisher page: the Maghress page is where it may change.
            self.crawler.stats.inc_value(f"{statkeys.REVISIT_MADE}/{requested.section}")
            if response.status in (404, 410) or landed is None:
                # Maghress no longer has it: the stored article stands (and is no frontier entry).
                self.crawler.stats.inc_value(f"{statkeys.REVISIT_FAILED}/{requested.section}")
                self.article_store().revisit_made(requested, failed=f"HTTP {response.status}: gone from Maghress")
                self.logger.info("Revisit of %s: answered %d; the stored article stands", response.request.url,
                                 response.status)
                return
            self.article_store().revisit_made(requested)
        if response.status in (404, 410) or landed is None:
            # Not found, or sent elsewhere (a redirect away from any article page): gone, not asked again.
            if requested is not None:
                self.article_store().frontier_gone(requested, response.request.url, response.status)
            self.crawler.stats.inc_value(statkeys.FRONTIER_GONE)
            if backfill:
                self.crawler.stats.inc_value("newscrawl/backfill/not_found")
                yield from self._id_done(backfill, False)
            else:
                self.logger.warning("Article page %s answered %d: recorded as gone", response.request.url, response.status)
            return
        if backfill:
            yield from self._id_done(backfill, True)
        page = self._readable(response, "article")
        if page is None:
            self._article_failed(requested, response.url, "not an HTML page")
            return
        response = page
        self.crawler.stats.inc_value(statkeys.ARTICLE_PAGES)
        if not backfill:
            ticker = self._ticker_entries(response)
            stored = self._stored(ticker, compare_headlines=False)
            yield from self._fetch_articles([e.ref for e in ticker if e.ref.key not in stored])
        read = self.assembler.maghress_page(response, response.url)
        if revisit:
            read = replace(read, revisit=True)
        if self.args.since and (day := _first_day(read.dates)) and day < self.args.since:
            self.crawler.stats.inc_value("newscrawl/skipped/before_since")
            self.crawler.stats.inc_value(statkeys.ARTICLE_BEFORE_SINCE)
            self.article_store().frontier_clear([requested or landed])
            return
        if requested is not None and requested != landed:
            # Maghress sent one id to another: this page is the other's; the id asked for is kept as its alias.
            self.crawler.stats.inc_value("newscrawl/article/redirected_to_another_id")
            self.logger.info("%s leads to %s: stored once, %s as its alias", requested, landed, requested)
            read = replace(read, alias_url=maghress_url(requested, response.request.url),
                           alias_id=requested.maghress_id)
        link = read.source_link
        if link and self._may_follow(link):
            read = replace(read, publisher_url=link)  # the publisher URL is known even if its page fails
        if not link:
            self.crawler.stats.inc_value("newscrawl/source/no_link")
        elif not self.args.follow_source:
            self.crawler.stats.inc_value("newscrawl/source/not_followed")
        elif not self._may_follow(link):
            self.crawler.stats.inc_value("newscrawl/source/refused_host")
            self.logger.warning("Not following %s from %s: host not allowed", link, response.url)
        else:
            yield from self._follow_publisher(link, read)
            return
        yield from self.assembler.articles(read)

    def article_failed(self, failure: Failure):
        """An article page failed after Scrapy's retries (server error, network): recorded in the frontier as
        failed with its reason, and fetched again by the next runs."""
        if failure.check(LeaseLost):
            return  # another worker of a distributed crawl has the page
        request = failure.request
        key = request.cb_kwargs.get("key")
        self.crawler.stats.inc_value(f"newscrawl/article/failed/{failure.type.__name__}")
        if request.cb_kwargs.get("revisit") and key:
            # A revisit of a stored article: it stands, and its next revisit is the schedule's next step.
            section = ArticleKey.parse(key).section
            self.crawler.stats.inc_value(f"{statkeys.REVISIT_MADE}/{section}")
            self.crawler.stats.inc_value(f"{statkeys.REVISIT_FAILED}/{section}")
            self.article_store().revisit_made(key, failed=_reason(failure))
            self.logger.info("Revisit of %s failed (%s); the stored article stands", request.url, _reason(failure))
            return
        if key:
            self._article_failed(ArticleKey.parse(key), request.url, _reason(failure))
        if backfill := request.cb_kwargs.get("backfill"):
            self.crawler.stats.inc_value(f"newscrawl/backfill/failed/{failure.type.__name__}")
            yield from self._id_done(backfill, None)

    def page_failed(self, request: Request, reason: str) -> None:
        """A page's callback raised (``PageCosts`` caught it): that page fails alone. An article page's or a
        publisher page's article is recorded in the frontier as failed with the reason (retried by the next
        runs, then reported); a listing page leaves its walk unfinished, counted as a failed listing page."""
        kind = request.meta.get(PAGE_KIND)
        if kind == "listing":
            source = request.cb_kwargs["source"]
            self.crawler.stats.inc_value(f"{statkeys.LISTING_FAILED}/{source}")
            self.crawler.stats.set_value(f"{statkeys.LISTING_LAST_ERROR}/{source}", reason)
            return
        if kind == "article":
            key = request.cb_kwargs.get("key")
            # (A back-catalogue id was recorded as found before its page was read: the walk goes on.)
            self._article_failed(ArticleKey.parse(key) if key else article_key(request.url), request.url, reason)
        elif kind == "publisher" and (read := request.cb_kwargs.get("maghress_page")) is not None:
            self._article_failed(article_key(read.url), read.url, f"publisher page {request.url[:200]}: {reason}")

    def _article_failed(self, key: ArticleKey | None, url: str, reason: str) -> None:
        self.crawler.stats.inc_value(statkeys.FRONTIER_FAILED)
        attempts = self.article_store().frontier_failed(key, url, reason) if key else 0
        more = (f"the next run tries again ({attempts} of {self.args.max_attempts} attempts)" if attempts < self.args.max_attempts
                else f"given up after {attempts} attempts")
        self.logger.warning("Article page %s failed (%s); %s", url, reason, more)

    def _may_follow(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and (parts.hostname or "").lower() in self.args.publisher_hosts

    # -- publisher pages: one fetch per page per crawl, plain or rendered ------------------

    def _follow_publisher(self, link: str, read: MaghressPage):
        """The publisher page of a Maghress article, fetched once per crawl.

        A republished story (two Maghress ids, one publisher page) costs one
        fetch: when the page is stored already (with a headline that agrees),
        the article is stored from Maghress and becomes its alias; when it is
        in flight, the article waits for that answer.
        """
        key = canonical_key(link)
        waiting = self._publisher_waiting.get(key)
        if waiting is not None:
            waiting.append(read)
            self.crawler.stats.inc_value("newscrawl/source/shared_in_flight")
            self.crawler.stats.inc_value(statkeys.ARTICLE_HANDED_ON)
            return
        fetched = self._publisher_fetched.get(key)
        if fetched is not None and titles_agree(fetched[1], read.title):
            # Fetched earlier in this run (maybe not written yet): this article repeats that one's story.
            self.crawler.stats.inc_value("newscrawl/source/shared_in_run")
            yield from self.assembler.articles(replace(read, publisher_url=fetched[0]))
            return
        if not self.args.refresh:
            owner = self.article_store().publisher_owner(key)
            if owner is not None and titles_agree(owner[1], read.title):
                self.crawler.stats.inc_value("newscrawl/source/already_stored")
                self.logger.debug("Publisher page %s is stored already (for %s): not fetched again", link, owner[0])
                yield from self.assembler.articles(read)
                return
        if not self.coordinator.claim_publisher(key):
            # Another worker of a distributed crawl fetches it: resolved when this worker is idle.
            self._publisher_waiting.setdefault(key, []).append(read)
            self.crawler.stats.inc_value(statkeys.ARTICLE_HANDED_ON)
            return
        self._publisher_waiting[key] = []
        self.crawler.stats.inc_value(statkeys.ARTICLE_HANDED_ON)
        # Asked without tracking parameters: they say how a reader arrived, and make one page two URLs.
        yield self._publisher_request(clean_source_url(link) or link, read, key)

    def _waiting_for(self, key: str, publisher: PublisherPage | None):
        """The articles that waited for the publisher page ``key``: with its fields when the headlines agree."""
        for read in self._publisher_waiting.pop(key, None) or ():
            self.crawler.stats.inc_value(statkeys.ARTICLE_TAKEN_BACK)
            shared = publisher if publisher and titles_agree(read.title, publisher.title) else None
            yield from self.assembler.articles(read, shared)

    def spider_idle(self) -> None:
        """Articles still waiting for a publisher page another worker fetched: stored from Maghress now (the
        deduplication makes them aliases of that page's article once it is stored)."""
        # (Keys with no article waiting are publisher pages this worker asked for and another fetched.)
        waiting = {key: pages for key, pages in self._publisher_waiting.items() if pages}
        self._publisher_waiting = {}
        if not waiting:
            return
        for key, pages in waiting.items():
            self.crawler.engine.crawl(Request("data:,", callback=self._resolve_waiting, dont_filter=True,
                                              cb_kwargs={"pages": pages}, meta={PAGE_KIND: "waiting"}))
        raise DontCloseSpider

    def _resolve_waiting(self, response: Response, pages: list[MaghressPage]):
        for read in pages:
            self.crawler.stats.inc_value(statkeys.ARTICLE_TAKEN_BACK)
            yield from self.assembler.articles(read)

    def _publisher_request(self, url: str, read: MaghressPage, key: str) -> Request:
        rendered = self.render_policy.mode(url, read.source) == "always"
        return Request(
            url,
            callback=self.parse_publisher,
            errback=self.publisher_failed,
            cb_kwargs={"maghress_page": read, "publisher_key": key},
            meta={PAGE_KIND: "publisher", **({"playwright": True} if rendered else {})},
            # One request per publisher page and crawl is ensured above; a re-crawl must be able to ask again.
            dont_filter=True,
        )

    def parse_publisher(self, response: Response, maghress_page: MaghressPage, publisher_key: str = "",
                        plain: PublisherPage | None = None):
        page = self._readable(response, "source")
        if page is None:
            yield from self._publisher_done(maghress_page, publisher_key, plain)
            return
        response = page
        self.crawler.stats.inc_value("newscrawl/source/pages")
        publisher = self.assembler.publisher_page(response, response.url, maghress_page.source)
        if publisher is None:
            yield from self._publisher_done(maghress_page, publisher_key, plain)
            return
        if response.meta.get("playwright"):
            self.crawler.stats.inc_value("newscrawl/render/rendered")
        else:
            self.crawler.stats.inc_value("newscrawl/render/plain")
            if self.render_policy.mode(response.url, maghress_page.source) == "auto" and needs_rendering(
                list(publisher.body), list(maghress_page.body), response.text
            ):
                self.crawler.stats.inc_value("newscrawl/render/needed")
                yield Request(
                    response.url,
                    callback=self.parse_publisher,
                    errback=self.render_failed,
                    cb_kwargs={"maghress_page": maghress_page, "publisher_key": publisher_key, "plain": publisher},
                    meta={PAGE_KIND: "publisher", "playwright": True},
                    dont_filter=True,
                )
                return
        self.assembler.count_fields(publisher)
        publisher = replace(publisher, validators=_validators(response))
        if plain and not publisher.body:
            publisher = replace(publisher, body=plain.body)
        yield from self._publisher_done(maghress_page, publisher_key, publisher)

    def _publisher_done(self, maghress_page: MaghressPage, key: str, publisher: PublisherPage | None):
        """The article with what its publisher page gave (``None``: it failed), and those that waited for it."""
        self.crawler.stats.inc_value(statkeys.ARTICLE_TAKEN_BACK)
        built = self.assembler.articles(maghress_page, publisher)
        if publisher is not None and key:
            # The publisher URL the article got (its canonical, unless that names no single article).
            self._publisher_fetched[key] = (built[0].get("source_url") or "", publisher.title)
        yield from built
        yield from self._waiting_for(key, publisher)

    def render_failed(self, failure: Failure):
        """The browser could not render the page: what the plain fetch gave stands."""
        if failure.check(LeaseLost):
            return  # another worker of a distributed crawl has the page
        request = failure.request
        self.crawler.stats.inc_value("newscrawl/render/failed")
        self.logger.warning("Rendering %s failed (%s); storing the plainly fetched page", request.url,
                            failure.getErrorMessage())
        kwargs = request.cb_kwargs
        yield from self._publisher_done(kwargs["maghress_page"], kwargs.get("publisher_key", ""), kwargs["plain"])

    def publisher_failed(self, failure: Failure):
        """The publisher page failed (HTTP error, network, refused): the Maghress data stands."""
        if failure.check(LeaseLost):
            return  # another worker of a distributed crawl has the page
        request = failure.request
        self.crawler.stats.inc_value(f"newscrawl/source/failed/{failure.type.__name__}")
        self.logger.warning("Publisher page %s failed (%s); storing from Maghress", request.url, failure.getErrorMessage())
        yield from self._publisher_done(request.cb_kwargs["maghress_page"], request.cb_kwargs.get("publisher_key", ""), None)


def _day(value) -> date:
    return value.date() if hasattr(value, "date") else value


def _first_day(texts: list[str]) -> date | None:
    for text in texts:
        if (value := parse_date(text)) is not None:
            return _day(value)
    return None


def _validators(response: Response) -> dict[str, str]:
    """The page's ``ETag`` and ``Last-Modified``, for a revisit to ask "changed since?" (``store/revisits.py``)."""
    found = {}
    for name, header in (("etag", b"ETag"), ("last_modified", b"Last-Modified")):
        if value := response.headers.get(header):
            found[name] = value.decode("latin-1")[:200]
    return found


def _reason(failure: Failure) -> str:
    """Why a request failed, in a few words: "HTTP 503", "TimeoutError: …"."""
    response = getattr(failure.value, "response", None)
    if response is not None:
        return f"HTTP {response.status}"
    return f"{failure.type.__name__}: {failure.getErrorMessage()}"[:300]
