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
from urllib.parse import urljoin

from newscrawl.normalize import clean_text
from newscrawl.sites.common import Page, first, jsonld_value, meta, names, paragraphs, text_of, url_of

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
    "time": "time[datetime]::attr(datetime)",
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
    return first(
        page,
        (
            ("div.titre h1", lambda p: text_of(p.css(SELECTORS["title"]))),
            ("og:title", lambda p: meta(p, "og:title")),
            ("json-ld headline", lambda p: clean_text(jsonld_value(p, "headline"))),
            ("<title>", lambda p: text_of(p.css("title"))),
        ),
    )


def lead(page: Page) -> tuple[str, str]:
    return first(
        page,
        (
            ("div.chapeau h3", lambda p: text_of(p.css(SELECTORS["lead"]))),
            ("div.chapeau", lambda p: text_of(p.css(SELECTORS["lead_block"]))),
        ),
    )


def body(page: Page) -> tuple[list[str], str]:
    return first(
        page,
        (
            ("div.texte", lambda p: paragraphs(p.css(SELECTORS["body"]))),
            ("json-ld articleBody", lambda p: _split(jsonld_value(p, "articleBody"))),
        ),
    )


def _split(text: Any) -> list[str]:
    return [t for t in (clean_text(x) for x in re.split(r"\n\s*\n|\r\n\r\n", text)) if t] if isinstance(text, str) else []


def authors(page: Page) -> tuple[list[str], str]:
    return first(
        page,
        (
            ("json-ld author", lambda p: names(jsonld_value(p, "author"))),
            ("meta author", lambda p: [meta(p, "author")] if meta(p, "author") else []),
            ("Rédigé par", lambda p: [_byline(p)[0]] if _byline(p)[0] else []),
        ),
    )


def dates(page: Page) -> list[str]:
    """Every publication-date candidate, most precise first (the loader takes the first it can read)."""
    candidates = [
        meta(page, "article:published_time"),
        clean_text(jsonld_value(page, "datePublished")),
        clean_text(page.css(SELECTORS["time"]).get()),
        _byline(page)[1],
    ]
    return [c for c in candidates if c]


def language(page: Page) -> tuple[str, str]:
    return first(
        page,
        (
            ("<html lang>", lambda p: clean_text(p.xpath("/html/@lang").get())),
            ("json-ld inLanguage", lambda p: clean_text(jsonld_value(p, "inLanguage"))),
            ("og:locale", lambda p: meta(p, "og:locale")),
        ),
    )


def canonical_url(page: Page, url: str) -> str:
    found, _ = first(
        page,
        (
            ("link canonical", lambda p: p.xpath("//link[@rel='canonical']/@href").get()),
            ("og:url", lambda p: meta(p, "og:url")),
        ),
    )
    return urljoin(url, found.strip()) if found else url


def image_url(page: Page, url: str) -> str:
    found, _ = first(
        page,
        (
            ("og:image", lambda p: meta(p, "og:image")),
            ("json-ld image", lambda p: url_of(jsonld_value(p, "image"))),
            ("#z_col1 photo", lambda p: p.css(SELECTORS["image"]).get()),
        ),
    )
    return urljoin(url, found.strip()) if found else ""


def parse_article(page: Page, url: str) -> dict[str, Any]:
    """Raw fields of a lopinion.ma article page, plus ``_via``: which selector gave each field."""
    title_text, title_via = title(page)
    lead_text, _ = lead(page)
    body_paragraphs, body_via = body(page)
    author_names, _ = authors(page)
    lang, _ = language(page)
    return {
        "source_url": canonical_url(page, url),
        "title": title_text or "",
        "lead": lead_text or "",
        "body": body_paragraphs or [],
        "authors": author_names or [],
        "dates": dates(page),
        "language": lang or "",
        "image_url": image_url(page, url),
        "_via": {"title": title_via, "body": body_via},
    }
