"""Site parsers: pure functions from a downloaded page to raw fields, one module per site.

Each module keeps every selector of its site in one place (a ``SELECTORS``
table at its top) and gives each field a fallback chain, tried in order.
Parsers return plain dicts of *raw* values; the item loader normalises them.

``maghress`` reads the aggregator; every other module reads one publisher's
article pages and offers ``parse_article(page, url, site_names=())``,
``SELECTORS``, ``FALLBACKS`` and ``HOSTS``; ``generic`` reads any page
(``site_names``: what the registry calls the publisher, which the generic
extractor uses to cut the site's name from titles on a mirror).
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

#: Publisher parsers by name, as a source's ``parser`` names them.
PUBLISHER_PARSERS = ("lopinion", "lematin", "aujourdhui")
GENERIC = "generic"


def parser_module(name: str) -> ModuleType:
    """The parser module ``newscrawl.extract.sites.<name>`` (a publisher parser or ``generic``)."""
    if name not in PUBLISHER_PARSERS and name != GENERIC:
        raise ValueError(f"no site parser named {name!r}; known: {', '.join((*PUBLISHER_PARSERS, GENERIC))}")
    return import_module(f"newscrawl.extract.sites.{name}")


def parser_for_host(host: str) -> str | None:
    """The publisher parser that reads pages of ``host``, if one does."""
    host = host.lower()
    for name in PUBLISHER_PARSERS:
        if host in parser_module(name).HOSTS:
            return name
    return None
