"""Le Matin (https://lematin.ma): the publisher's article page.

Modelled from what is known of the live site: article URLs
``/<rubrique>/<slug>/<numeric id>``, listings of ``a.article-title`` with a
``div.article-desc`` summary; article pages carry the same class names
(``h1.article-title``, ``.article-desc`` as the lead), the body in
``div.article-body``, a byline "Par <name>" and a date printed
"09/12/2025 à 10:15" (or "09 Décembre 2025"), plus JSON-LD ``NewsArticle``
and Open Graph tags.
"""

from __future__ import annotations

import re
from typing import Any

from newscrawl.extract.sites.common import (
    HTML_TITLE, JSONLD_AUTHORS, JSONLD_BODY, JSONLD_HEADLINE, JSONLD_IMAGE, META_AUTHOR, OG_IMAGE, OG_TITLE, Page,
    absolute, first, metadata_dates, paragraphs, publisher_fields, text_of,
)

SELECTORS: dict[str, str] = {
    "title": "h1.article-title",
    "title_any": "article h1",
    "lead": ".article-desc",
    "body": "div.article-body",
    "author": ".article-author a, .article-author",
    "date": ".article-date",
    "image": "figure.article-image img::attr(src)",
}

HOSTS = ("lematin.ma", "www.lematin.ma")

FALLBACKS = {
    "title": ["h1.article-title", "article h1", "og:title", "json-ld headline", "<title>"],
    "body": ["div.article-body", "json-ld articleBody"],
    "authors": ["json-ld author", ".article-author", "meta author"],
    "published_date": ["article:published_time", "json-ld datePublished", "time[datetime]", ".article-date"],
    "source_url": ["link[rel=canonical]", "og:url", "the page's URL"],
}

_PAR = re.compile(r"^\s*(?:par|by)\s+", re.IGNORECASE)
_PUBLISHED = re.compile(r"^\s*(?:publi[ée]\s+)?(?:le\s+)?", re.IGNORECASE)


def title(page: Page) -> tuple[str, str]:
    return first(
        page,
        (
            ("h1.article-title", lambda p: text_of(p.css(SELECTORS["title"]))),
            ("article h1", lambda p: text_of(p.css(SELECTORS["title_any"]))),
            OG_TITLE, JSONLD_HEADLINE, HTML_TITLE,
        ),
    )


def lead(page: Page) -> tuple[str, str]:
    return first(page, ((".article-desc", lambda p: text_of(p.css(SELECTORS["lead"]))),))


def body(page: Page) -> tuple[list[str], str]:
    return first(page, (("div.article-body", lambda p: paragraphs(p.css(SELECTORS["body"]))), JSONLD_BODY))


def _printed_author(page: Page) -> list[str]:
    name = _PAR.sub("", text_of(page.css(SELECTORS["author"])))
    return [name] if name else []


def authors(page: Page) -> tuple[list[str], str]:
    return first(page, (JSONLD_AUTHORS, (".article-author", _printed_author), META_AUTHOR))


def dates(page: Page) -> list[str]:
    """Publication-date candidates, most precise first: metadata, then the printed "Publié le …"."""
    printed = _PUBLISHED.sub("", text_of(page.css(SELECTORS["date"])))
    return [*metadata_dates(page), *filter(None, [printed])]


def image_url(page: Page, url: str) -> str:
    found, _ = first(page, (OG_IMAGE, JSONLD_IMAGE, ("figure.article-image", lambda p: p.css(SELECTORS["image"]).get())))
    return absolute(url, found)


def parse_article(page: Page, url: str, site_names: tuple[str, ...] = ()) -> dict[str, Any]:
    """Raw fields of a lematin.ma article page, plus ``_via``: which selector gave each field."""
    return publisher_fields(page, url, title=title, lead=lead, body=body, authors=authors, dates=dates,
                            image_url=image_url)
