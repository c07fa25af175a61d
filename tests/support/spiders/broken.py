"""``lopinion_broken``: the ``lopinion`` spider with a parser bug planted in it.

Its Maghress page reader raises on the pages named by ``-a broken_ids=5010003,…`` (a ``RuntimeError``, as a
parser meeting a page it was not written for would): the crawl must lose those pages only, each recorded in
the frontier as failed with the reason.
"""

from __future__ import annotations

from functools import cached_property

from newscrawl.extract.assemble import Assembler
from newscrawl.spiders.lopinion import LopinionSpider


class _BrokenAssembler(Assembler):
    def __init__(self, *args, broken: frozenset[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.broken = broken

    def maghress_page(self, page, url: str):
        if url.rstrip("/").rsplit("/", 1)[-1] in self.broken:
            raise RuntimeError(f"planted parser bug on {url}")
        return super().maghress_page(page, url)


class BrokenLopinionSpider(LopinionSpider):
    name = "lopinion_broken"

    def __init__(self, *args, broken_ids: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.broken_ids = frozenset(filter(None, broken_ids.split(",")))

    @cached_property
    def assembler(self) -> Assembler:
        return _BrokenAssembler(self.crawler.stats, self.logger, self.args.publisher_hosts, broken=self.broken_ids)
