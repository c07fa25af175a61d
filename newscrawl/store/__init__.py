"""The article store: one layer, two backends (SQLite by default, PostgreSQL), chosen by URL.

``schema``, ``database`` (``Store``), ``exporters`` (story keys and similarity: ``newscrawl.identity``). ``Store`` and
``store_for`` are imported on first use: the spider imports ``newscrawl.identity.keys`` at
start-up, and SQLAlchemy must not come with it (it loads with the first article).
"""

from __future__ import annotations

__all__ = ["Store", "store_for"]


def __getattr__(name: str):
    if name in __all__:
        from newscrawl.store import database

        return getattr(database, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
