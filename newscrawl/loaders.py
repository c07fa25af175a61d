"""The item loader: raw fields from the site parsers in, a normalised ``Article`` out.

The publisher page's values are added before the Maghress page's, and every
single-valued field takes the first non-empty value: the publisher page wins
where both have a field, the Maghress data stands where it lacks one.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from itemloaders.processors import Compose, MapCompose, TakeFirst
from scrapy.loader import ItemLoader

from newscrawl import normalize
from newscrawl.items import Article


def _first_date(values: list[date | datetime]) -> str | None:
    """``YYYY-MM-DD`` of the first readable date, as a Moroccan calendar day."""
    for value in values:
        if isinstance(value, datetime):
            return value.astimezone(normalize.MOROCCO).date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
    return None


def _first_datetime(values: list[date | datetime]) -> str | None:
    """ISO 8601 with offset of the first readable date, only when it carries a time of day.

    Candidates are in order of authority: when the first readable one is a
    bare day, a later datetime of *another* day must not win over it.
    """
    first_day = _first_date(values)
    for value in values:
        if isinstance(value, datetime) and value.astimezone(normalize.MOROCCO).date().isoformat() == first_day:
            return value.isoformat()
    return None


def _parse_dates(value: str) -> date | datetime | None:
    return normalize.parse_date(value)


def _non_empty(value: Any) -> Any:
    return value if value not in ("", None) else None


class ArticleLoader(ItemLoader):
    default_item_class = Article
    default_input_processor = MapCompose(_non_empty)
    default_output_processor = TakeFirst()

    title_in = MapCompose(normalize.clean_title, _non_empty)
    maghress_title_in = MapCompose(normalize.clean_title, _non_empty)
    lead_in = MapCompose(normalize.clean_text, _non_empty)
    source_name_in = MapCompose(normalize.clean_title, _non_empty)
    # One add_value call per page: the whole paragraph list becomes one body.
    body_in = Compose(normalize.clean_body, _non_empty)
    authors_in = Compose(normalize.clean_authors)
    authors_out = Compose(lambda names: list(dict.fromkeys(names)))
    published_date_in = MapCompose(_parse_dates)
    published_date_out = Compose(_first_date)
    published_at_in = MapCompose(_parse_dates)
    published_at_out = Compose(_first_datetime)
    language_in = MapCompose(normalize.clean_language, _non_empty)
    source_url_in = MapCompose(normalize.clean_source_url, _non_empty)
    image_url_in = MapCompose(normalize.clean_source_url, _non_empty)
    maghress_id_in = MapCompose(int)


#: Fields a publisher page may supply, and the raw key each comes from.
PUBLISHER_FIELDS = {
    "source_url": "source_url", "title": "title", "lead": "lead", "body": "body", "authors": "authors",
    "language": "language", "image_url": "image_url", "published_date": "dates", "published_at": "dates",
}


def build_article(maghress: dict[str, Any], publisher: dict[str, Any] | None = None) -> Article:
    """One ``Article`` from a Maghress page's raw fields and, when fetched, its publisher page's.

    ``publisher["extractor"]`` names the parser that read the publisher page;
    when it is the generic extractor, ``generic_fields`` lists the fields it
    supplied (those the Maghress page did not win).
    """
    loader = ArticleLoader()
    for raw in (publisher, maghress):
        if not raw:
            continue
        for field in ("source_url", "title", "lead", "authors", "language", "image_url"):
            if raw.get(field):
                loader.add_value(field, raw[field])
        if raw.get("body"):
            loader.add_value("body", raw["body"])
        for text in raw.get("dates", ()):
            loader.add_value("published_date", text)
            loader.add_value("published_at", text)
    loader.add_value("url", maghress["url"])
    loader.add_value("maghress_id", maghress.get("maghress_id"))
    loader.add_value("source", maghress.get("source"))
    loader.add_value("source_name", maghress.get("source_name"))
    loader.add_value("maghress_title", maghress.get("title"))
    # The read-at-source link names the publisher URL even when its page failed.
    loader.add_value("source_url", maghress.get("publisher_url"))
    article = loader.load_item()
    if not article.get("language"):
        article["language"] = normalize.detect_language(
            " ".join(filter(None, (article.get("title"), article.get("lead"), (article.get("body") or "")[:1000])))
        )
    article.setdefault("authors", [])
    article["extractor"] = (publisher or {}).get("extractor") or ""
    article["generic_fields"] = ", ".join(_supplied_fields(publisher)) if article["extractor"] == "generic" else ""
    article["scraped_at"] = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    return article


def _supplied_fields(publisher: dict[str, Any] | None) -> list[str]:
    """The article fields a publisher page's raw values fill (the publisher page wins wherever it has a value)."""
    if not publisher:
        return []
    supplied = []
    for field, key in PUBLISHER_FIELDS.items():
        value = publisher.get(key)
        if key == "dates":
            values = [normalize.parse_date(text) for text in value or ()]
            value = any(isinstance(v, datetime) for v in values) if field == "published_at" else any(values)
        elif key in ("title", "lead", "language"):
            value = normalize.clean_title(value) if key == "title" else normalize.clean_text(value)
        if value:
            supplied.append(field)
    return supplied
