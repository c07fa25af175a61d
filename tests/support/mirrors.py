"""Fixture sites built from the demo's site (``newscrawl/demo/site``) for cases its own pages do not model.

``canonical_mirror`` is a copy of Maghress as a mirror really serves one: its
article pages declare the *production* URL as canonical, and its listings and
ticker name articles in every form a link can take. A crawl that keys
articles by URL string stores one form and looks up another: every re-crawl
then fetches everything again.
"""

from __future__ import annotations

import re
import shutil
from itertools import cycle
from pathlib import Path

from newscrawl.demo import SITE as DEMO_SITE

SITE = DEMO_SITE
PRODUCTION = "https://www.maghress.com"

# The forms a link to /fr/<section>/<id> takes, in turn.
LINK_FORMS = (
    "/fr/{section}/{id}-{slug}",  # a slug after the id
    "/fr/{section}/{id}?utm_source=maghress&from=home",  # a query after the id
    "http://maghress.com/fr/{section}/{id}",  # the production host, over http, without www.
    "{{{{ORIGIN}}}}/fr/{section}/{id}/{slug}",  # the mirror, absolute, with a slug as a path segment
    "https://www.maghress.com/fr/{section}/{id}",  # the production URL itself
)
_LINK = re.compile(r'href="(?:\{\{ORIGIN\}\})?/fr/(?P<section>[a-z0-9_-]+)/(?P<id>\d+)[^"]*"')
_CANONICAL = re.compile(r'<link rel="canonical" href="[^"]*">\s*')


def _relink(html: str, forms) -> str:
    def replace(m: re.Match) -> str:
        form = next(forms)
        return 'href="' + form.format(section=m.group("section"), id=m.group("id"), slug="titre-de-l-article") + '"'

    return _LINK.sub(replace, html)


def canonical_mirror(dest: Path, site: Path = SITE) -> Path:
    """Copy ``site`` to ``dest`` as a mirror whose pages name the production host; returns ``dest``."""
    shutil.copytree(site, dest)
    forms = cycle(LINK_FORMS)
    for page in sorted((dest / "fr").glob("*/*.html")):
        html = page.read_text("utf-8")
        m = re.fullmatch(r"(\d+)\.html", page.name)
        if m:  # an article page: the production URL as canonical
            canonical = f'<link rel="canonical" href="{PRODUCTION}/fr/{page.parent.name}/{m.group(1)}">'
            html = _CANONICAL.sub("", html).replace("<head>", f"<head>\n{canonical}", 1)
        else:  # a listing page: links in every form
            html = _relink(html, forms)
        page.write_text(html, "utf-8")
    ticker = dest / "_ticker.html"
    ticker.write_text(_relink(ticker.read_text("utf-8"), forms), "utf-8")
    return dest


def add_listing_entry(site: Path, section: str, html: str, page: str = "index.html") -> None:
    """Put a listing entry (an ``<li>``) at the top of a listing page of ``site``."""
    listing = site / "fr" / section / page
    text = listing.read_text("utf-8")
    listing.write_text(text.replace('<ul class="articles">', f'<ul class="articles">\n{html}', 1), "utf-8")


def maghress_article(title: str, body_html: str, day: str = "12 - 12 - 2025", source_link: str = "",
                     head: str = "") -> str:
    """A Maghress article page in the fixture site's shape (``{{TICKER}}`` and ``{{ORIGIN}}`` filled by the server)."""
    link = (f'<a href="{source_link}" target="_blank" rel="nofollow">Cliquez ici pour lire l\'article depuis sa '
            f"source.</a>") if source_link else ""
    return (
        f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">{head}<title>Maghress</title></head><body>'
        f'{{{{TICKER}}}}<div class="col-md-12"><h1><span class="articletitle">{title}</span></h1>'
        f'<span class="articlenewspaper">Publié dans <a href="/fr/lopinion">L\'opinion</a> le {day}</span>'
        f'<span class="articlecontent">{body_html}</span>{link}</div></body></html>'
    )
