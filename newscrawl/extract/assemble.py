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

from newscrawl.extract import normalize
from newscrawl.items import Article
from newscrawl.store.keys import names_one_article


def _publication_day(values: list[date | datetime]) -> str | None:
    """``YYYY-MM-DD`` of the publication moment (``normalize.publication_moment``), as a Moroccan calendar day."""
    moment = normalize.publication_moment(values)
    if isinstance(moment, datetime):
        return moment.astimezone(normalize.MOROCCO).date().isoformat()
    return moment.isoformat() if moment is not None else None


def _publication_time(values: list[date | datetime]) -> str | None:
    """ISO 8601 with offset of the publication moment, only when it carries a time of day."""
    moment = normalize.publication_moment(values)
    return moment.isoformat() if isinstance(moment, datetime) else None


def _parse_dates(value: str) -> date | datetime | None:
    return normalize.parse_date(value)


def _title(value: str) -> str:
    return normalize.clean_title(value, markup=False)


def _text(value: str) -> str:
    return normalize.clean_text(value, markup=False)


def _body(paragraphs: list[str] | str) -> str:
    return normalize.clean_body(paragraphs, markup=False)


def _authors(names: list[str] | str) -> list[str]:
    return normalize.clean_authors(names, markup=False)


def _non_empty(value: Any) -> Any:
    return value if value not in ("", None) else None


class ArticleLoader(ItemLoader):
    default_item_class = Article
    default_input_processor = MapCompose(_non_empty)
    default_output_processor = TakeFirst()

    # The parsers hand over text (markup removed and entities decoded once, on the page): the loader
    # normalises it as text, so "<< étudiants >>" or a literal "<b>" in a headline survive.
    title_in = MapCompose(_title, _non_empty)
    maghress_title_in = MapCompose(_title, _non_empty)
    lead_in = MapCompose(_text, _non_empty)
    source_name_in = MapCompose(_title, _non_empty)
    # One add_value call per page: the whole paragraph list becomes one body.
    body_in = Compose(_body, _non_empty)
    authors_in = Compose(_authors)
    authors_out = Compose(lambda names: list(dict.fromkeys(names)))
    published_date_in = MapCompose(_parse_dates)
    published_date_out = Compose(_publication_day)
    published_at_in = MapCompose(_parse_dates)
    published_at_out = Compose(_publication_time)
    language_in = MapCompose(normalize.clean_language, _non_empty)
    source_url_in = MapCompose(normalize.clean_source_url, _non_empty)
    image_url_in = MapCompose(normalize.clean_source_url, _non_empty)
    maghress_id_in = MapCompose(int)


#: Fields a publisher page may supply (``generic_fields`` names them in this order).
PUBLISHER_FIELDS = (
    "source_url", "title", "lead", "body", "authors", "language", "image_url", "published_date", "published_at",
)


def build_article(maghress: dict[str, Any], publisher: dict[str, Any] | None = None) -> Article:
    """One ``Article`` from a Maghress page's raw fields and, when fetched, its publisher page's.

    ``publisher["extractor"]`` names the parser that read the publisher page;
    when it is the generic extractor, ``generic_fields`` lists the fields it
    supplied (those the Maghress page did not win).
    """
    loader = ArticleLoader()
    supplied: list[str] = []
    if publisher and publisher.get("page_url") and not names_one_article(publisher.get("source_url"), publisher["page_url"]):
        # Its canonical names the site's home, a section or a listing, not this article: the page's own URL does.
        publisher = {**publisher, "source_url": publisher["page_url"]}
    if publisher:
        _add_page(loader, publisher)
        # Added first, the publisher's values win: a field is the publisher's when it left a normalised
        # value (for published_at, one with a time of day).
        collected = {f: loader.get_collected_values(f) for f in PUBLISHER_FIELDS}
        supplied = [f for f, values in collected.items()
                    if values and (f != "published_at" or any(isinstance(v, datetime) for v in values))]
    _add_page(loader, maghress)
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
    article["generic_fields"] = ", ".join(supplied) if article["extractor"] == "generic" else ""
    article["scraped_at"] = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    return article


def _add_page(loader: ArticleLoader, raw: dict[str, Any]) -> None:
    """One page's raw fields into the loader (its input processors normalise them)."""
    for field in ("source_url", "title", "lead", "authors", "language", "image_url"):
        if raw.get(field):
            loader.add_value(field, raw[field])
    if raw.get("body"):
        loader.add_value("body", raw["body"])
    for text in raw.get("dates", ()):
        loader.add_value("published_date", text)
        loader.add_value("published_at", text)
