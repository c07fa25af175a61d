"""Aujourd'hui le Maroc (https://aujourdhui.ma): the publisher's article page.

The site runs WordPress (its images live under ``/wp-content/uploads/``, its
feed at ``/feed``), so its article pages follow the WordPress theme
conventions this parser reads: ``h1.entry-title``, ``div.entry-content``,
``time.entry-date[datetime]``, ``.author.vcard``, Yoast's JSON-LD ``@graph``
and Open Graph tags. Sharing and "related posts" blocks inside the content
are left out.

Each field's fallback chain is written once, below (``PARSER``); what the
parser reads and the layout alarm's labels come from it. Hosts: the source
registry's.
"""

from __future__ import annotations

from newscrawl.extract.sites.common import (
    HTML_TITLE, JSONLD_AUTHORS, JSONLD_BODY, JSONLD_HEADLINE, JSONLD_IMAGE, METADATA_DATES, META_AUTHOR,
    OG_IMAGE, OG_TITLE, Page, PublisherParser, Step, css_text, css_value, paragraphs, text_of,
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

PARSER = PublisherParser(
    title=(css_text("h1.entry-title"), OG_TITLE, JSONLD_HEADLINE, HTML_TITLE),
    lead=(css_text(_LEAD),),
    body=(CONTENT, JSONLD_BODY),
    authors=(JSONLD_AUTHORS, PRINTED_AUTHOR, META_AUTHOR),
    # Every candidate, most precise first (the loader chooses): metadata, the theme's <time>, its text.
    dates=(*METADATA_DATES, css_value("time.entry-date.published::attr(datetime), time.entry-date::attr(datetime)"),
             css_text("time.entry-date")),
    image=(OG_IMAGE, JSONLD_IMAGE, css_value(".post-thumbnail img::attr(src), .wp-post-image::attr(src)")),
)
