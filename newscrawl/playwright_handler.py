"""scrapy-playwright's download handler, started on demand (imported only when a browser is available)."""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy import signals
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler


class LazyPlaywrightDownloadHandler(ScrapyPlaywrightDownloadHandler):
    """scrapy-playwright's handler, except that Playwright starts at the first request that needs it.

    Requests without ``meta["playwright"]`` go to Scrapy's plain HTTP handler
    (the parent class does that), so a crawl that renders nothing never
    starts Playwright or a browser.
    """

    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        # The parent starts Playwright when the engine starts; we start it on demand.
        crawler.signals.disconnect(self._maybe_launch_in_thread, signals.engine_started)
        self._started = False
        self._start_lock = asyncio.Lock()

    async def _download_request(self, request, spider=None) -> Any:
        if not self._started:
            async with self._start_lock:
                if not self._started:
                    await self._launch()
                    self._started = True
        return await super()._download_request(request, spider)
