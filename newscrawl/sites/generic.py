"""The generic extractor: any publisher page, for a source without a parser of its own.

Well-kept libraries do the reading: trafilatura finds the article's text
among the navigation, sidebars and comments; the page's own metadata
(JSON-LD, Open Graph, ``<meta>``) gives title, authors and image; dates
come from the metadata, then htmldate's search of the page. What it cannot
find stays empty, and the Maghress page's value stands for it. Articles it
filled are marked (``extractor = generic``, ``generic_fields`` names the
fields it supplied) so users can tell them from a dedicated parser's.

trafilatura and htmldate are imported on first use: a crawl whose sources
all have parsers never loads them.
"""

from __future__ import annotations

import re
from typing import Any

from newscrawl.normalize import clean_text, title_key
from newscrawl.sites.common import (
    HTML_TITLE, JSONLD_AUTHORS, JSONLD_BODY, JSONLD_HEADLINE, JSONLD_IMAGE, META_AUTHOR, OG_IMAGE, OG_TITLE, Page,
    absolute, first, metadata_dates, publisher_fields, text_of,
)

SELECTORS: dict[str, str] = {
    "title_h1": "h1",
}

FALLBACKS = {
    "title": ["og:title", "json-ld headline", "first h1", "<title>"],
    "body": ["trafilatura", "json-ld articleBody (also when twice as long)"],
    "authors": ["json-ld author", "meta author", "trafilatura metadata"],
    "published_date": ["article:published_time", "json-ld datePublished", "time[datetime]", "htmldate"],
    "source_url": ["link[rel=canonical]", "og:url", "the page's URL"],
}


def _html(page: Page) -> str:
    return page.text if hasattr(page, "text") else page.get()


def _page_url(page: Page) -> str | None:
    return getattr(page, "url", None)


# "Title | Site", "Title – Site", "Title — Site": the site's name after a bar or a dash with spaces.
# (Not " - ": titles use hyphens themselves, "Maroc-USA", "post-Covid".)
_SITE_SUFFIX = re.compile(r"\s+[|–—]\s+[^|–—]{2,60}$")


def _without_site_name(step):
    name, function = step
    return name, lambda p: _SITE_SUFFIX.sub("", function(p) or "")


def title(page: Page) -> tuple[str, str]:
    chain = (OG_TITLE, JSONLD_HEADLINE, ("first h1", lambda p: text_of(p.css(SELECTORS["title_h1"]))), HTML_TITLE)
    return first(page, [_without_site_name(step) for step in chain])


def lead(page: Page) -> tuple[str, str]:
    return "", ""  # a lead cannot be told from a first paragraph without the site's markup


def _trafilatura_body(page: Page) -> list[str]:
    import trafilatura  # noqa: PLC0415  (lazy: see the module docstring)

    text = trafilatura.extract(
        _html(page), url=_page_url(page), output_format="txt", include_comments=False, include_tables=False,
        include_images=False, favor_precision=True, deduplicate=False, with_metadata=False,
    )
    # trafilatura's output is text: cleaned as text (a "<" in it is a character, not a tag).
    return [line for line in (clean_text(x, markup=False) for x in (text or "").splitlines()) if line]


def body(page: Page) -> tuple[list[str], str]:
    found, via = _trafilatura_body(page), "trafilatura"
    # Without trafilatura's text, or when the HTML is a shell (a JavaScript front end, "Chargement…")
    # whose JSON-LD carries the whole text: the longer of the two is the article.
    declared = JSONLD_BODY[1](page)
    if sum(map(len, declared)) > 2 * sum(map(len, found)):
        found, via = declared, JSONLD_BODY[0]
    if not found:
        via = ""
    # trafilatura keeps the article's heading as its first line: the title is a field of its own.
    heading = title_key(title(page)[0])
    if found and heading and title_key(found[0]) == heading:
        found = found[1:]
    return found or [], via


def _trafilatura_authors(page: Page) -> list[str]:
    """Authors trafilatura's metadata search finds in the markup ("Par …" in a byline-like element)."""
    from trafilatura import extract_metadata  # noqa: PLC0415

    document = extract_metadata(_html(page), default_url=_page_url(page))
    found = (document.author or "") if document else ""
    return [name.strip() for name in found.split(";") if name.strip()]


def authors(page: Page) -> tuple[list[str], str]:
    return first(page, (JSONLD_AUTHORS, META_AUTHOR, ("trafilatura metadata", _trafilatura_authors)))


def _htmldate(page: Page) -> str:
    from htmldate import find_date  # noqa: PLC0415

    try:
        # The URL first (".../2025/12/05/slug/"), then the page's markup and text.
        return find_date(_html(page), url=_page_url(page), original_date=True, extensive_search=True,
                         outputformat="%Y-%m-%d") or ""
    except Exception:  # noqa: BLE001 - htmldate on a malformed page: no date, the Maghress one stands
        return ""


def dates(page: Page) -> list[str]:
    """The page's declared dates; only without any, htmldate's search of the whole page."""
    return metadata_dates(page) or list(filter(None, [_htmldate(page)]))


def image_url(page: Page, url: str) -> str:
    found, _ = first(page, (OG_IMAGE, JSONLD_IMAGE))
    return absolute(url, found)


def parse_article(page: Page, url: str) -> dict[str, Any]:
    """Raw fields of any article page, plus ``_via``: which step gave each field."""
    return publisher_fields(page, url, title=title, lead=lead, body=body, authors=authors, dates=dates,
                            image_url=image_url)
