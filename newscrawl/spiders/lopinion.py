"""``lopinion``: L'Opinion as republished by Maghress, enriched from lopinion.ma.

Discovery only: which URLs, in what order. What a page says is the site
parsers' business (``newscrawl.sites``), how values are normalised the item
loader's (``newscrawl.loaders``).

    listing /fr/lopinion ──► article pages /fr/lopinion/<id> ──► publisher page
        │   └─ ticker (every page) ──┘                              │ (or its failure)
        └─ next page (?page=N) until max_pages / since / nothing new  └─► one Article
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
from newscrawl.loaders import build_article
from newscrawl.normalize import parse_date, title_key
from newscrawl.rendering import RENDER_MODES, needs_rendering
from newscrawl.sites import lopinion as lopinion_site
from newscrawl.sites import maghress
from newscrawl.sources import SOURCES


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


def _parse_start_url(value: str) -> str:
    parts = urlsplit(str(value).strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SpiderArgumentError(f"start_url={value!r}: expected an http(s) URL of a Maghress listing")
    return parts.geturl()


class LopinionSpider(scrapy.Spider):
    name = "lopinion"
    source = SOURCES["lopinion"]
    default_start_url = "https://www.maghress.com/fr/lopinion"

    def __init__(
        self,
        start_url: str | None = None,
        max_pages: str | int | None = None,
        since: str | None = None,
        follow_source: str | bool = True,
        refresh: str | bool = False,
        *args: Any,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.start_url = _parse_start_url(start_url or self.default_start_url)
        self.max_pages = _parse_positive_int("max_pages", max_pages)
        self.since = _parse_since(since)
        self.follow_source = _parse_bool("follow_source", follow_source)
        self.refresh = _parse_bool("refresh", refresh)
        self.start_host = urlsplit(self.start_url).hostname or ""
        self.allowed_domains = sorted({"maghress.com", *self.source.publisher_hosts, self.start_host})

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
            raise SystemExit(f"lopinion: bad spider argument: {exc}") from None
        spider.render_modes = {h.lower(): m for h, m in crawler.settings.getdict("NEWSCRAWL_RENDER_MODES").items()}
        bad = {h: m for h, m in spider.render_modes.items() if m not in RENDER_MODES}
        if bad:
            raise SystemExit(f"lopinion: bad setting NEWSCRAWL_RENDER_MODES: {bad} (modes: {', '.join(RENDER_MODES)})")
        spider._warned_no_browser = False
        hosts = crawler.settings.getlist("NEWSCRAWL_PUBLISHER_HOSTS") or list(cls.source.publisher_hosts)
        spider.publisher_hosts = frozenset(h.lower() for h in hosts) | {spider.start_host}
        spider.allowed_domains = sorted(set(spider.allowed_domains) | set(hosts))
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
        yield Request(self.start_url, callback=self.parse_listing, cb_kwargs={"page": 1}, meta={PAGE_KIND: "listing"})

    def parse_listing(self, response: Response, page: int):
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value("newscrawl/listing/not_html")
            return
        self.crawler.stats.inc_value("newscrawl/listing/pages")
        entries = maghress.listing_entries(response, response.url, self.source.slug)
        if not entries:
            self.crawler.stats.inc_value("newscrawl/listing/empty")
            self.logger.warning("Listing page %s holds no %s article link", response.url, self.source.slug)
        too_old: set[str] = set()
        if self.since:
            for entry in entries:
                day = parse_date(entry.date_text) if entry.date_text else None
                if day is not None and _day(day) < self.since:
                    too_old.add(entry.ref.url)
        ticker = self._own_ticker_entries(response)
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
            self.logger.info("Stopping pagination at page %d (max_pages)", page)
            return
        if self.since and entries and all(e.ref.url in too_old for e in entries):
            self.logger.info("Stopping pagination at page %d: all its articles predate %s", page, self.since)
            return
        if not self.refresh and not self.resuming and entries and all(e.ref.url in stored for e in entries):
            self.logger.info("Stopping pagination at page %d: all its articles are already stored", page)
            self.crawler.stats.set_value("newscrawl/listing/stopped_nothing_new", page)
            return
        yield Request(next_url, callback=self.parse_listing, cb_kwargs={"page": page + 1}, meta={PAGE_KIND: "listing"})

    def _own_ticker_entries(self, response: Response) -> list[maghress.ListingEntry]:
        return [e for e in maghress.ticker_links(response, response.url) if e.ref.source == self.source.slug]

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

    def parse_article(self, response: Response):
        response = self._readable(response, "article")
        if response is None:
            return
        self.crawler.stats.inc_value("newscrawl/article/pages")
        ticker = self._own_ticker_entries(response)
        yield from self._ticker_requests(ticker, self._stored(ticker, compare_headlines=False))
        raw = maghress.parse_article(response, response.url)
        raw["source"] = raw["source"] or self.source.slug
        raw["source_name"] = self.source.name
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
        yield build_article(raw)

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

    def parse_publisher(self, response: Response, maghress_raw: dict[str, Any], plain: dict | None = None):
        page = self._readable(response, "source")
        if page is None:
            yield build_article(maghress_raw, plain)
            return
        response = page
        self.crawler.stats.inc_value("newscrawl/source/pages")
        publisher = lopinion_site.parse_article(response, response.url)
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
        if plain and not publisher["body"]:
            publisher = {**publisher, "body": plain["body"]}
        yield build_article(maghress_raw, publisher)

    def render_failed(self, failure: Failure):
        """The browser could not render the page: what the plain fetch gave stands."""
        request = failure.request
        self.crawler.stats.inc_value("newscrawl/render/failed")
        self.logger.warning("Rendering %s failed (%s); storing the plainly fetched page", request.url,
                            failure.getErrorMessage())
        yield build_article(request.cb_kwargs["maghress_raw"], request.cb_kwargs["plain"])

    def publisher_failed(self, failure: Failure):
        """The publisher page failed (HTTP error, network, refused): the Maghress data stands."""
        request = failure.request
        self.crawler.stats.inc_value(f"newscrawl/source/failed/{failure.type.__name__}")
        self.logger.warning("Publisher page %s failed (%s); storing from Maghress", request.url, failure.getErrorMessage())
        yield build_article(request.cb_kwargs["maghress_raw"])


def _day(value) -> date:
    return value.date() if hasattr(value, "date") else value


def _first_day(texts: list[str]) -> date | None:
    for text in texts:
        if (value := parse_date(text)) is not None:
            return _day(value)
    return None
