"""The article store: one layer, two backends (SQLite by default, PostgreSQL), chosen by URL."""

from newscrawl.store.database import Match, Store, open_store, store_for

__all__ = ["Match", "Store", "open_store", "store_for"]
