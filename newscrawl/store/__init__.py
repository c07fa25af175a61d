"""The article store: one layer, two backends (SQLite by default, PostgreSQL), chosen by URL."""

from newscrawl.store.database import Match, Store, store_for

__all__ = ["Match", "Store", "store_for"]
