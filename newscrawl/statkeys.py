"""Names of the crawl stats that more than one module writes or reads. (Exit statuses: ``crawl.health``.)

Stats written and read in different modules (the pipelines and the crawl
command, the store pipeline and the distributed scheduler, the spider and the
layout alarm) are named here once, so a renamed key cannot silently break
the reader.
"""

#: Prefix of every item dropped, by reason: ``newscrawl/dropped/<reason>``.
DROPPED = "newscrawl/dropped"
DROP_REPUBLISHED = "republished"  # the same story as an article stored under another key: kept as its alias
DROP_DUPLICATE_IN_RUN = "duplicate_in_run"  # the same key handled earlier in this run

# Pages the spider read (the layout alarm compares the articles stored with them).
ARTICLE_PAGES = "newscrawl/article/pages"  # Maghress article pages parsed
ARTICLE_BEFORE_SINCE = "newscrawl/article/before_since"  # ... of which older than ``since``: not stored
# Articles whose Maghress page handed them on to a publisher page (its request, or one in flight), and articles
# built here from a publisher page's outcome. Equal in one process; in a distributed crawl another worker may
# read the publisher page, and build the article there.
ARTICLE_HANDED_ON = "newscrawl/article/handed_on"
ARTICLE_TAKEN_BACK = "newscrawl/article/from_publisher_page"
LISTING_EMPTY = "newscrawl/listing/empty"  # listing pages without a single article link

#: Per publisher parser: ``<PUBLISHER>/<parser>/pages``, ``…/found/<field>``, ``…/errors`` (the alarm's coverage).
PUBLISHER = "newscrawl/publisher"


def publisher_pages(parser: str) -> str:
    return f"{PUBLISHER}/{parser}/pages"


def publisher_found(parser: str, field: str) -> str:
    return f"{PUBLISHER}/{parser}/found/{field}"


def publisher_errors(parser: str) -> str:
    return f"{PUBLISHER}/{parser}/errors"


# The store pipeline.
STORED = "newscrawl/store"  # ``<STORED>/<what>``: articles ``inserted``, ``updated``, ``aliased``
STORED_WHAT = ("inserted", "updated", "aliased")
STORE_NEW_VERSION = "newscrawl/store/new_version"  # updated articles whose text changed (also ``…/<source>``)
STORE_WRITE_FAILED = "newscrawl/store/write_failed"  # batches the database refused (then written row by row)
STORE_REJECTED = "newscrawl/store/rejected"  # rows the database refused alone: in rejected_articles
STORE_LOST = "newscrawl/store/lost"  # rows that could not even be recorded as rejected: fetched again next run

# Deduplication.
PUBLISHER_URL_CONFLICT = "newscrawl/dedup/publisher_url_conflict"  # one publisher URL, different headlines

# The frontier (articles seen and not yet stored).
FRONTIER_DUE = "newscrawl/frontier/due"  # pending or failed articles fetched first by this run
FRONTIER_GIVEN_UP = "newscrawl/frontier/given_up"  # failed NEWSCRAWL_MAX_ATTEMPTS times: reported, not fetched
FRONTIER_FAILED = "newscrawl/frontier/failed"  # article pages that failed in this run (recorded, retried)
FRONTIER_GONE = "newscrawl/frontier/gone"  # article pages that answered 404/410 in this run

# Revisits (store/revisits.py): ``<key>/<source>`` but the first.
REVISIT_DUE = "newscrawl/revisit/due"  # revisits this run asked for (at most NEWSCRAWL_REVISIT_LIMIT)
REVISIT_MADE = "newscrawl/revisit/made"  # revisits made, whatever the answer (publisher or Maghress pages)
REVISIT_NOT_MODIFIED = "newscrawl/revisit/not_modified"  # ... that answered 304: unchanged, not read
REVISIT_FAILED = "newscrawl/revisit/failed"  # ... that failed (an error, or not found): the stored article stands

# The garbage collector's settings for the crawl (extensions.GarbageCollection).
GC_FROZEN = "newscrawl/gc/frozen_objects"  # objects of start-up left out of every collection
GC_THRESHOLDS = "newscrawl/gc/thresholds"  # the thresholds in force, "gen0,gen1,gen2"

# Listings, per source: ``<key>/<source>``.
LISTING_PAGES = "newscrawl/listing/ok"  # listing pages parsed
LISTING_FAILED = "newscrawl/listing/failed"  # listing pages that failed after retries
LISTING_LAST_ERROR = "newscrawl/listing/last_error"  # why the last one failed ("HTTP 404", "DNSLookupError: …")

# Hostile input: what each response may cost (docs/operations.md, "Limits").
REFUSED_REQUEST = "newscrawl/refused/request"  # requests the host policy refused (scheme, address, port, host)
CAPPED_DOWNLOAD = "newscrawl/capped/download_too_large"  # responses over DOWNLOAD_MAXSIZE (decompressed too)
CAPPED_PARSE_INPUT = "newscrawl/capped/parse_input"  # pages of which the parsers read NEWSCRAWL_MAX_PARSE_BYTES
CAPPED_FIELD = "newscrawl/capped/field"  # ``<CAPPED_FIELD>/<field>``: stored values cut to their maximum length
SLOWEST_PAGE_SECONDS = "newscrawl/slowest_page/seconds"  # the longest any page's callback ran
SLOWEST_PAGE_URL = "newscrawl/slowest_page/url"
FOREIGN_CANONICAL = "newscrawl/source/foreign_canonical"  # canonical URLs on another host: the page's URL kept
PAGE_ERRORS = "newscrawl/page_errors"  # ``<PAGE_ERRORS>/<kind>[/<exception>]``: callbacks that raised

#: One line per source the crawl could not reach, and one for a run that reached nothing at all.
UNREACHABLE = "newscrawl/unreachable"
