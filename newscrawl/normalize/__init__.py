"""Normalisers for the fields newscrawl stores: dates, titles, bodies, authors, URLs, language.

Every function here is a plain function of its input (and of ``now`` for
relative dates): no Scrapy, no I/O, so item loaders, the store, tests and
outside tools can all import and call them. ``text``, ``urls`` and ``dates``
hold them; this module names the public ones.
"""

from newscrawl.normalize.dates import EARLIEST_YEAR, MOROCCO, parse_date, publication_moment
from newscrawl.normalize.text import (
    LANGUAGES, clean_authors, clean_body, clean_language, clean_text, clean_title, detect_language, title_key,
    word_overlap,
)
from newscrawl.normalize.urls import canonical_key, clean_source_url

__all__ = [
    "EARLIEST_YEAR", "LANGUAGES", "MOROCCO", "canonical_key", "clean_authors", "clean_body", "clean_language",
    "clean_source_url", "clean_text", "clean_title", "detect_language", "parse_date", "publication_moment",
    "title_key", "word_overlap",
]
