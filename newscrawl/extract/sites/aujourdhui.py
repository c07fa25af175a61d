"""Aujourd'hui le Maroc (https://aujourdhui.ma): the publisher's article page.

The site runs WordPress (its images live under ``/wp-content/uploads/``, its
feed at ``/feed``), so its article pages follow the WordPress theme
conventions this parser reads: ``h1.entry-title``, ``div.entry-content``,
``time.entry-date[datetime]``, ``.author.vcard``, Yoast's JSON-LD ``@graph``
and Open Graph tags. Sharing and "related posts" blocks inside the content
are left out.

Each field's fallback chain is written once, below; the layout alarm's
labels (``FALLBACKS``) come from it. Hosts: the source registry's.
"""

from __future__ import annotations

from typing import Any

from newscrawl.extract.sites.common import (
    HTML_TITLE, JSONLD_AUTHORS, JSONLD_BODY, JSONLD_HEADLINE, JSONLD_IMAGE, METADATA_DATES, META_AUTHOR, OG_IMAGE,
    OG_TITLE, Page, Step, absolute, candidates, css_text, css_value, fallbacks, first, paragraphs,
    publisher_fields, text_of,
)

_CONTENT = "div.entry-content"
# Blocks of plugins inside the content: sharing, related posts, ads.
_NOISE = ".sharedaddy, .jp-relatedposts, .related-posts, .wp-block-buttons, .code-block, script, style"
_LEAD = "div.entry-content > p.chapo, .entry-summary"
_AUTHOR = ".entry-meta .author.vcard, .entry-meta .author"


def _content(page: Page) -> list[str]:
    nodes = page.css(_CONTENT)
    if not nodes:
        return []
    noise = set(nodes.css(_NOISE).getall())
    lead_markup = set(page.css(_LEAD).getall())
    # Block-level children of the content, minus plugin blocks and the lead (stored on its own).
    blocks = [n for n in nodes[0].xpath("./*") if n.get() not in noise and n.get() not in lead_markup]
    return [p for block in blocks for p in paragraphs([block])]


CONTENT: Step = (f"{_CONTENT} (without plugin blocks)", _content)
PRINTED_AUTHOR: Step = (_AUTHOR, lambda p: [name] if (name := text_of(p.css(_AUTHOR))) else [])

TITLE = (css_text("h1.entry-title"), OG_TITLE, JSONLD_HEADLINE, HTML_TITLE)
LEAD = (css_text(_LEAD),)
BODY = (CONTENT, JSONLD_BODY)
AUTHORS = (JSONLD_AUTHORS, PRINTED_AUTHOR, META_AUTHOR)
# Every candidate, most precise first (the loader chooses): metadata, the theme's <time>, its text.
DATES = (*METADATA_DATES, css_value("time.entry-date.published::attr(datetime), time.entry-date::attr(datetime)"),
         css_text("time.entry-date"))
IMAGE = (OG_IMAGE, JSONLD_IMAGE, css_value(".post-thumbnail img::attr(src), .wp-post-image::attr(src)"))

# The fallback chain of each field, as the layout-change alarm names them.
FALLBACKS = fallbacks(title=TITLE, body=BODY, authors=AUTHORS, published_date=DATES)


def title(page: Page) -> tuple[str, str]:
    return first(page, TITLE)


def lead(page: Page) -> tuple[str, str]:
    return first(page, LEAD)


def body(page: Page) -> tuple[list[str], str]:
    return first(page, BODY)


def authors(page: Page) -> tuple[list[str], str]:
    return first(page, AUTHORS)


def dates(page: Page) -> list[str]:
    return list(dict.fromkeys(candidates(page, DATES)))


def image_url(page: Page, url: str) -> str:
    return absolute(url, first(page, IMAGE)[0])


def parse_article(page: Page, url: str, site_names: tuple[str, ...] = ()) -> dict[str, Any]:
    """Raw fields of a aujourdhui.ma article page, plus ``_via``: which selector gave each field."""
    return publisher_fields(page, url, title=title, lead=lead, body=body, authors=authors, dates=dates,
                            image_url=image_url)
