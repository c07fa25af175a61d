"""A crawl's arguments, typed and checked once: ``CrawlArgs``, from the spider's ``-a`` arguments and the settings.

A value the crawl cannot use stops it before the first request with one
clear line (``ArgumentError``; the spider turns it into exit status 1):
``max_pages='abc': expected a whole number of at least 1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import NotConfigured

from newscrawl.crawl.idranges import parse_ids
from newscrawl.schedule import RevisitSchedule
from newscrawl.sources import RENDER_MODES, SOURCES, Source, parse_source_list

DEFAULT_BASE_URL = "https://www.maghress.com"


class ArgumentError(NotConfigured):
    """A spider argument or setting with a value we cannot use: the crawl does not start."""


@dataclass(frozen=True)
class CrawlArgs:
    sources: tuple[Source, ...]
    base_url: str  # Maghress or a mirror: article pages are <base_url>/fr/<section>/<id>
    listing_urls: Mapping[str, str]  # per source slug: its first listing page
    max_pages: int | None
    since: date | None
    follow_source: bool
    refresh: bool
    id_ranges: tuple[tuple[int, int], ...] | None  # the back-catalogue: -a ids=…
    max_misses: int
    max_attempts: int
    render_modes: Mapping[str, str]  # publisher host -> never/auto/always
    publisher_hosts: frozenset[str]  # hosts a read-at-source link may be followed to
    revisit: RevisitSchedule  # NEWSCRAWL_REVISIT: when stored articles are fetched again (empty: never)
    revisit_limit: int  # NEWSCRAWL_REVISIT_LIMIT: revisits made per run at most

    @property
    def start_host(self) -> str:
        """The configured site's host (a mirror's may be internal)."""
        return urlsplit(self.base_url).hostname or ""

    @property
    def selected(self) -> frozenset[str]:
        return frozenset(s.slug for s in self.sources)

    @classmethod
    def parse(cls, args: Mapping[str, Any], settings, only: tuple[str, ...] = ()) -> CrawlArgs:
        """``args``: the spider's ``-a`` arguments; ``only``: the sources a one-source spider is limited to."""
        sources = _sources(args.get("sources"), only)
        base_url = _url("base_url", args.get("base_url") or DEFAULT_BASE_URL, "of Maghress or of a mirror").rstrip("/")
        listing_urls = {s.slug: f"{base_url}/fr/{s.slug}" for s in sources}
        if start_url := args.get("start_url"):
            if len(sources) != 1:
                raise ArgumentError(f"start_url={start_url!r}: only with a single source (use base_url for several)")
            listing_urls[sources[0].slug] = _url("start_url", start_url, "of a Maghress listing")
            if not args.get("base_url"):
                parts = urlsplit(listing_urls[sources[0].slug])
                base_url = f"{parts.scheme}://{parts.netloc}"
        start_host = urlsplit(base_url).hostname or ""
        ids = args.get("ids")
        id_ranges = None
        if ids not in (None, ""):
            try:
                id_ranges = tuple(parse_ids(ids))
            except ValueError as exc:
                raise ArgumentError(f"ids={ids!r}: {exc}") from None
        # Render modes: the registry's per publisher host, overridden by NEWSCRAWL_RENDER_MODES.
        render_modes = {h: s.render for s in SOURCES.values() for h in s.publisher_hosts}
        render_modes.update({h.lower(): m for h, m in settings.getdict("NEWSCRAWL_RENDER_MODES").items()})
        if bad := {h: m for h, m in render_modes.items() if m not in RENDER_MODES}:
            raise ArgumentError(f"setting NEWSCRAWL_RENDER_MODES: {bad} (modes: {', '.join(RENDER_MODES)})")
        # Publisher hosts: every registered source's (a byline may name a source outside the selection), or
        # NEWSCRAWL_PUBLISHER_HOSTS when set; the configured site's host always (a mirror serves them too).
        hosts = settings.getlist("NEWSCRAWL_PUBLISHER_HOSTS") or [h for s in SOURCES.values() for h in s.publisher_hosts]
        try:
            revisit = RevisitSchedule.parse(settings.get("NEWSCRAWL_REVISIT"))
        except ValueError as exc:
            raise ArgumentError(f"setting NEWSCRAWL_REVISIT: {exc}") from None
        revisit_limit = settings.get("NEWSCRAWL_REVISIT_LIMIT", 1000)
        if not str(revisit_limit).strip().isdigit():
            raise ArgumentError(f"setting NEWSCRAWL_REVISIT_LIMIT={revisit_limit!r}: expected a whole number (0: none)")
        return cls(
            sources=tuple(sources),
            base_url=base_url,
            listing_urls=MappingProxyType(listing_urls),
            max_pages=_positive_int("max_pages", args.get("max_pages")),
            since=_since(args.get("since")),
            follow_source=_bool("follow_source", args.get("follow_source", True)),
            refresh=_bool("refresh", args.get("refresh", False)),
            id_ranges=id_ranges,
            max_misses=_positive_int("max_misses", args.get("max_misses"))
            or settings.getint("NEWSCRAWL_BACKFILL_MAX_MISSES", 50),
            max_attempts=max(1, settings.getint("NEWSCRAWL_MAX_ATTEMPTS", 5)),
            render_modes=MappingProxyType(render_modes),
            publisher_hosts=frozenset(h.lower() for h in hosts) | {start_host},
            revisit=revisit,
            revisit_limit=int(str(revisit_limit).strip()),
        )


def _sources(value: Any, only: tuple[str, ...]) -> list[Source]:
    if only:
        if value not in (None, "", *only):
            names = ", ".join(SOURCES[s].name for s in only)
            raise ArgumentError(f"sources={value!r}: the {'/'.join(only)} spider crawls {names} only "
                                "(use `scrapy crawl maghress -a sources=…`)")
        return [SOURCES[s] for s in only]
    try:
        return parse_source_list(value)
    except ValueError as exc:
        raise ArgumentError(f"sources={value!r}: {exc}") from None


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ArgumentError(f"{name}={value!r}: expected true or false")


def _positive_int(name: str, value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ArgumentError(f"{name}={value!r}: expected a whole number of at least 1") from None
    if number < 1:
        raise ArgumentError(f"{name}={value!r}: expected a whole number of at least 1")
    return number


def _since(value: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ArgumentError(f"since={value!r}: expected a date as YYYY-MM-DD") from None


def _url(name: str, value: str, what: str) -> str:
    parts = urlsplit(str(value).strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ArgumentError(f"{name}={value!r}: expected an http(s) URL {what}")
    return parts.geturl()
