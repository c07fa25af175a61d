"""L'Opinion (https://www.lopinion.ma): the publisher's article page.

The publisher page is the authority for the canonical URL, full body, lead,
authors, precise publication time, language and image. Observed markup:
``#z_col1``, title ``div.titre > h1``, lead ``div.chapeau > h3``, body
``div.texte``; expected too: ``article:published_time``, JSON-LD
``NewsArticle`` and a visible "Rédigé par … le …" line.

Each field's fallback chain is written once, below (``PARSER``); what the
parser reads and the layout alarm's labels come from it. Hosts: the source
registry's.
"""

from __future__ import annotations

import re

from newscrawl.extract.sites.common import (
    HTML_TITLE, JSONLD_AUTHORS, JSONLD_BODY, JSONLD_HEADLINE, JSONLD_IMAGE, METADATA_DATES, META_AUTHOR,
    OG_IMAGE, OG_TITLE, Page, PublisherParser, Step, css_paragraphs, css_text, css_value, once_per_page,
    text_of,
)
from newscrawl.extract.sites.maghress import BYLINE_MAX_CHARS

# "Rédigé par Omar ASSIF le Dimanche 8 Juin 2025"; English edition: "by A.K on 24/11/2024 at 12h06".
# (The element whose first text starts so, found from its first text node: a third cheaper than testing
# normalize-space(text()) four times on every element.)
_BYLINE_NODE = (
    "//text()[1][starts-with(normalize-space(), 'Rédigé par') or starts-with(normalize-space(), 'by ')"
    " or starts-with(normalize-space(), 'By ') or starts-with(normalize-space(), 'Por ')]/.."
)
_BYLINE = re.compile(
    r"(?:R[ée]dig[ée]\s+par|by|por)\s+(?P<authors>.+?)\s+(?:le|on|el)\s+(?P<date>.+)$", re.IGNORECASE
)


@once_per_page
def _byline(page: Page) -> tuple[str, str]:
    """``(authors, date text)`` of "Rédigé par Omar ASSIF le Dimanche 8 Juin 2025"."""
    # (A byline is a line: its lazy authors group would scan to the end from every "by " of a longer text.)
    m = _BYLINE.search(text_of(page.xpath(_BYLINE_NODE))[:BYLINE_MAX_CHARS])
    return (m.group("authors"), m.group("date")) if m else ("", "")


BYLINE_AUTHORS: Step = ("'Rédigé par … le …'", lambda p: [_byline(p)[0]] if _byline(p)[0] else [])
BYLINE_DATE: Step = ("'Rédigé par … le …' date", lambda p: _byline(p)[1])

PARSER = PublisherParser(
    title=(css_text("div.titre h1"), OG_TITLE, JSONLD_HEADLINE, HTML_TITLE),
    lead=(css_text("div.chapeau h3"), css_text("div.chapeau")),
    body=(css_paragraphs("div.texte"), JSONLD_BODY),
    authors=(JSONLD_AUTHORS, META_AUTHOR, BYLINE_AUTHORS),
    dates=(*METADATA_DATES, BYLINE_DATE),  # every candidate, most precise first: the loader chooses
    image=(OG_IMAGE, JSONLD_IMAGE, css_value("#z_col1 img[src*='/photo/art/']::attr(src)")),
)
