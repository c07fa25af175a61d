"""Site parsers: pure functions from a downloaded page to raw fields, one module per site, and their registry.

Each module writes each field's fallback chain once, as data (steps named by
their selectors, tried in order): a publisher module is a ``PublisherParser``
(``common.py``) of its chains, nothing else; what it reads and the layout
alarm's labels (``fallbacks``) derive from them. Parsers return plain dicts of
*raw* values; the item loader normalises them.

``maghress`` reads the aggregator; every other module reads one publisher's
article pages (``PARSER.parse_article(page, url, site_names=())``); ``generic``
reads any page (``site_names``: what the registry calls the publisher, which
the generic extractor uses to cut the site's name from titles on a mirror).

This module is the one parser registry: which parser reads which page
(``parser_for``) and the parser of a name (``parser``), from the source
registry's facts (``newscrawl/sources.py``: a source's ``publisher_hosts`` and
``parser``).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any, Protocol
from urllib.parse import urlsplit

from newscrawl.sources import SOURCES

#: Publisher parsers by name, as the registry's sources name them.
PUBLISHER_PARSERS: tuple[str, ...] = tuple(dict.fromkeys(s.parser for s in SOURCES.values() if s.parser))
GENERIC = "generic"
_BY_HOST = {host.lower(): s.parser for s in SOURCES.values() if s.parser for host in s.publisher_hosts}


class SiteParser(Protocol):
    """What the registry hands out: a publisher's ``PublisherParser``, or the generic extractor."""

    fallbacks: dict[str, list[str]]

    def parse_article(self, page: Any, url: str, site_names: tuple[str, ...] = ()) -> dict[str, Any]: ...


def parser(name: str) -> SiteParser:
    """The parser ``name`` (a publisher parser of the source registry, or ``generic``)."""
    if name not in PUBLISHER_PARSERS and name != GENERIC:
        raise ValueError(f"no site parser named {name!r}; known: {', '.join((*PUBLISHER_PARSERS, GENERIC))}")
    return import_module(f"newscrawl.extract.sites.{name}").PARSER


def parser_for(url: str, source_slug: str | None = None) -> str:
    """Which parser reads a publisher page: the one of its host, else its source's, else the generic one.

    (On a mirror every publisher page has the mirror's host: the source's parser decides there.)
    """
    source = SOURCES.get(source_slug or "")
    return _BY_HOST.get((urlsplit(url).hostname or "").lower()) or (source.parser if source else None) or GENERIC
