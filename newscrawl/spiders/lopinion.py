"""``lopinion``: L'Opinion as republished by Maghress, enriched from lopinion.ma.

The ``maghress`` spider limited to one source: ``scrapy crawl lopinion`` is
``scrapy crawl maghress -a sources=lopinion``, and also takes ``start_url``
(a listing URL, e.g. a mirror's ``http://127.0.0.1:8000/fr/lopinion``).
"""

from __future__ import annotations

from newscrawl.sources import SOURCES, Source
from newscrawl.spiders.maghress import MaghressSpider, SpiderArgumentError


class LopinionSpider(MaghressSpider):
    name = "lopinion"

    def _selected_sources(self, sources: str | None) -> list[Source]:
        if sources not in (None, "", "lopinion"):
            raise SpiderArgumentError(f"sources={sources!r}: the lopinion spider crawls L'Opinion only "
                                      "(use `scrapy crawl maghress -a sources=…`)")
        return [SOURCES["lopinion"]]
