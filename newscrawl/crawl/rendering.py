"""JavaScript rendering with scrapy-playwright, only where a page needs it.

``RenderingAddon`` (a Scrapy add-on, listed in ``ADDONS``) finds a Chromium
and installs scrapy-playwright's download handler. Every request still goes
through Scrapy's plain HTTP handler unless it carries
``meta["playwright"] = True``. Playwright itself starts at the first such
request, not with the crawl, so a crawl that renders nothing never starts a
browser. Without a browser the handler is not installed and the spider
fetches plainly, after one warning.

Which publisher hosts may be rendered is each source's ``render`` in the
registry, overridden by ``NEWSCRAWL_RENDER_MODES`` (host -> ``never`` |
``auto`` | ``always``); the spider decides per page with ``needs_rendering``.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from scrapy.extensions.memusage import MemoryUsage
from scrapy.settings import SETTINGS_PRIORITIES

logger = logging.getLogger(__name__)

BROWSER_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Flags a headless Chromium needs as root in a sandboxed machine, and to stay
# off the network for its own updates, sync and telemetry.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    # WebRTC would send UDP (STUN, media) straight from the browser, around the proxy that applies the host
    # policy: only through the proxy, which carries no UDP, so none at all.
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
]

# What a rendered article page never needs: blocked before it is fetched.
BLOCKED_RESOURCE_TYPES = frozenset({"image", "font", "media", "texttrack", "eventsource", "websocket", "manifest"})


def find_browser(configured: str | None = None) -> str | None:
    """The Chromium to use: the configured path, else the first one on PATH; ``None`` if there is none."""
    if configured:
        return configured if os.path.isfile(configured) and os.access(configured, os.X_OK) else None
    for name in BROWSER_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def abort_request(request) -> bool:
    """PLAYWRIGHT_ABORT_REQUEST: images, fonts, media and third-party requests are not fetched."""
    if request.resource_type in BLOCKED_RESOURCE_TYPES:
        return True
    try:
        page_url = request.frame.url
    except Exception:
        return False
    page_host = urlsplit(page_url).hostname
    return bool(page_host) and not request.is_navigation_request() and urlsplit(request.url).hostname != page_host


class RenderingAddon:
    """Installs scrapy-playwright when a browser is available; leaves plain Scrapy otherwise."""

    def update_settings(self, settings) -> None:
        configured = settings.get("NEWSCRAWL_BROWSER_PATH") or os.environ.get("NEWSCRAWL_BROWSER_PATH")
        browser = find_browser(configured)
        settings.set("NEWSCRAWL_BROWSER", browser or "", priority="addon")
        if browser is None:
            return
        handler = "newscrawl.crawl.playwright_handler.OnDemandPlaywrightHandler"
        # Added to the project's handlers (which turn file:, ftp: and s3: off), at their priority: an add-on's
        # own priority is below the project's, and a dict set there would be ignored.
        handlers = {**settings.getdict("DOWNLOAD_HANDLERS"), "http": handler, "https": handler}
        settings.set("DOWNLOAD_HANDLERS", handlers, priority=max(settings.getpriority("DOWNLOAD_HANDLERS") or 0,
                                                                 SETTINGS_PRIORITIES["addon"]))
        settings.set("PLAYWRIGHT_BROWSER_TYPE", "chromium", priority="addon")
        settings.set(
            "PLAYWRIGHT_LAUNCH_OPTIONS",
            {"executable_path": browser, "headless": True, "args": CHROMIUM_ARGS, "timeout": 30_000},
            priority="addon",
        )
        settings.set("PLAYWRIGHT_ABORT_REQUEST", abort_request, priority="addon")
        # Two: while one context is being retired (after NEWSCRAWL_RENDER_PAGES_PER_CONTEXT pages), the next starts.
        settings.set("PLAYWRIGHT_MAX_CONTEXTS", settings.getint("NEWSCRAWL_RENDER_MAX_CONTEXTS", 2), priority="addon")
        settings.set("PLAYWRIGHT_MAX_PAGES_PER_CONTEXT", settings.getint("NEWSCRAWL_RENDER_MAX_PAGES", 2), priority="addon")
        settings.set(
            "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT",
            settings.getfloat("NEWSCRAWL_RENDER_TIMEOUT", 20.0) * 1000,
            priority="addon",
        )
        # Scrapy's memusage does not see the browser's processes; ours adds them. (scrapy-playwright's own
        # extension imports Playwright at start-up, needs psutil, and does not find our on-demand handler.)
        settings.set_in_component_priority_dict("EXTENSIONS", "scrapy.extensions.memusage.MemoryUsage", None)
        settings.set_in_component_priority_dict("EXTENSIONS", "newscrawl.crawl.rendering.BrowserAwareMemoryUsage", 0)


class RenderPolicy:
    """``never`` / ``auto`` / ``always`` for a publisher page: its host's mode (the registry's sources, overridden
    by ``NEWSCRAWL_RENDER_MODES``), else its source's (on a mirror the host says nothing); ``never`` when no
    browser was found, said once."""

    def __init__(self, render_modes: Mapping[str, str], browser_found: bool, log=logger):
        self.render_modes = render_modes
        self.browser_found = browser_found
        self.log = log
        self._warned = False

    def mode(self, url: str, source: str | None = None) -> str:
        from newscrawl.sources import SOURCES

        mode = self.render_modes.get((urlsplit(url).hostname or "").lower())
        if mode is None:
            registered = SOURCES.get(source or "")
            mode = registered.render if registered else "never"
        if mode != "never" and not self.browser_found:
            if not self._warned:
                self.log.warning("No Chromium found (NEWSCRAWL_BROWSER_PATH, or chromium on PATH): pages that "
                                 "need JavaScript are fetched plainly; their body may be missing")
                self._warned = True
            return "never"
        return mode


def needs_rendering(publisher_body: list[str] | None, maghress_body: list[str] | None, html: str) -> bool:
    """Whether a plainly fetched publisher page lacks the article body that a browser would show.

    True when its body container is empty, when it shows a <noscript> or
    "enable JavaScript" placeholder instead of a body of its own, or when its
    body is much shorter than the Maghress copy of the same article.
    """
    publisher_chars = sum(len(p) for p in publisher_body or ())
    maghress_chars = sum(len(p) for p in maghress_body or ())
    if publisher_chars == 0:
        return True
    if publisher_chars < 400:  # (the whole page lowercased only for a short body: most pages are long)
        lowered = html.lower()
        if "<noscript" in lowered and ("javascript" in lowered or "activez" in lowered):
            return True
    return maghress_chars >= 300 and publisher_chars < 0.5 * maghress_chars


def descendants_rss(pid: int | None = None) -> int:
    """Resident memory, in bytes, of every process descending from ``pid`` (Linux /proc; 0 elsewhere)."""
    root = pid or os.getpid()
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, ValueError, IndexError):
            continue
    family, frontier = set(), {root}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - family
        family |= frontier
    total = 0
    for child in family:
        try:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
        except (OSError, ValueError):
            continue
    return total


class BrowserAwareMemoryUsage(MemoryUsage):
    """Scrapy's memory limits and stats, counting the Playwright driver and Chromium (child processes) too."""

    def get_virtual_size(self) -> int:
        return super().get_virtual_size() + descendants_rss()
