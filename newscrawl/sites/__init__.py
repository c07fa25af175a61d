"""Site parsers: pure functions from a downloaded page to raw fields, one module per site.

Each module keeps every selector of its site in one place (a ``SELECTORS``
table at its top) and gives each field a fallback chain, tried in order.
Parsers return plain dicts of *raw* values; the item loader normalises them.
"""
