"""Le Matin (https://lematin.ma): the publisher's article page.

Modelled from what is known of the live site: article URLs
``/<rubrique>/<slug>/<numeric id>``, listings of ``a.article-title`` with a
``div.article-desc`` summary; article pages carry the same class names
(``h1.article-title``, ``.article-desc`` as the lead), the body in
``div.article-body``, a byline "Par <name>" and a date printed
"09/12/2025 à 10:15" (or "09 Décembre 2025"), plus JSON-LD ``NewsArticle``
and Open Graph tags.

Each field's fallback chain is written once, below (``PARSER``); what the
parser reads and the layout alarm's labels come from it. Hosts: the source
registry's.
"""

from __future__ import annotations

import re

from newscrawl.extract.sites.common import (
    HTML_TITLE, JSONLD_AUTHORS, JSONLD_BODY, JSONLD_HEADLINE, JSONLD_IMAGE, METADATA_DATES, META_AUTHOR,
    OG_IMAGE, OG_TITLE, PublisherParser, Step, css_paragraphs, css_text, css_value, text_of,
)

_PAR = re.compile(r"^\s*(?:par|by)\s+", re.IGNORECASE)
_PUBLISHED = re.compile(r"^\s*(?:publi[ée]\s+)?(?:le\s+)?", re.IGNORECASE)
_AUTHOR = ".article-author a, .article-author"
_DATE = ".article-date"

PRINTED_AUTHOR: Step = (_AUTHOR, lambda p: [name] if (name := _PAR.sub("", text_of(p.css(_AUTHOR)))) else [])
PRINTED_DATE: Step = (_DATE, lambda p: _PUBLISHED.sub("", text_of(p.css(_DATE))))

PARSER = PublisherParser(
    title=(css_text("h1.article-title"), css_text("article h1"), OG_TITLE, JSONLD_HEADLINE, HTML_TITLE),
    lead=(css_text(".article-desc"),),
    body=(css_paragraphs("div.article-body"), JSONLD_BODY),
    authors=(JSONLD_AUTHORS, PRINTED_AUTHOR, META_AUTHOR),
    dates=(*METADATA_DATES, PRINTED_DATE),  # every candidate, most precise first: the loader chooses
    image=(OG_IMAGE, JSONLD_IMAGE, css_value("figure.article-image img::attr(src)")),
)
