"""``lopinion``: L'Opinion as republished by Maghress, enriched from lopinion.ma.

The ``maghress`` spider limited to one source: ``scrapy crawl lopinion`` is
``scrapy crawl maghress -a sources=lopinion``, and also takes ``start_url``
(a listing URL, e.g. a mirror's ``http://127.0.0.1:8000/fr/lopinion``).
"""

from __future__ import annotations

from newscrawl.spiders.maghress import MaghressSpider


class LopinionSpider(MaghressSpider):
    name = "lopinion"
    only_sources = ("lopinion",)
