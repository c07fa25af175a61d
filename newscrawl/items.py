"""The one item newscrawl produces: an article, merged from its Maghress and publisher pages."""

from __future__ import annotations

import scrapy

#: Field order of the item, the ``articles`` table and every CSV the project writes.
ARTICLE_FIELDS: tuple[str, ...] = (
    "url",
    "maghress_id",
    "source",
    "source_name",
    "source_url",
    "title",
    "lead",
    "body",
    "authors",
    "published_date",
    "published_at",
    "language",
    "image_url",
    "scraped_at",
    "extractor",
    "generic_fields",
    "version",
    "changed_at",
)


#: The longest value stored per field, in characters: a hostile page must not put megabytes into a row or a CSV
#: cell. A longer text is cut at a word, a longer URL dropped; each counted (``newscrawl/capped/field/<name>``).
#: Every cap is below the 131,072 characters Python's csv reader takes in one cell.
FIELD_MAX_CHARS: dict[str, int] = {
    "title": 1_000, "maghress_title": 1_000, "lead": 5_000, "body": 100_000, "source_name": 200,
    "url": 2_048, "source_url": 2_048, "image_url": 2_048,
}
URL_FIELDS = frozenset({"url", "source_url", "image_url"})
#: ``authors``: at most this many names, each at most ``AUTHOR_MAX_CHARS``.
MAX_AUTHORS = 20
AUTHOR_MAX_CHARS = 200


class Article(scrapy.Item):
    url = scrapy.Field()  # the Maghress article page
    maghress_id = scrapy.Field()  # int, from the Maghress URL
    source = scrapy.Field()  # registry slug, e.g. "lopinion", identified from the byline
    source_name = scrapy.Field()  # display name, e.g. "L'Opinion"
    source_url = scrapy.Field()  # the publisher's canonical URL
    title = scrapy.Field()
    lead = scrapy.Field()
    body = scrapy.Field()  # paragraphs separated by a blank line
    authors = scrapy.Field()  # list of names
    published_date = scrapy.Field()  # YYYY-MM-DD, Morocco's calendar day
    published_at = scrapy.Field()  # ISO 8601 with offset, only when the time is known
    language = scrapy.Field()  # "fr", "en", "es" or ""
    image_url = scrapy.Field()
    scraped_at = scrapy.Field()  # ISO 8601 UTC
    # Which parser read the publisher page: a publisher parser's name ("lopinion"), "generic"
    # (no parser for that publisher: trafilatura + metadata), or "" when only Maghress was read.
    extractor = scrapy.Field()
    generic_fields = scrapy.Field()  # fields the generic extractor supplied, "title, body, …"; "" otherwise
    # Set by the store, not by the pages: the article's version (1, then one more each time its title, lead,
    # body, authors or dates changed: earlier versions in article_versions), and when it last changed.
    version = scrapy.Field()
    changed_at = scrapy.Field()  # ISO 8601 UTC; empty for a version 1
    # Internal, never exported: the headline as Maghress shows it, so that a
    # re-crawl can tell an edited headline on the listing from an unchanged one
    # (None: the Maghress page was not read — a revisit of the publisher page).
    maghress_title = scrapy.Field()
    # Internal, never exported: the publisher page's ``etag`` and ``last_modified``, kept for its revisits.
    page_validators = scrapy.Field()
    # Internal: built on a revisit of a stored article. Its feed row is written only when it changed (a new
    # version): an unchanged article is not exported again by every run that revisits it.
    revisit = scrapy.Field()
    # Internal, set and removed by the pipelines: the deduplication's verdict (identity.matching.Verdict:
    # the story keys, the stored row or article of this run it matches), read by the store.
    story = scrapy.Field()


assert tuple(Article.fields)[: len(ARTICLE_FIELDS)] == ARTICLE_FIELDS, "Article fields and ARTICLE_FIELDS drifted apart"
