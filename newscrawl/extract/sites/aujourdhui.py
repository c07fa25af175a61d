"""Aujourd'hui le Maroc (https://aujourdhui.ma): the publisher's article page.

The site runs WordPress (its images live under ``/wp-content/uploads/``, its
feed at ``/feed``), so its article pages follow the WordPress theme
conventions this parser reads: ``h1.entry-title``, ``div.entry-content``,
``time.entry-date[datetime]``, ``.author.vcard``, Yoast's JSON-LD ``@graph``
and Open Graph tags. Sharing and "related posts" blocks inside the content
are left out.
"""

from __future__ import annotations

from typing import Any

from newscrawl.extract.sites.common import (
    HTML_TITLE, JSONLD_AUTHORS, JSONLD_BODY, JSONLD_HEADLINE, JSONLD_IMAGE, META_AUTHOR, OG_IMAGE, OG_TITLE, Page,
    absolute, first, metadata_dates, paragraphs, publisher_fields, text_of,
)

SELECTORS: dict[str, str] = {
    "title": "h1.entry-title",
    "lead": "div.entry-content > p.chapo, .entry-summary",
    # Content paragraphs and headings, without the plugins' blocks (sharing, related posts, ads).
    "body": "div.entry-content",
    "body_noise": ".sharedaddy, .jp-relatedposts, .related-posts, .wp-block-buttons, .code-block, script, style",
    "author": ".entry-meta .author.vcard, .entry-meta .author",
    "date": "time.entry-date.published::attr(datetime), time.entry-date::attr(datetime)",
    "date_text": "time.entry-date",
    "image": ".post-thumbnail img::attr(src), .wp-post-image::attr(src)",
}

HOSTS = ("aujourdhui.ma", "www.aujourdhui.ma")

FALLBACKS = {
    "title": ["h1.entry-title", "og:title", "json-ld headline", "<title>"],
    "body": ["div.entry-content (without plugin blocks)", "json-ld articleBody"],
    "authors": ["json-ld author", ".author.vcard", "meta author"],
    "published_date": ["article:published_time", "json-ld datePublished", "time[datetime]", "time.entry-date text"],
    "source_url": ["link[rel=canonical]", "og:url", "the page's URL"],
}


def title(page: Page) -> tuple[str, str]:
    return first(page, (("h1.entry-title", lambda p: text_of(p.css(SELECTORS["title"]))), OG_TITLE, JSONLD_HEADLINE,
                        HTML_TITLE))


def lead(page: Page) -> tuple[str, str]:
    return first(page, ((".chapo/.entry-summary", lambda p: text_of(p.css(SELECTORS["lead"]))),))


def _content(page: Page) -> list[str]:
    nodes = page.css(SELECTORS["body"])
    if not nodes:
        return []
    noise = set(nodes.css(SELECTORS["body_noise"]).getall())
    lead_markup = set(page.css(SELECTORS["lead"]).getall())
    # Block-level children of the content, minus plugin blocks and the lead (stored on its own).
    blocks = [n for n in nodes[0].xpath("./*") if n.get() not in noise and n.get() not in lead_markup]
    return [p for block in blocks for p in paragraphs([block])]


def body(page: Page) -> tuple[list[str], str]:
    return first(page, (("div.entry-content", _content), JSONLD_BODY))


def _printed_author(page: Page) -> list[str]:
    name = text_of(page.css(SELECTORS["author"]))
    return [name] if name else []


def authors(page: Page) -> tuple[list[str], str]:
    return first(page, (JSONLD_AUTHORS, (".author.vcard", _printed_author), META_AUTHOR))


def dates(page: Page) -> list[str]:
    printed = [page.css(SELECTORS["date"]).get(), text_of(page.css(SELECTORS["date_text"]))]
    return list(dict.fromkeys([*metadata_dates(page), *filter(None, printed)]))


def image_url(page: Page, url: str) -> str:
    found, _ = first(page, (OG_IMAGE, JSONLD_IMAGE, ("post thumbnail", lambda p: p.css(SELECTORS["image"]).get())))
    return absolute(url, found)


def parse_article(page: Page, url: str, site_names: tuple[str, ...] = ()) -> dict[str, Any]:
    """Raw fields of a aujourdhui.ma article page, plus ``_via``: which selector gave each field."""
    return publisher_fields(page, url, title=title, lead=lead, body=body, authors=authors, dates=dates,
                            image_url=image_url)
