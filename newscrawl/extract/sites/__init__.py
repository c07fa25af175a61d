"""Site parsers: pure functions from a downloaded page to raw fields, one module per site.

Each module writes each field's fallback chain once, as data (steps named by
their selectors, tried in order), and derives from it ``FALLBACKS``, the
labels the layout alarm prints. Parsers return plain dicts of *raw* values;
the item loader normalises them.

``maghress`` reads the aggregator; every other module reads one publisher's
article pages and offers ``parse_article(page, url, site_names=())``;
``generic`` reads any page (``site_names``: what the registry calls the
publisher, which the generic extractor uses to cut the site's name from
titles on a mirror). Which parser reads which host is the source registry's
fact (``newscrawl/sources.py``: a source's ``publisher_hosts`` and
``parser``), not the parsers'.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from newscrawl.sources import SOURCES

#: Publisher parsers by name, as the registry's sources name them.
PUBLISHER_PARSERS: tuple[str, ...] = tuple(dict.fromkeys(s.parser for s in SOURCES.values() if s.parser))
GENERIC = "generic"
_BY_HOST = {host.lower(): s.parser for s in SOURCES.values() if s.parser for host in s.publisher_hosts}


def parser_module(name: str) -> ModuleType:
    """The parser module ``newscrawl.extract.sites.<name>`` (a publisher parser or ``generic``)."""
    if name not in PUBLISHER_PARSERS and name != GENERIC:
        raise ValueError(f"no site parser named {name!r}; known: {', '.join((*PUBLISHER_PARSERS, GENERIC))}")
    return import_module(f"newscrawl.extract.sites.{name}")


def parser_for_host(host: str) -> str | None:
    """The publisher parser that reads pages of ``host``, if one does (the registry's source of that host)."""
    return _BY_HOST.get(host.lower())
