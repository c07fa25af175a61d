"""The offline demo: a copy of Maghress and four publishers (``site/``, package data) and the small server
that serves it on 127.0.0.1 (``server``). ``newscrawl demo`` crawls it; the tests crawl it too."""

from pathlib import Path

#: The demo's site directory (inside the installed package).
SITE = Path(__file__).resolve().parent / "site"
