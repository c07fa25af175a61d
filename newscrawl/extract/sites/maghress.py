"""Maghress (https://www.maghress.com): article pages, source listings, the headline ticker.

Pure functions from a page (a Scrapy ``TextResponse`` or a parsel
``Selector`` with a base URL) to raw fields. Each field's fallback chain is
written once, below (steps named by their selectors), tried in order, so a
layout change in one place degrades to the next fallback instead of an empty
column; ``FALLBACKS``, the layout alarm's labels, comes from the chains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from newscrawl.identity.keys import MAGHRESS_HOSTS, ArticleKey, article_key, maghress_url
from newscrawl.normalize import clean_text
from newscrawl.extract.sites.common import Page, Step, css_paragraphs, css_text, first, meta, text_of, xpath_value

# A ticker: any container whose class or id names a ticker, marquee or défilement.
# (The first test only skips the elements that have neither class nor id: the ticker is looked for on
# every article page, and six contains() on every element cost more than the rest of the page's selectors.)
_TICKER = (
    "(@class or @id or self::marquee) and (contains(@class,'ticker') or contains(@id,'ticker')"
    " or contains(@class,'marquee') or contains(@id,'marquee') or contains(@class,'defil') or contains(@id,'defil')"
    " or self::marquee)"
)

# Listing pages: article links outside the ticker, and the ticker's.
LISTING_LINKS = f"//a[@href][not(ancestor::*[{_TICKER}])]"
TICKER_LINKS = f"//*[{_TICKER}]//a[@href]"
TICKER_BLOCKS = f"//*[{_TICKER}][not(ancestor::*[{_TICKER}])]"
# The next (older) listing page.
NEXT_PAGE: tuple[Step, ...] = (
    xpath_value("//a[@rel='next']/@href"),
    xpath_value("//a[normalize-space(.)='Suivant' or normalize-space(.)='»' or normalize-space(.)='Suivant »']/@href"),
)

# Article page (the classes of title, byline and body are observed on the live site).
_BYLINE_NODE = "span.articlenewspaper"
_BYLINE_LINK = "span.articlenewspaper a"
TITLE: tuple[Step, ...] = (css_text("span.articletitle"), ("og:title", lambda p: meta(p, "og:title")),
                           ("<title>", lambda p: text_of(p.css("title"))))
BODY: tuple[Step, ...] = (
    css_paragraphs("span.articlecontent"),
    ("og:description", lambda p: [meta(p, "og:description")] if meta(p, "og:description") else []),
)
# The "read at source" link: by its text first, then by its typical attributes.
SOURCE_LINK: tuple[Step, ...] = (
    xpath_value("//a[contains(normalize-space(.), 'lire l') and contains(., 'depuis sa source')]/@href"),
    xpath_value("//span[contains(@class,'articlecontent')]/following::a[@rel='nofollow' and @target='_blank'][1]/@href"),
)

# The fallback chain of each field, as the layout-change alarm names them.
FALLBACKS = {
    "title": [name for name, _ in TITLE],
    "published_date": [f"{_BYLINE_NODE} (Publié dans … le …)"],
    "body": [name for name, _ in BODY],
    "source_url": [name for name, _ in SOURCE_LINK],
    "listing_links": [LISTING_LINKS, TICKER_LINKS],
}

# Noise that sits among the article's text on the live page (image-report widget).
_NOISE = ("Merci d'avoir signalé", "Cette image sera automatiquement bloquée")

_BYLINE = re.compile(r"Publi[ée]e?\s+dans\s+(?P<name>.+?)\s+le\s+(?P<date>.+)$", re.IGNORECASE)
# A byline is a line: the regex reads no more of the node's text than this. (Its lazy name scans to the end
# from every "Publié dans" that no " le " follows: quadratic in the text it is given.)
BYLINE_MAX_CHARS = 300


@dataclass(frozen=True, slots=True)
class ArticleRef:
    """An article as a link names it: its key (section, Maghress id) and the URL it was seen at.

    ``url`` is the link in one form per key and host (``keys.maghress_url``):
    production Maghress links become ``https://www.maghress.com/fr/<section>/<id>``,
    a mirror's keep its host. Identity is ``key``, never ``url``.
    """

    key: ArticleKey
    url: str

    @property
    def source(self) -> str:
        return self.key.section

    @property
    def maghress_id(self) -> int:
        return self.key.maghress_id


def article_ref(url: str) -> ArticleRef | None:
    """``ArticleRef`` of a Maghress article URL (``/fr/<section>/<id>``, with or without a slug), else ``None``."""
    key = article_key(url)
    if key is None or urlsplit(url).scheme not in ("http", "https"):
        return None
    return ArticleRef(key, maghress_url(key, url))


@dataclass(frozen=True, slots=True)
class ListingEntry:
    """An article link of a listing or of the ticker, with the headline it shows."""

    ref: ArticleRef
    headline: str
    date_text: str = ""  # a date printed beside the link, when the listing shows one


def ticker_markup(page: Page) -> str:
    """The ticker's markup, its blocks in page order: two pages with equal markup have one ticker."""
    return "".join(page.xpath(TICKER_BLOCKS).getall())


def ticker_links(page: Page, base_url: str) -> list[ListingEntry]:
    """Article links of the headline ticker, every source, in page order, once each."""
    entries: dict[ArticleKey, ListingEntry] = {}
    for link in page.xpath(TICKER_LINKS):
        ref = article_ref(urljoin(base_url, link.attrib["href"].strip()))
        if ref and ref.key not in entries:
            entries[ref.key] = ListingEntry(ref, clean_text(link.xpath("string()").get(), markup=False))
    return list(entries.values())


def listing_entries(page: Page, base_url: str, source: str) -> list[ListingEntry]:
    """The listing's own article links (not the ticker's), for one source."""
    entries: dict[ArticleKey, ListingEntry] = {}
    for link in page.xpath(LISTING_LINKS):
        ref = article_ref(urljoin(base_url, link.attrib["href"].strip()))
        if not ref or ref.source != source or ref.key in entries:
            continue
        # The nearest list item or block around the link may print a date.
        holder = link.xpath("ancestor::*[self::li or self::article or self::div][1]")
        # XPath string() is the DOM's text: entities decoded, no markup left.
        around = clean_text(holder[0].xpath("string()").get(), markup=False) if holder else ""
        headline = clean_text(link.xpath("string()").get(), markup=False)
        date_text = around.replace(headline, " ", 1) if headline else around
        entries[ref.key] = ListingEntry(ref, headline, date_text)
    return list(entries.values())


def next_page(page: Page, base_url: str) -> str | None:
    """The URL of the next (older) listing page, or ``None`` on the last one."""
    href, _ = first(page, NEXT_PAGE)
    return urljoin(base_url, href.strip()) if href else None


# ---------------------------------------------------------------------------
# Article page fields: each a small named function with its fallback chain.
# ---------------------------------------------------------------------------


def title(page: Page) -> tuple[str, str]:
    return first(page, TITLE)


def byline(page: Page) -> tuple[str, str]:
    """``(source name, date text)`` from "Publié dans L'opinion le 26 - 01 - 2021"."""
    text = text_of(page.css(_BYLINE_NODE))[:BYLINE_MAX_CHARS]
    m = _BYLINE.search(text)
    if m:
        return m.group("name").strip(), m.group("date").strip()
    linked = text_of(page.css(_BYLINE_LINK))
    return linked, text


def body(page: Page) -> tuple[list[str], str]:
    found, via = first(page, BODY)
    return [p for p in (found or []) if not p.startswith(_NOISE)], via


def source_link(page: Page, base_url: str) -> str:
    href, _ = first(page, SOURCE_LINK)
    if not href:
        return ""
    url = urljoin(base_url, href.strip())
    return url if urlsplit(url).scheme in ("http", "https") else ""


def canonical_url(page: Page, url: str) -> str:
    """The URL to keep for the article at ``url``: its canonical link when that names the same article
    (on a mirror, the production URL), else its own URL in its one form.

    A canonical link that names *another* article (or none), or that sits on another host than Maghress's or
    the page's own, is not followed: identity is the key of the page that was fetched.
    """
    own = article_key(url)
    hosts = {*MAGHRESS_HOSTS, (urlsplit(url).hostname or "").lower()}  # never another host's address
    for candidate in (page.xpath("//link[@rel='canonical']/@href").get(), meta(page, "og:url")):
        if not candidate:
            continue
        absolute_url = urljoin(url, candidate.strip())
        if ((urlsplit(absolute_url).hostname or "").lower() in hosts and (ref := article_ref(absolute_url))
                and (own is None or ref.key == own)):
            return ref.url
    ref = article_ref(url)
    return ref.url if ref else url


def parse_article(page: Page, url: str) -> dict[str, Any]:
    """Raw fields of a Maghress article page, plus ``_via``: which selector gave each field."""
    canonical = canonical_url(page, url)
    key = article_key(url) or article_key(canonical)
    title_text, title_via = title(page)
    source_name, date_text = byline(page)
    paragraphs_, body_via = body(page)
    return {
        "url": canonical,
        "maghress_id": key.maghress_id if key else None,
        "source": key.section if key else "",
        "source_name": source_name,
        "title": title_text or "",
        "body": paragraphs_,
        "dates": [date_text] if date_text else [],
        "source_link": source_link(page, url),
        "_via": {"title": title_via, "body": body_via},
    }
