"""Feed exporters: our columns, authors joined, and CSV cells a spreadsheet would run neutralised."""

from __future__ import annotations

from typing import Any

from scrapy.exporters import CsvItemExporter, JsonLinesItemExporter

from newscrawl.items import ARTICLE_FIELDS

# A cell starting with one of these is run as a formula by spreadsheets (OWASP "CSV injection"), the
# full-width forms included: spreadsheets with East Asian input read "＝SUM(…)" as "=SUM(…)".
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise_formula(value: str) -> str:
    """Prefix a would-be formula with an apostrophe; the database keeps the original text."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_cell(field: str, value: Any) -> Any:
    if field == "authors" and isinstance(value, (list, tuple)):
        value = "; ".join(value)
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise_formula(value)
    return value


class ArticleCsvItemExporter(CsvItemExporter):
    def __init__(self, file, **kwargs):
        kwargs.setdefault("fields_to_export", list(ARTICLE_FIELDS))
        super().__init__(file, **kwargs)

    def serialize_field(self, field, name, value):
        return csv_cell(name, value)


class ArticleJsonLinesItemExporter(JsonLinesItemExporter):
    def __init__(self, file, **kwargs):
        kwargs.setdefault("fields_to_export", list(ARTICLE_FIELDS))
        kwargs.setdefault("ensure_ascii", False)
        super().__init__(file, **kwargs)
