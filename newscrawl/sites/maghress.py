"""Maghress (https://www.maghress.com): article pages, source listings, the headline ticker.

Pure functions from a page (a Scrapy ``TextResponse`` or a parsel
``Selector`` with a base URL) to raw fields. Every selector of the site is
in ``SELECTORS``; each field tries its chain in order, so a layout change in
one place degrades to the next fallback instead of an empty column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from newscrawl.normalize import clean_text
from newscrawl.sites.common import Page, first, meta, paragraphs, text_of

# A ticker: any container whose class or id names a ticker, marquee or défilement.
_TICKER = (
    "contains(@class,'ticker') or contains(@id,'ticker') or contains(@class,'marquee')"
    " or contains(@id,'marquee') or contains(@class,'defil') or contains(@id,'defil') or self::marquee"
)

SELECTORS: dict[str, str] = {
    # Article page (classes of title, byline and body are observed on the live site).
    "title": "span.articletitle",
    "byline": "span.articlenewspaper",
    "byline_source_link": "span.articlenewspaper a",
    "body": "span.articlecontent",
    # The "read at source" link: by its text first, then by its typical attributes.
    "source_link_text": "//a[contains(normalize-space(.), 'lire l') and contains(., 'depuis sa source')]/@href",
    "source_link_attrs": "//span[contains(@class,'articlecontent')]/following::a[@rel='nofollow' and @target='_blank'][1]/@href",
    "ticker_links": f"//*[{_TICKER}]//a[@href]",
    # Listing page: article links outside the ticker.
    "listing_links": f"//a[@href][not(ancestor::*[{_TICKER}])]",
    "listing_next": "//a[@rel='next']/@href",
    "listing_next_text": "//a[normalize-space(.)='Suivant' or normalize-space(.)='»' or normalize-space(.)='Suivant »']/@href",
}

# The fallback chain of each field, as the layout-change alarm names them.
FALLBACKS = {
    "title": ["span.articletitle", "og:title", "<title>"],
    "published_date": ["span.articlenewspaper (Publié dans … le …)"],
    "body": ["span.articlecontent", "og:description"],
    "source_url": ["a 'Cliquez ici pour lire l'article depuis sa source'", "a[rel=nofollow][target=_blank] after the body"],
    "listing_links": ["a[href=/fr/<source>/<id>] outside the ticker", "ticker: *[class|id ~ ticker|marquee|defil] a"],
}

# Noise that sits among the article's text on the live page (image-report widget).
_NOISE = ("Merci d'avoir signalé", "Cette image sera automatiquement bloquée")

_ARTICLE_PATH = re.compile(r"^/fr/(?P<source>[a-z0-9_-]+)/(?P<id>\d+)/?$", re.IGNORECASE)
_BYLINE = re.compile(r"Publi[ée]e?\s+dans\s+(?P<name>.+?)\s+le\s+(?P<date>.+)$", re.IGNORECASE)
MAGHRESS_HOSTS = frozenset({"maghress.com", "www.maghress.com"})


@dataclass(frozen=True, slots=True)
class ArticleRef:
    """An article as a link names it: its canonical Maghress URL, source slug and id."""

    url: str
    source: str
    maghress_id: int


def article_ref(url: str) -> ArticleRef | None:
    """``ArticleRef`` of a Maghress article URL (``/fr/<source>/<id>``), else ``None``.

    ``maghress.com`` and ``www.maghress.com``, http and https, a trailing
    slash, a query or a fragment all name one article: the canonical form is
    ``https://www.maghress.com/fr/<source>/<id>``. Other hosts (mirrors) keep
    their scheme and host.
    """
    parts = urlsplit(url)
    m = _ARTICLE_PATH.match(parts.path)
    if not m or parts.scheme not in ("http", "https"):
        return None
    host = parts.netloc.lower()
    source = m.group("source").lower()
    path = f"/fr/{source}/{int(m.group('id'))}"
    if host in MAGHRESS_HOSTS:
        canonical = f"https://www.maghress.com{path}"
    else:
        canonical = urlunsplit((parts.scheme, host, path, "", ""))
    return ArticleRef(canonical, source, int(m.group("id")))


@dataclass(frozen=True, slots=True)
class ListingEntry:
    """An article link of a listing or of the ticker, with the headline it shows."""

    ref: ArticleRef
    headline: str
    date_text: str = ""  # a date printed beside the link, when the listing shows one


def ticker_links(page: Page, base_url: str) -> list[ListingEntry]:
    """Article links of the headline ticker, every source, in page order, once each."""
    entries: dict[str, ListingEntry] = {}
    for link in page.xpath(SELECTORS["ticker_links"]):
        ref = article_ref(urljoin(base_url, link.attrib["href"].strip()))
        if ref and ref.url not in entries:
            entries[ref.url] = ListingEntry(ref, clean_text(link.xpath("string()").get()))
    return list(entries.values())


def listing_entries(page: Page, base_url: str, source: str) -> list[ListingEntry]:
    """The listing's own article links (not the ticker's), for one source."""
    entries: dict[str, ListingEntry] = {}
    for link in page.xpath(SELECTORS["listing_links"]):
        ref = article_ref(urljoin(base_url, link.attrib["href"].strip()))
        if not ref or ref.source != source or ref.url in entries:
            continue
        # The nearest list item or block around the link may print a date.
        holder = link.xpath("ancestor::*[self::li or self::article or self::div][1]")
        around = clean_text(holder[0].xpath("string()").get()) if holder else ""
        headline = clean_text(link.xpath("string()").get())
        date_text = around.replace(headline, " ", 1) if headline else around
        entries[ref.url] = ListingEntry(ref, headline, date_text)
    return list(entries.values())


def next_page(page: Page, base_url: str) -> str | None:
    """The URL of the next (older) listing page, or ``None`` on the last one."""
    href, _ = first(
        page,
        (
            ("rel=next", lambda p: p.xpath(SELECTORS["listing_next"]).get()),
            ("Suivant/»", lambda p: p.xpath(SELECTORS["listing_next_text"]).get()),
        ),
    )
    return urljoin(base_url, href.strip()) if href else None


# ---------------------------------------------------------------------------
# Article page fields: each a small named function with its fallback chain.
# ---------------------------------------------------------------------------


def title(page: Page) -> tuple[str, str]:
    return first(
        page,
        (
            ("span.articletitle", lambda p: text_of(p.css(SELECTORS["title"]))),
            ("og:title", lambda p: meta(p, "og:title")),
            ("<title>", lambda p: text_of(p.css("title"))),
        ),
    )


def byline(page: Page) -> tuple[str, str]:
    """``(source name, date text)`` from "Publié dans L'opinion le 26 - 01 - 2021"."""
    text = text_of(page.css(SELECTORS["byline"]))
    m = _BYLINE.search(text)
    if m:
        return m.group("name").strip(), m.group("date").strip()
    linked = text_of(page.css(SELECTORS["byline_source_link"]))
    return linked, text


def body(page: Page) -> tuple[list[str], str]:
    found, via = first(
        page,
        (
            ("span.articlecontent", lambda p: paragraphs(p.css(SELECTORS["body"]))),
            ("og:description", lambda p: [meta(p, "og:description")] if meta(p, "og:description") else []),
        ),
    )
    return [p for p in (found or []) if not p.startswith(_NOISE)], via


def source_link(page: Page, base_url: str) -> str:
    href, _ = first(
        page,
        (
            ("link text", lambda p: p.xpath(SELECTORS["source_link_text"]).get()),
            ("nofollow link after body", lambda p: p.xpath(SELECTORS["source_link_attrs"]).get()),
        ),
    )
    if not href:
        return ""
    url = urljoin(base_url, href.strip())
    return url if urlsplit(url).scheme in ("http", "https") else ""


def canonical_url(page: Page, url: str) -> str:
    """The page's canonical link when it names a Maghress article, else its own URL."""
    for candidate in (page.xpath("//link[@rel='canonical']/@href").get(), meta(page, "og:url")):
        if candidate and (ref := article_ref(urljoin(url, candidate.strip()))):
            return ref.url
    ref = article_ref(url)
    return ref.url if ref else url


def parse_article(page: Page, url: str) -> dict[str, Any]:
    """Raw fields of a Maghress article page, plus ``_via``: which selector gave each field."""
    canonical = canonical_url(page, url)
    ref = article_ref(canonical)
    title_text, title_via = title(page)
    source_name, date_text = byline(page)
    paragraphs_, body_via = body(page)
    return {
        "url": canonical,
        "maghress_id": ref.maghress_id if ref else None,
        "source": ref.source if ref else "",
        "source_name": source_name,
        "title": title_text or "",
        "body": paragraphs_,
        "dates": [date_text] if date_text else [],
        "source_link": source_link(page, url),
        "_via": {"title": title_via, "body": body_via},
    }
