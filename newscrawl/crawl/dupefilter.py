"""Request de-duplication: one request per Maghress article key, and a JOBDIR that survives SIGKILL.

``ArticleKeyFingerprinter`` fingerprints an article page by its key (section,
Maghress id), not by its URL string. ``ResumableDupeFilter``:

Scrapy's ``RFPDupeFilter`` writes a request's fingerprint to
``JOBDIR/requests.seen`` when the request is *scheduled*. A crawl killed
while requests were in flight loses those requests (they had left the disk
queue) yet keeps them as seen, so the restarted crawl never fetches them.
Here a fingerprint remembered from an earlier run does not block, once per
run, a listing page (to rediscover what is left), a revisit, nor an article
page whose article the store does not hold. Without JOBDIR this is Scrapy's filter.
"""

from __future__ import annotations

import hashlib

from scrapy.dupefilters import RFPDupeFilter
from scrapy.utils.request import RequestFingerprinter

from newscrawl.identity.keys import article_key

#: request.meta key naming the kind of page: "listing", "article", "publisher" or "revisit" (a publisher page).
PAGE_KIND = "newscrawl_page"
#: request.meta key set on a revisit of a stored article's page (store/revisits.py): asked once per run, whatever
#: an earlier run's JOBDIR remembers.
REVISIT = "newscrawl_revisit"


class ResumableDupeFilter(RFPDupeFilter):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._previous_run = frozenset(self._fingerprints)  # loaded from JOBDIR, if any
        self._rechecked: set[bytes] = set()
        self.crawler = None

    @classmethod
    def from_crawler(cls, crawler):
        dupefilter = super().from_crawler(crawler)
        dupefilter.crawler = crawler
        return dupefilter

    def request_seen(self, request) -> bool:
        if self._previous_run:
            fp = self._fingerprint(request)
            if fp in self._previous_run and fp not in self._rechecked:
                self._rechecked.add(fp)
                if self._worth_again(request):
                    self.crawler.stats.inc_value("newscrawl/resume/refetched")
                    return False
        return super().request_seen(request)

    def _worth_again(self, request) -> bool:
        kind = request.meta.get(PAGE_KIND)
        if kind == "listing" or request.meta.get(REVISIT):
            return True
        if kind == "article" and self.crawler is not None and (key := article_key(request.url)):
            from newscrawl.crawl.storage import store_for

            return str(key) not in store_for(self.crawler).known_keys([key])
        return False


class ArticleKeyFingerprinter:
    """Scrapy's request fingerprinter, except that a Maghress article page is fingerprinted by its key.

    ``/fr/lopinion/5010004`` on www.maghress.com, on maghress.com, over http, with
    a slug or a query, or on a mirror is one article: one fingerprint, so the
    duplicate filters (Scrapy's, JOBDIR's and the distributed one on Redis)
    let one request of it through per crawl.
    """

    def __init__(self, crawler=None):
        self._default = RequestFingerprinter(crawler)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def fingerprint(self, request) -> bytes:
        if request.meta.get(PAGE_KIND) == "article" and (key := article_key(request.url)):
            return hashlib.sha1(f"newscrawl article {key}".encode()).digest()
        return self._default.fingerprint(request)
