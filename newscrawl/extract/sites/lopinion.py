"""L'Opinion (https://www.lopinion.ma): the publisher's article page.

The publisher page is the authority for the canonical URL, full body, lead,
authors, precise publication time, language and image. Observed markup:
``#z_col1``, title ``div.titre > h1``, lead ``div.chapeau > h3``, body
``div.texte``; expected too: ``article:published_time``, JSON-LD
``NewsArticle`` and a visible "Rédigé par … le …" line.
"""

from __future__ import annotations

import re
from typing import Any

from newscrawl.extract.sites.common import (
    HTML_TITLE, JSONLD_AUTHORS, JSONLD_BODY, JSONLD_HEADLINE, JSONLD_IMAGE, META_AUTHOR, OG_IMAGE, OG_TITLE, Page,
    absolute, first, metadata_dates, paragraphs, publisher_fields, text_of,
)

SELECTORS: dict[str, str] = {
    "title": "div.titre h1",
    "lead": "div.chapeau h3",
    "lead_block": "div.chapeau",
    "body": "div.texte",
    "article": "#z_col1",
    # "Rédigé par Omar ASSIF le Dimanche 8 Juin 2025"; English edition: "by A.K on 24/11/2024 at 12h06".
    "byline": (
        "//*[starts-with(normalize-space(text()), 'Rédigé par') or starts-with(normalize-space(text()), 'by ')"
        " or starts-with(normalize-space(text()), 'By ') or starts-with(normalize-space(text()), 'Por ')]"
    ),
    "image": "#z_col1 img[src*='/photo/art/']::attr(src)",
}

HOSTS = ("lopinion.ma", "www.lopinion.ma")

# The fallback chain of each field, as the layout-change alarm names them.
FALLBACKS = {
    "title": ["div.titre h1", "og:title", "json-ld headline", "<title>"],
    "body": ["div.texte", "json-ld articleBody"],
    "authors": ["json-ld author", "meta author", "'Rédigé par … le …'"],
    "published_date": ["article:published_time", "json-ld datePublished", "time[datetime]", "'Rédigé par … le …'"],
    "source_url": ["link[rel=canonical]", "og:url", "the page's URL"],
}

_BYLINE = re.compile(
    r"(?:R[ée]dig[ée]\s+par|by|por)\s+(?P<authors>.+?)\s+(?:le|on|el)\s+(?P<date>.+)$", re.IGNORECASE
)


def _byline(page: Page) -> tuple[str, str]:
    """``(authors, date text)`` of "Rédigé par Omar ASSIF le Dimanche 8 Juin 2025"."""
    m = _BYLINE.search(text_of(page.xpath(SELECTORS["byline"])))
    return (m.group("authors"), m.group("date")) if m else ("", "")


def title(page: Page) -> tuple[str, str]:
    return first(page, (("div.titre h1", lambda p: text_of(p.css(SELECTORS["title"]))), OG_TITLE, JSONLD_HEADLINE, HTML_TITLE))


def lead(page: Page) -> tuple[str, str]:
    return first(
        page,
        (
            ("div.chapeau h3", lambda p: text_of(p.css(SELECTORS["lead"]))),
            ("div.chapeau", lambda p: text_of(p.css(SELECTORS["lead_block"]))),
        ),
    )


def body(page: Page) -> tuple[list[str], str]:
    return first(page, (("div.texte", lambda p: paragraphs(p.css(SELECTORS["body"]))), JSONLD_BODY))


def authors(page: Page) -> tuple[list[str], str]:
    return first(
        page, (JSONLD_AUTHORS, META_AUTHOR, ("Rédigé par", lambda p: [_byline(p)[0]] if _byline(p)[0] else []))
    )


def dates(page: Page) -> list[str]:
    """Every publication-date candidate, most precise first (the loader takes the first it can read)."""
    return [*metadata_dates(page), *filter(None, [_byline(page)[1]])]


def image_url(page: Page, url: str) -> str:
    found, _ = first(page, (OG_IMAGE, JSONLD_IMAGE, ("#z_col1 photo", lambda p: p.css(SELECTORS["image"]).get())))
    return absolute(url, found)


def parse_article(page: Page, url: str, site_names: tuple[str, ...] = ()) -> dict[str, Any]:
    """Raw fields of a lopinion.ma article page, plus ``_via``: which selector gave each field."""
    return publisher_fields(page, url, title=title, lead=lead, body=body, authors=authors, dates=dates,
                            image_url=image_url)
