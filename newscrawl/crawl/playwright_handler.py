"""The download handler: Scrapy's plain HTTP handler, with scrapy-playwright's called in on demand.

Requests without ``meta["playwright"]`` are downloaded by Scrapy's own
HTTP/1.1 handler. The first request that asks for a browser imports
scrapy-playwright (and Playwright, ~0.6 s), creates its handler and starts
Playwright; the browser itself is launched by scrapy-playwright for that
first page. A crawl that renders nothing pays for none of it.

The browser reaches the network only through ``newscrawl.crawl.browserproxy``
(the crawl's host policy, redirects included), started with Playwright.

Browser memory grows over a long crawl, so every
``NEWSCRAWL_RENDER_PAGES_PER_CONTEXT`` renders go to a fresh browser
context, and a retired context is closed as soon as its last page is done.

scrapy-playwright offers no public way to start late, to set the launch proxy
from code or to close one context: this module is the one place that reaches
into it (``_launch``, ``_maybe_launch_in_thread``, ``config``,
``context_wrappers``; checked on 0.0.48, the upper bound in pyproject.toml,
and by tests/test_versions.py).
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
        self._proxy: Any = None
        self._start_lock = asyncio.Lock()
        self._renders = 0
        self._pages_per_context = max(1, crawler.settings.getint("NEWSCRAWL_RENDER_PAGES_PER_CONTEXT", 50))

    async def _playwright_handler(self):
        async with self._start_lock:
            if self._playwright is None:
                from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

                from newscrawl.crawl.browserproxy import BrowserProxy
                from newscrawl.crawl.hostpolicy import HostPolicy

                self._proxy = BrowserProxy(lambda: HostPolicy.of(self._crawler.spider), self._crawler.stats)
                proxy_url = await self._proxy.start()
                handler = ScrapyPlaywrightDownloadHandler.from_crawler(self._crawler)
                # scrapy-playwright 0.0.48 keeps its launch options in handler.config (checked by
                # tests/test_versions.py); every browser request, loopback included, then goes through the proxy.
                handler.config.launch_options["proxy"] = {"server": proxy_url}
                # It would start Playwright when the engine starts; the engine started long ago.
                self._crawler.signals.disconnect(handler._maybe_launch_in_thread, signals.engine_started)
                await handler._launch()
                self._playwright = handler
        return self._playwright

    async def download_request(self, request):
        if not request.meta.get("playwright"):
            return await super().download_request(request)
        handler = await self._playwright_handler()
        current = f"newscrawl-{self._renders // self._pages_per_context}"
        self._renders += 1
        request.meta["playwright_context"] = current
        try:
            return await handler.download_request(request)
        finally:
            await self._close_retired_contexts(handler, current)

    async def _close_retired_contexts(self, handler, current: str) -> None:
        """Close the contexts of earlier generations that have no page open any more."""
        for name, wrapper in list(handler.context_wrappers.items()):
            if name.startswith("newscrawl-") and name != current and not wrapper.context.pages:
                handler.context_wrappers.pop(name, None)
                try:
                    await wrapper.context.close()
                except Exception:  # already closed with its browser
                    pass
                self._crawler.stats.inc_value("newscrawl/render/contexts_closed")

    async def close(self) -> None:
        if self._playwright is not None:
            await self._playwright.close()
        if self._proxy is not None:
            await self._proxy.close()
        await super().close()
