"""The download handler: Scrapy's plain HTTP handler, with scrapy-playwright's called in on demand.

Requests without ``meta["playwright"]`` are downloaded by Scrapy's own
HTTP/1.1 handler. The first request that asks for a browser imports
scrapy-playwright (and Playwright, ~0.6 s), creates its handler and starts
Playwright; the browser itself is launched by scrapy-playwright for that
first page. A crawl that renders nothing pays for none of it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy import signals
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler


class OnDemandPlaywrightHandler(HTTP11DownloadHandler):
    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        self._crawler = crawler
        self._playwright: Any = None
        self._start_lock = asyncio.Lock()

    async def _playwright_handler(self):
        async with self._start_lock:
            if self._playwright is None:
                from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

                handler = ScrapyPlaywrightDownloadHandler.from_crawler(self._crawler)
                # It would start Playwright when the engine starts; the engine started long ago.
                self._crawler.signals.disconnect(handler._maybe_launch_in_thread, signals.engine_started)
                await handler._launch()
                self._playwright = handler
        return self._playwright

    async def download_request(self, request):
        if request.meta.get("playwright"):
            handler = await self._playwright_handler()
            return await handler.download_request(request)
        return await super().download_request(request)

    async def close(self) -> None:
        if self._playwright is not None:
            await self._playwright.close()
        await super().close()
