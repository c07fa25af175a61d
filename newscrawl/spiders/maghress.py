"""``maghress``: the French sources of Maghress, each article enriched from its publisher's page.

Discovery only: which URLs, in what order. What a page says is the site
parsers' business (``newscrawl.sites``), how values are normalised the item
loader's (``newscrawl.loaders``), which sources exist the registry's
(``newscrawl.sources``).

    listing /fr/<source> ──► article pages /fr/<source>/<id> ──► publisher page
        │   └─ ticker (every page, every selected source) ─┘       │ (or its failure)
        └─ next page (?page=N) until max_pages / since / nothing new  └─► one Article

    -a ids=5010000-5010500 ──► /fr/<source>/<id> in id order (stored ids skipped,
                               "not found" recorded, a range stops after max_misses misses)

``scrapy crawl lopinion`` is the same spider limited to L'Opinion (``spiders/lopinion.py``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.job import job_dir
from twisted.python.failure import Failure

from newscrawl.dupefilter import PAGE_KIND
from newscrawl.encoding import readable
from newscrawl.idranges import IdWalk, parse_ids
from newscrawl.loaders import build_article
from newscrawl.normalize import parse_date, title_key
from newscrawl.rendering import needs_rendering
from newscrawl.sites import GENERIC, maghress, parser_for_host, parser_module
from newscrawl.sources import RENDER_MODES, SOURCES, Source, parse_source_list, source_named


class SpiderArgumentError(NotConfigured):
    """A spider argument with a value we cannot use: the crawl does not start."""


def _parse_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise SpiderArgumentError(f"{name}={value!r}: expected true or false")


def _parse_positive_int(name: str, value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise SpiderArgumentError(f"{name}={value!r}: expected a whole number of at least 1") from None
    if number < 1:
        raise SpiderArgumentError(f"{name}={value!r}: expected a whole number of at least 1")
    return number


def _parse_since(value: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise SpiderArgumentError(f"since={value!r}: expected a date as YYYY-MM-DD") from None


def _parse_url(name: str, value: str, what: str) -> str:
    parts = urlsplit(str(value).strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SpiderArgumentError(f"{name}={value!r}: expected an http(s) URL {what}")
    return parts.geturl()


def _parse_sources(value: Any) -> list[Source]:
    try:
        return parse_source_list(value)
    except ValueError as exc:
        raise SpiderArgumentError(f"sources={value!r}: {exc}") from None


def _parse_ids(value: Any) -> list[tuple[int, int]] | None:
    if value in (None, ""):
        return None
    try:
        return parse_ids(value)
    except ValueError as exc:
        raise SpiderArgumentError(f"ids={value!r}: {exc}") from None


#: Raw publisher fields counted per parser (``newscrawl/publisher/<parser>/found/<field>``).
PUBLISHER_WATCHED = ("title", "body", "dates", "authors")


class MaghressSpider(scrapy.Spider):
    name = "maghress"
    default_base_url = "https://www.maghress.com"
    #: Back-catalogue ids fetched at once (the window kept in flight).
    id_window = 16

    def __init__(
        self,
        sources: str | None = None,
        base_url: str | None = None,
        start_url: str | None = None,
        max_pages: str | int | None = None,
        since: str | None = None,
        follow_source: str | bool = True,
        refresh: str | bool = False,
        ids: str | None = None,
        max_misses: str | int | None = None,
        *args: Any,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.sources: list[Source] = self._selected_sources(sources)
        self.base_url = _parse_url("base_url", base_url or self.default_base_url, "of Maghress or of a mirror").rstrip("/")
        # One listing per source: <base_url>/fr/<slug>, or the start_url given for a single source.
        self.listing_urls = {s.slug: f"{self.base_url}/fr/{s.slug}" for s in self.sources}
        if start_url:
            if len(self.sources) != 1:
                raise SpiderArgumentError(f"start_url={start_url!r}: only with a single source (use base_url for several)")
            self.listing_urls[self.sources[0].slug] = _parse_url("start_url", start_url, "of a Maghress listing")
            if not base_url:
                parts = urlsplit(self.listing_urls[self.sources[0].slug])
                self.base_url = f"{parts.scheme}://{parts.netloc}"
        self.max_pages = _parse_positive_int("max_pages", max_pages)
        self.since = _parse_since(since)
        self.follow_source = _parse_bool("follow_source", follow_source)
        self.refresh = _parse_bool("refresh", refresh)
        self.id_ranges = _parse_ids(ids)
        self._ticker_seen: set[str] = set()  # ticker links already handled in this run
        self.max_misses = _parse_positive_int("max_misses", max_misses)
        self.selected = frozenset(s.slug for s in self.sources)
        self.start_host = urlsplit(self.base_url).hostname or ""
        self.allowed_domains = sorted({"maghress.com", self.start_host})

    def _selected_sources(self, sources: str | None) -> list[Source]:
        return _parse_sources(sources)

    @classmethod
    def update_settings(cls, settings) -> None:
        super().update_settings(settings)
        default_feed = settings.get("NEWSCRAWL_DEFAULT_FEED")
        if default_feed and not settings.getdict("FEEDS"):
            settings.set("FEEDS", {default_feed: {"format": "csv"}}, priority="project")

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        try:
            spider = super().from_crawler(crawler, *args, **kwargs)
        except SpiderArgumentError as exc:
            # One clear line instead of a traceback, and a non-zero exit.
            raise SystemExit(f"{cls.name}: bad spider argument: {exc}") from None
        settings = crawler.settings
        # Render modes: the registry's per publisher host, overridden by NEWSCRAWL_RENDER_MODES.
        spider.render_modes = {h: s.render for s in SOURCES.values() for h in s.publisher_hosts}
        spider.render_modes.update({h.lower(): m for h, m in settings.getdict("NEWSCRAWL_RENDER_MODES").items()})
        bad = {h: m for h, m in spider.render_modes.items() if m not in RENDER_MODES}
        if bad:
            raise SystemExit(f"{cls.name}: bad setting NEWSCRAWL_RENDER_MODES: {bad} (modes: {', '.join(RENDER_MODES)})")
        spider._warned_no_browser = False
        # Publisher hosts: every registered source's (a byline may name a source outside the selection),
        # or NEWSCRAWL_PUBLISHER_HOSTS when set; the mirror's host always (its publisher pages live there).
        hosts = settings.getlist("NEWSCRAWL_PUBLISHER_HOSTS") or [h for s in SOURCES.values() for h in s.publisher_hosts]
        spider.publisher_hosts = frozenset(h.lower() for h in hosts) | {spider.start_host}
        spider.allowed_domains = sorted(set(spider.allowed_domains) | set(hosts))
        if spider.id_ranges and settings.get("NEWSCRAWL_REDIS_URL"):
            raise SystemExit(f"{cls.name}: bad spider argument: ids= runs in one process, not in a distributed crawl")
        spider.max_misses = spider.max_misses or settings.getint("NEWSCRAWL_BACKFILL_MAX_MISSES", 50)
        # Back-catalogue: one walk over the ids per selected source.
        spider.id_walks = {
            s.slug: IdWalk(spider.id_ranges, spider.max_misses, cls.id_window) for s in spider.sources
        } if spider.id_ranges else {}
        return spider

    def article_store(self):
        """The crawl's store, opened on first use. (A method, not a property: the feed exporter reads
        every spider attribute at start, and would open the database before the first request.)"""
        from newscrawl.store import store_for  # SQLAlchemy is imported with the first listing page, not before

        return store_for(self.crawler)

    # -- discovery ------------------------------------------------------------

    async def start(self):
        # Restarted with the JOBDIR of a crawl that was killed: requests it had in flight are
        # lost, so walk every listing page again instead of stopping at the first one already stored.
        jobdir = job_dir(self.crawler.settings)
        seen = Path(jobdir, "requests.seen") if jobdir else None
        self.resuming = bool(seen and seen.exists() and seen.stat().st_size)
        if self.resuming:
            self.logger.info("Resuming the crawl in %s: every listing page is walked again", jobdir)
        if self.id_walks:
            for request in self._next_id_requests():
                yield request
            return
        for slug, url in self.listing_urls.items():
            yield Request(url, callback=self.parse_listing, errback=self.listing_failed,
                          cb_kwargs={"page": 1, "source": slug}, meta={PAGE_KIND: "listing"})

    def parse_listing(self, response: Response, page: int, source: str | None = None):
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value("newscrawl/listing/not_html")
            return
        # (No source: a listing request re-queued by the distributed reconcile; its URL names it.)
        source = source or _listing_source(response.url) or self.sources[0].slug
        self.crawler.stats.inc_value("newscrawl/listing/pages")
        entries = maghress.listing_entries(response, response.url, source)
        if not entries:
            self.crawler.stats.inc_value("newscrawl/listing/empty")
            self.logger.warning("Listing page %s holds no %s article link", response.url, source)
        too_old: set[str] = set()
        if self.since:
            for entry in entries:
                day = parse_date(entry.date_text) if entry.date_text else None
                if day is not None and _day(day) < self.since:
                    too_old.add(entry.ref.url)
        ticker = self._ticker_entries(response)
        stored = self._stored(entries) | self._stored(ticker, compare_headlines=False)
        for entry in entries:
            if entry.ref.url in too_old:
                self.crawler.stats.inc_value("newscrawl/skipped/before_since")
            elif entry.ref.url not in stored:
                yield self._article_request(entry.ref)
        yield from self._ticker_requests(ticker, stored)

        # Pagination: stop at the page limit, at the date limit, or when nothing is new.
        next_url = maghress.next_page(response, response.url)
        if not next_url:
            return
        if self.max_pages and page >= self.max_pages:
            self.logger.info("Stopping pagination of %s at page %d (max_pages)", source, page)
            return
        if self.since and entries and all(e.ref.url in too_old for e in entries):
            self.logger.info("Stopping pagination of %s at page %d: all its articles predate %s", source, page, self.since)
            return
        if not self.refresh and not self.resuming and entries and all(e.ref.url in stored for e in entries):
            self.logger.info("Stopping pagination of %s at page %d: all its articles are already stored", source, page)
            self.crawler.stats.set_value(f"newscrawl/listing/stopped_nothing_new/{source}", page)
            return
        yield Request(next_url, callback=self.parse_listing, errback=self.listing_failed,
                      cb_kwargs={"page": page + 1, "source": source}, meta={PAGE_KIND: "listing"})

    def listing_failed(self, failure: Failure):
        """A listing page failed: counted per source, and said plainly (a first page that fails is often a wrong slug)."""
        request = failure.request
        source, page = request.cb_kwargs.get("source"), request.cb_kwargs.get("page")
        self.crawler.stats.inc_value(f"newscrawl/listing/failed/{source}")
        hint = f" (is /fr/{source} the right Maghress section for this source?)" if page == 1 else ""
        self.logger.error("Listing page %d of %s (%s) failed: %s%s", page, source, request.url,
                          failure.getErrorMessage(), hint)

    def _ticker_entries(self, response: Response) -> list[maghress.ListingEntry]:
        """The ticker's links to the selected sources not seen on an earlier page of this run (the others are
        counted, not followed). Every page repeats much the same ticker: each link is looked up in the store once
        per run, not once per page."""
        entries = []
        for entry in maghress.ticker_links(response, response.url):
            if entry.ref.url in self._ticker_seen:
                continue
            self._ticker_seen.add(entry.ref.url)
            if entry.ref.source in self.selected:
                entries.append(entry)
            elif entry.ref.source not in SOURCES:
                self.crawler.stats.inc_value("newscrawl/ticker/unregistered_source")
        return entries

    def _ticker_requests(self, ticker: list[maghress.ListingEntry], stored: set[str]):
        for entry in ticker:
            if entry.ref.url not in stored:
                yield self._article_request(entry.ref)

    def _stored(self, entries: list[maghress.ListingEntry], compare_headlines: bool = True) -> set[str]:
        """URLs of ``entries`` already stored with the headline they show now: one indexed query.

        A listing entry whose headline differs from the one stored is left
        out, so the article is fetched again and its row updated (the
        ticker's headlines may be shortened: they are not compared). Nothing
        is "stored" when ``refresh`` asks to fetch everything.
        """
        if self.refresh or not entries:
            return set()
        known = self.article_store().known_urls(e.ref.url for e in entries)
        stored = set()
        for entry in entries:
            if entry.ref.url not in known or entry.ref.url in stored:
                continue
            stored_key = known[entry.ref.url]
            if not compare_headlines or stored_key is None or not entry.headline or title_key(entry.headline) == stored_key:
                stored.add(entry.ref.url)
                self.crawler.stats.inc_value("newscrawl/skipped/already_stored")
            else:
                self.crawler.stats.inc_value("newscrawl/refetch/headline_changed")
                self.logger.info("Headline of %s changed on Maghress: fetching it again", entry.ref.url)
        return stored

    def _article_request(self, ref: maghress.ArticleRef) -> Request:
        return Request(ref.url, callback=self.parse_article, meta={PAGE_KIND: "article"})

    # -- back-catalogue by id -------------------------------------------------------

    def _next_id_requests(self):
        """Requests for the next ids of every walk, skipping stored and known-missing ids, ``id_window`` in flight."""
        store = self.article_store()
        for slug, walk in self.id_walks.items():
            while not walk.done:
                ids = walk.take(self.id_window)
                if not ids:
                    break
                refs = {i: maghress.article_ref(f"{self.base_url}/fr/{slug}/{i}") for i in ids}
                urls = [r.url for r in refs.values()]
                stored = set() if self.refresh else set(store.known_urls(urls))
                missing = set() if self.refresh else store.missing_urls(urls)
                for maghress_id, ref in refs.items():
                    if ref.url in stored:
                        self.crawler.stats.inc_value("newscrawl/backfill/skipped_stored")
                        walk.record(maghress_id, True)
                    elif ref.url in missing:
                        self.crawler.stats.inc_value("newscrawl/backfill/skipped_missing")
                        walk.record(maghress_id, False)
                    else:
                        yield Request(ref.url, callback=self.parse_article, errback=self.id_failed,
                                      cb_kwargs={"backfill": (slug, maghress_id)},
                                      meta={PAGE_KIND: "article", "handle_httpstatus_list": [404, 410]})
            self._log_stopped(slug, walk)

    def _id_done(self, backfill: tuple[str, int], found: bool | None):
        slug, maghress_id = backfill
        self.id_walks[slug].record(maghress_id, found)
        yield from self._next_id_requests()

    def _log_stopped(self, slug: str, walk: IdWalk) -> None:
        while walk.stopped_ranges:
            low, high, last = walk.stopped_ranges.pop(0)
            self.crawler.stats.inc_value("newscrawl/backfill/ranges_stopped")
            self.logger.info("Back-catalogue %s %d-%d: stopped after id %d, %d consecutive ids not found",
                             slug, low, high, last, self.max_misses)

    def _record_missing(self, response: Response, backfill: tuple[str, int]) -> None:
        slug, maghress_id = backfill
        ref = maghress.article_ref(response.request.url)
        self.article_store().record_missing(ref.url, slug, maghress_id, response.status)
        self.crawler.stats.inc_value("newscrawl/backfill/not_found")

    def id_failed(self, failure: Failure):
        """An id's page failed (server error, network): not recorded as missing, tried again next run."""
        self.crawler.stats.inc_value(f"newscrawl/backfill/failed/{failure.type.__name__}")
        self.logger.warning("Back-catalogue page %s failed (%s)", failure.request.url, failure.getErrorMessage())
        yield from self._id_done(failure.request.cb_kwargs["backfill"], None)

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

    def parse_article(self, response: Response, backfill: tuple[str, int] | None = None):
        if backfill:
            # Not found, or sent elsewhere (a redirect away from any article page): a miss, recorded.
            if response.status in (404, 410) or maghress.article_ref(response.url) is None:
                self._record_missing(response, backfill)
                yield from self._id_done(backfill, False)
                return
            yield from self._id_done(backfill, True)
        response = self._readable(response, "article")
        if response is None:
            return
        self.crawler.stats.inc_value("newscrawl/article/pages")
        if not backfill:
            ticker = self._ticker_entries(response)
            yield from self._ticker_requests(ticker, self._stored(ticker, compare_headlines=False))
        raw = maghress.parse_article(response, response.url)
        source = self._identify_source(raw)
        raw["source"] = source.slug if source else raw["source"]
        raw["source_name"] = source.name if source else raw["source_name"]
        if self.since and (day := _first_day(raw["dates"])) and day < self.since:
            self.crawler.stats.inc_value("newscrawl/skipped/before_since")
            self.crawler.stats.inc_value("newscrawl/article/before_since")
            return
        link = raw.pop("source_link")
        if link and self._may_follow(link):
            raw["publisher_url"] = link  # the publisher URL is known even if its page fails
        if not link:
            self.crawler.stats.inc_value("newscrawl/source/no_link")
        elif not self.follow_source:
            self.crawler.stats.inc_value("newscrawl/source/not_followed")
        elif not self._may_follow(link):
            self.crawler.stats.inc_value("newscrawl/source/refused_host")
            self.logger.warning("Not following %s from %s: host not allowed", link, response.url)
        else:
            yield self._publisher_request(link, raw)
            return
        yield self._article(raw)

    def _identify_source(self, raw: dict[str, Any]) -> Source | None:
        """The article's source: the one its byline names ("Publié dans Le Matin le …"), else its URL's."""
        from_url = SOURCES.get(raw["source"])
        from_byline = source_named(raw["source_name"])
        if raw["source_name"] and from_byline is None:
            self.crawler.stats.inc_value("newscrawl/source/byline_unknown")
            self.logger.info("Byline of %s names %r, a source not in the registry", raw["url"], raw["source_name"])
        if from_byline and from_url and from_byline != from_url:
            self.crawler.stats.inc_value("newscrawl/source/byline_differs_from_url")
            self.logger.info("%s is under /fr/%s but its byline names %s", raw["url"], from_url.slug, from_byline.name)
        return from_byline or from_url

    def _article(self, maghress_raw: dict[str, Any], publisher: dict[str, Any] | None = None):
        article = build_article(maghress_raw, publisher)
        stats = self.crawler.stats
        stats.inc_value(f"newscrawl/articles/source/{article.get('source') or 'unknown'}")
        stats.inc_value(f"newscrawl/articles/extractor/{article.get('extractor') or 'maghress_only'}")
        return article

    def _may_follow(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and (parts.hostname or "").lower() in self.publisher_hosts

    # -- publisher pages, plain or rendered ------------------------------------------

    def render_mode(self, url: str) -> str:
        mode = self.render_modes.get((urlsplit(url).hostname or "").lower(), "never")
        # Set by the rendering add-on, which runs after the spider is created.
        if mode != "never" and not self.crawler.settings.get("NEWSCRAWL_BROWSER"):
            if not self._warned_no_browser:
                self.logger.warning("No Chromium found (NEWSCRAWL_BROWSER_PATH, or chromium on PATH): pages that "
                                    "need JavaScript are fetched plainly; their body may be missing")
                self._warned_no_browser = True
            return "never"
        return mode

    def _publisher_request(self, url: str, raw: dict[str, Any]) -> Request:
        rendered = self.render_mode(url) == "always"
        return Request(
            url,
            callback=self.parse_publisher,
            errback=self.publisher_failed,
            cb_kwargs={"maghress_raw": raw},
            meta={PAGE_KIND: "publisher", **({"playwright": True} if rendered else {})},
            # Two Maghress ids may point at one publisher page: each needs its answer.
            dont_filter=True,
        )

    def publisher_parser(self, url: str, source_slug: str) -> str:
        """Which parser reads a publisher page: the one of its host, else its source's, else the generic one.

        (On a mirror every publisher page has the mirror's host: the source's parser decides there.)
        """
        source = SOURCES.get(source_slug)
        return parser_for_host(urlsplit(url).hostname or "") or (source.parser if source else None) or GENERIC

    def parse_publisher(self, response: Response, maghress_raw: dict[str, Any], plain: dict | None = None):
        page = self._readable(response, "source")
        if page is None:
            yield self._article(maghress_raw, plain)
            return
        response = page
        self.crawler.stats.inc_value("newscrawl/source/pages")
        parser = self.publisher_parser(response.url, maghress_raw["source"])
        try:
            publisher = parser_module(parser).parse_article(response, response.url)
        except Exception:  # noqa: BLE001 - one odd page must not cost the article: the Maghress data stands
            self.crawler.stats.inc_value(f"newscrawl/publisher/{parser}/errors")
            self.logger.exception("Parser %s failed on %s; storing from Maghress", parser, response.url)
            yield self._article(maghress_raw, plain)
            return
        publisher["extractor"] = parser
        if response.meta.get("playwright"):
            self.crawler.stats.inc_value("newscrawl/render/rendered")
        else:
            self.crawler.stats.inc_value("newscrawl/render/plain")
            if self.render_mode(response.url) == "auto" and needs_rendering(
                publisher["body"], maghress_raw.get("body"), response.text
            ):
                self.crawler.stats.inc_value("newscrawl/render/needed")
                yield Request(
                    response.url,
                    callback=self.parse_publisher,
                    errback=self.render_failed,
                    cb_kwargs={"maghress_raw": maghress_raw, "plain": publisher},
                    meta={PAGE_KIND: "publisher", "playwright": True},
                    dont_filter=True,
                )
                return
        self._count_publisher_fields(parser, publisher)
        if plain and not publisher["body"]:
            publisher = {**publisher, "body": plain["body"]}
        yield self._article(maghress_raw, publisher)

    def _count_publisher_fields(self, parser: str, publisher: dict[str, Any]) -> None:
        """What each parser found on its pages: the layout alarm's per-publisher coverage."""
        stats = self.crawler.stats
        stats.inc_value(f"newscrawl/publisher/{parser}/pages")
        for field in PUBLISHER_WATCHED:
            if publisher.get(field):
                stats.inc_value(f"newscrawl/publisher/{parser}/found/{field}")

    def render_failed(self, failure: Failure):
        """The browser could not render the page: what the plain fetch gave stands."""
        request = failure.request
        self.crawler.stats.inc_value("newscrawl/render/failed")
        self.logger.warning("Rendering %s failed (%s); storing the plainly fetched page", request.url,
                            failure.getErrorMessage())
        yield self._article(request.cb_kwargs["maghress_raw"], request.cb_kwargs["plain"])

    def publisher_failed(self, failure: Failure):
        """The publisher page failed (HTTP error, network, refused): the Maghress data stands."""
        request = failure.request
        self.crawler.stats.inc_value(f"newscrawl/source/failed/{failure.type.__name__}")
        self.logger.warning("Publisher page %s failed (%s); storing from Maghress", request.url, failure.getErrorMessage())
        yield self._article(request.cb_kwargs["maghress_raw"])


def _listing_source(url: str) -> str | None:
    parts = urlsplit(url).path.strip("/").split("/")
    return parts[1].lower() if len(parts) >= 2 and parts[0] == "fr" else None


def _day(value) -> date:
    return value.date() if hasattr(value, "date") else value


def _first_day(texts: list[str]) -> date | None:
    for text in texts:
        if (value := parse_date(text)) is not None:
            return _day(value)
    return None
