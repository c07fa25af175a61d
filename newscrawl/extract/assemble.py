"""Assembly: one ``Article`` from a Maghress page and its publisher's page.

- ``MaghressPage``, ``PublisherPage``: what the site parsers read, typed.
- ``Assembler``: reads a Maghress article page (and says which source it
  belongs to: its byline's, else its URL's), chooses the parser of a
  publisher page (its host's, else its source's, else the generic one) and
  reads it without letting one odd page cost the article, counting what each
  parser found (the layout alarm's per-publisher coverage).
- ``build_article`` (the item loader): the publisher page's values are added
  before the Maghress page's, and every single-valued field takes the first
  non-empty value: the publisher page wins where both have a field, the
  Maghress data stands where it lacks one. Normalisation is the loader's
  input processors (``newscrawl.normalize``). On a revisit of a publisher
  page, the stored article stands in for the Maghress page
  (``MaghressPage.from_stored``).

(One module, longer than most: the pages' types, their reading and their
merge change together — a field added to a page is read, counted and merged
here.)
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from typing import Any, Callable
from urllib.parse import urlsplit

from itemloaders.processors import TakeFirst
from scrapy.loader import ItemLoader

from newscrawl import statkeys
from newscrawl import normalize
from newscrawl.items import Article
from newscrawl.sources import SOURCES, Source, source_named
from newscrawl.identity.keys import names_one_article

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MaghressPage:
    """What a Maghress article page says (``sites.maghress.parse_article``), raw."""

    url: str
    maghress_id: int | None
    source: str  # the registry slug: the byline's source, else the URL's section
    source_name: str
    title: str = ""
    body: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    source_link: str = ""  # the "read at source" link as the page gives it
    publisher_url: str = ""  # that link, when it may be followed: the publisher URL even if its page fails
    # The id asked for, when Maghress sent it to this page: stored as this article's alias.
    alias_url: str = ""
    alias_id: int | None = None
    via: dict = field(default_factory=dict, compare=False)
    stored: bool = False  # the stored article standing in for the page (``from_stored``)
    revisit: bool = False  # read on a revisit of a stored article (store/revisits.py)

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> MaghressPage:
        return cls(url=raw["url"], maghress_id=raw.get("maghress_id"), source=raw.get("source") or "",
                   source_name=raw.get("source_name") or "", title=raw.get("title") or "",
                   body=tuple(raw.get("body") or ()), dates=tuple(raw.get("dates") or ()),
                   source_link=raw.get("source_link") or "", publisher_url=raw.get("publisher_url") or "",
                   via=raw.get("_via") or {})

    @classmethod
    def from_stored(cls, row: dict[str, Any]) -> MaghressPage:
        """A stored article standing in for its Maghress page when its publisher page is revisited (the
        Maghress page is not fetched again): what the publisher page gives wins, what it no longer gives is
        kept as stored. The headline Maghress showed stays stored as it was (this title is the stored one)."""
        published = row.get("published_at") or row.get("published_date")
        return cls(url=row["url"], maghress_id=row.get("maghress_id"), source=row.get("source") or "",
                   source_name=row.get("source_name") or "", title=row.get("title") or "",
                   body=tuple(p for p in (row.get("body") or "").split("\n\n") if p),
                   dates=(str(published),) if published else (), publisher_url=row.get("source_url") or "",
                   stored=True, revisit=True)


@dataclass(frozen=True)
class PublisherPage:
    """What a publisher page says (a publisher parser's or the generic extractor's ``parse_article``), raw."""

    extractor: str  # the parser that read it: a publisher parser's name, or "generic"
    page_url: str  # where it was read (after redirects)
    source_url: str = ""  # its canonical URL
    title: str = ""
    lead: str = ""
    body: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    language: str = ""
    image_url: str = ""
    via: dict = field(default_factory=dict, compare=False)
    # The response's validators (``ETag``, ``Last-Modified``): a revisit asks with them (``store/revisits.py``).
    validators: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_raw(cls, raw: dict[str, Any], extractor: str, page_url: str) -> PublisherPage:
        return cls(extractor=extractor, page_url=page_url, source_url=raw.get("source_url") or "",
                   title=raw.get("title") or "", lead=raw.get("lead") or "", body=tuple(raw.get("body") or ()),
                   authors=tuple(raw.get("authors") or ()), dates=tuple(raw.get("dates") or ()),
                   language=raw.get("language") or "", image_url=raw.get("image_url") or "",
                   via=raw.get("_via") or {})


#: Raw publisher fields counted per parser (``newscrawl/publisher/<parser>/found/<field>``): the layout alarm's.
PUBLISHER_WATCHED = ("title", "body", "dates", "authors")


class Assembler:
    """Reads the two pages of an article and builds it, counting in the crawl's stats what it met."""

    def __init__(self, stats, log=logger, publisher_hosts: frozenset[str] = frozenset()):
        self.stats = stats
        self.log = log
        self.publisher_hosts = publisher_hosts  # where a publisher page's canonical URL may point

    def maghress_page(self, page, url: str) -> MaghressPage:
        """A Maghress article page, its source identified (``source``, ``source_name`` from the registry)."""
        from newscrawl.extract.sites import maghress

        read = MaghressPage.from_raw(maghress.parse_article(page, url))
        source = self.identify_source(read)
        if source is not None:
            read = replace(read, source=source.slug, source_name=source.name)
        return read

    def identify_source(self, page: MaghressPage) -> Source | None:
        """The article's source: the one its byline names ("Publié dans Le Matin le …"), else its URL's."""
        from_url = SOURCES.get(page.source)
        from_byline = source_named(page.source_name)
        if page.source_name and from_byline is None:
            self.stats.inc_value("newscrawl/source/byline_unknown")
            self.log.info("Byline of %s names %r, a source not in the registry", page.url, page.source_name)
        if from_byline and from_url and from_byline != from_url:
            self.stats.inc_value("newscrawl/source/byline_differs_from_url")
            self.log.info("%s is under /fr/%s but its byline names %s", page.url, from_url.slug, from_byline.name)
        return from_byline or from_url

    def publisher_page(self, page, url: str, source_slug: str) -> PublisherPage | None:
        """A publisher page read by its parser; ``None`` (logged, counted) when the parser raises on it:
        one odd page must not cost the article, whose Maghress data stands."""
        from newscrawl.extract import sites

        parser = sites.parser_for(url, source_slug)
        try:
            raw = sites.parser(parser).parse_article(page, url, site_names=_site_names(source_slug))
        except Exception:  # noqa: BLE001 - see the docstring
            self.stats.inc_value(statkeys.publisher_errors(parser))
            self.log.exception("Parser %s failed on %s; storing from Maghress", parser, url)
            return None
        read = PublisherPage.from_raw(raw, parser, url)
        canonical_host = (urlsplit(read.source_url).hostname or "").lower()
        if read.source_url and canonical_host != (urlsplit(url).hostname or "").lower() and (
                canonical_host not in self.publisher_hosts):
            # A canonical link (or og:url) on a host that is neither the page's nor a publisher's is no URL to
            # keep (an internal address was seen there): the URL the page was fetched at stands.
            self.stats.inc_value(statkeys.FOREIGN_CANONICAL)
            self.log.info("%s names %s as its canonical URL, on another host: kept its own URL",
                          url, read.source_url[:200])
            read = replace(read, source_url=url)
        return read

    def count_fields(self, publisher: PublisherPage) -> None:
        """What each parser found on its pages: the layout alarm's per-publisher coverage."""
        self.stats.inc_value(statkeys.publisher_pages(publisher.extractor))
        for name in PUBLISHER_WATCHED:
            if getattr(publisher, name):
                self.stats.inc_value(statkeys.publisher_found(publisher.extractor, name))

    def articles(self, maghress: MaghressPage, publisher: PublisherPage | None = None) -> list[Article]:
        """The article of a Maghress page (with its publisher page's fields), and the alias of an id that led
        to it (same headline, day and source: the deduplication makes it one)."""
        pages = [maghress]
        if maghress.alias_url:
            pages.append(replace(maghress, url=maghress.alias_url, maghress_id=maghress.alias_id, alias_url=""))
        built = [build_article(page, publisher) for page in pages]
        for article in built:
            self.stats.inc_value(f"newscrawl/articles/source/{article.get('source') or 'unknown'}")
            self.stats.inc_value(f"newscrawl/articles/extractor/{article.get('extractor') or 'maghress_only'}")
        return built


def _site_names(slug: str) -> tuple[str, ...]:
    """What the registry calls a source's publisher: its name, byline spellings and hosts (a mirror's host,
    where its pages are served, says nothing of the site)."""
    source = SOURCES.get(slug)
    return (source.name, *source.byline_names, *source.publisher_hosts) if source else ()


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


@functools.lru_cache(maxsize=64)  # each date string is read for published_date, then for published_at
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


class Each:
    """Input processor: ``function`` applied to each value, the empty results (``""``, ``None``) dropped.

    What ``MapCompose(function)`` followed by dropping empty strings does for a function that returns one
    value, in one pass: MapCompose wraps each of its functions for a loader context on every call, and this
    loader passes none.
    """

    def __init__(self, function: Callable[[Any], Any]):
        self.function = function

    def __call__(self, values: list[Any]) -> list[Any]:
        return [value for value in map(self.function, values) if value not in ("", None)]


class Whole:
    """Processor: ``function`` applied to the list of values as a whole; an empty result (``""``, ``None``)
    becomes ``None`` (no value). ``Compose`` of ``function`` alone, without its per-call wrapping."""

    def __init__(self, function: Callable[[Any], Any]):
        self.function = function

    def __call__(self, values: list[Any]) -> Any:
        value = self.function(values)
        return value if value not in ("", None) else None


def _identity(value: Any) -> Any:
    return value


def _distinct(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


class ArticleLoader(ItemLoader):
    default_item_class = Article
    default_input_processor = Each(_identity)
    default_output_processor = TakeFirst()

    # The parsers hand over text (markup removed and entities decoded once, on the page): the loader
    # normalises it as text, so "<< étudiants >>" or a literal "<b>" in a headline survive.
    title_in = Each(_title)
    maghress_title_in = Each(_title)
    lead_in = Each(_text)
    source_name_in = Each(_title)
    # One add_value call per page: the whole paragraph list becomes one body.
    body_in = Whole(_body)
    authors_in = Whole(_authors)
    authors_out = Whole(_distinct)
    published_date_in = Each(_parse_dates)
    published_date_out = Whole(_publication_day)
    published_at_in = Each(_parse_dates)
    published_at_out = Whole(_publication_time)
    language_in = Each(normalize.clean_language)
    source_url_in = Each(normalize.clean_source_url)
    image_url_in = Each(normalize.clean_source_url)
    maghress_id_in = Each(int)

    # ItemLoader looks a field's processor up (attribute, else the item field's metadata, else the default)
    # and unwraps it on every add_value and load_item; here they are class attributes, the same for every
    # loader of the class, so each is looked up once.
    _processors: dict[tuple[type, str, str], Callable[..., Any]] = {}

    def get_input_processor(self, field_name: str) -> Callable[..., Any]:
        key = (type(self), field_name, "in")
        if key not in self._processors:
            self._processors[key] = super().get_input_processor(field_name)
        return self._processors[key]

    def get_output_processor(self, field_name: str) -> Callable[..., Any]:
        key = (type(self), field_name, "out")
        if key not in self._processors:
            self._processors[key] = super().get_output_processor(field_name)
        return self._processors[key]


#: Fields a publisher page may supply (``generic_fields`` names them in this order).
PUBLISHER_FIELDS = (
    "source_url", "title", "lead", "body", "authors", "language", "image_url", "published_date", "published_at",
)


def build_article(maghress: MaghressPage, publisher: PublisherPage | None = None) -> Article:
    """One ``Article`` from a Maghress page and, when fetched, its publisher page.

    ``publisher.extractor`` names the parser that read the publisher page;
    when it is the generic extractor, ``generic_fields`` lists the fields it
    supplied (those the Maghress page did not win).
    """
    loader = ArticleLoader()
    supplied: list[str] = []
    if publisher and publisher.page_url and not names_one_article(publisher.source_url, publisher.page_url):
        # Its canonical names the site's home, a section or a listing, not this article: the page's own URL does.
        publisher = replace(publisher, source_url=publisher.page_url)
    if publisher:
        _add_page(loader, publisher)
        # Added first, the publisher's values win: a field is the publisher's when it left a normalised
        # value (for published_at, one with a time of day).
        collected = {f: loader.get_collected_values(f) for f in PUBLISHER_FIELDS}
        supplied = [f for f, values in collected.items()
                    if values and (f != "published_at" or any(isinstance(v, datetime) for v in values))]
    # Where the publisher's value stands, the Maghress one would be normalised for nothing (TakeFirst keeps the
    # first): only the dates of both pages are weighed together.
    _add_page(loader, maghress, only_missing=True)
    loader.add_value("url", maghress.url)
    loader.add_value("maghress_id", maghress.maghress_id)
    loader.add_value("source", maghress.source)
    loader.add_value("source_name", maghress.source_name)
    if not maghress.stored:
        loader.add_value("maghress_title", maghress.title)
    # The read-at-source link names the publisher URL even when its page failed.
    if not loader.get_collected_values("source_url"):
        loader.add_value("source_url", maghress.publisher_url)
    article = loader.load_item()
    if not article.get("language"):
        article["language"] = normalize.detect_language(
            " ".join(filter(None, (article.get("title"), article.get("lead"), (article.get("body") or "")[:1000])))
        )
    article.setdefault("authors", [])
    if maghress.stored:
        article["maghress_title"] = None  # not read: the stored headline stands
    if maghress.revisit:
        article["revisit"] = True
    article["extractor"] = publisher.extractor if publisher else ""
    if publisher and publisher.validators:
        article["page_validators"] = dict(publisher.validators)
    article["generic_fields"] = ", ".join(supplied) if article["extractor"] == "generic" else ""
    article["scraped_at"] = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    return article


def _add_page(loader: ArticleLoader, page: MaghressPage | PublisherPage, only_missing: bool = False) -> None:
    """One page's raw fields into the loader (its input processors normalise them); ``only_missing``: those
    the loader holds no value of yet."""
    for name in ("source_url", "title", "lead", "authors", "language", "image_url", "body"):
        if (value := getattr(page, name, None)) and not (only_missing and loader.get_collected_values(name)):
            loader.add_value(name, list(value) if isinstance(value, tuple) else value)
    if page.dates:  # one call per field for all of them: each add_value costs the loader's machinery
        loader.add_value("published_date", list(page.dates))
        loader.add_value("published_at", list(page.dates))
