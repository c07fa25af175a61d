"""``python -m bench.without_search_index crawl …``: Scrapy's command line with the store's search index not
kept (``SearchRecords.index_article`` does nothing): bench.search's crawl without the index, beside one with it.
A bench's switch, not a setting: the archive always keeps its index."""

from __future__ import annotations

import sys

from scrapy.cmdline import execute

from newscrawl.store.search import SearchRecords

SearchRecords.index_article = lambda self, conn, article_id, row=None: None

if __name__ == "__main__":
    sys.argv[0] = "scrapy"
    execute()
