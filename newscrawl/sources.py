"""The sources newscrawl knows: one declarative entry per French-language Maghress source.

Adding a source is one ``Source(...)`` line in ``SOURCES`` (see docs/sources.md):

- ``slug``: Maghress's section, ``/fr/<slug>`` (listing) and ``/fr/<slug>/<id>`` (articles);
- ``name``: the display name stored as ``source_name``;
- ``publisher_hosts``: the hosts its "read at source" link may lead to (nothing else is followed);
- ``languages``: what it publishes in, for documentation and language detection hints;
- ``render``: ``never`` / ``auto`` / ``always``: whether its publisher pages need a browser
  (``NEWSCRAWL_RENDER_MODES`` overrides it per host);
- ``parser``: the module of ``newscrawl.extract.sites`` that reads its publisher pages, or ``None`` for
  the generic extractor (trafilatura + JSON-LD/Open Graph);
- ``byline_names``: other spellings of its name in Maghress's "Publié dans <name> le …" byline.

Only ``lopinion`` (Maghress URLs, lopinion.ma markup) and the ``lagazette`` slug are observed on
the live sites; the other slugs and publisher hosts are the modelled ones of docs/sources.md.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

RENDER_MODES = ("never", "auto", "always")


@dataclass(frozen=True, slots=True)
class Source:
    slug: str
    name: str
    publisher_hosts: tuple[str, ...]
    languages: tuple[str, ...] = ("fr",)
    render: str = "never"
    parser: str | None = None
    byline_names: tuple[str, ...] = ()

    def __post_init__(self):
        if not re.fullmatch(r"[a-z0-9_-]+", self.slug):
            raise ValueError(f"source slug {self.slug!r}: lower-case letters, digits, '-' and '_' only")
        if self.render not in RENDER_MODES:
            raise ValueError(f"source {self.slug}: render={self.render!r}, expected one of {', '.join(RENDER_MODES)}")


SOURCES: dict[str, Source] = {
    source.slug: source
    for source in (
        Source("lopinion", "L'Opinion", ("lopinion.ma", "www.lopinion.ma"), ("fr", "en", "es"), render="auto",
               parser="lopinion"),
        Source("lematin", "Le Matin", ("lematin.ma", "www.lematin.ma"), parser="lematin"),
        Source("aujourdhui", "Aujourd'hui le Maroc", ("aujourdhui.ma", "www.aujourdhui.ma"), parser="aujourdhui",
               byline_names=("Aujourd'hui", "ALM")),
        Source("leconomiste", "L'Economiste", ("leconomiste.com", "www.leconomiste.com")),
        Source("libe", "Libération", ("libe.ma", "www.libe.ma"), byline_names=("Libération Maroc",)),
        Source("lagazette", "La Gazette du Maroc", ("lagazettedumaroc.com", "www.lagazettedumaroc.com"),
               byline_names=("La Gazette",)),
        Source("albayane", "Al Bayane", ("albayane.press.ma",)),
        Source("lereporter", "Le Reporter", ("lereporter.ma", "www.lereporter.ma")),
    )
}


def name_key(name: str | None) -> str:
    """A source name reduced for matching: "L’Économiste" and "l'economiste" give "leconomiste"."""
    decomposed = unicodedata.normalize("NFKD", name or "")
    return "".join(c for c in decomposed if c.isalnum()).lower()


_BY_NAME: dict[str, Source] = {}
for _source in SOURCES.values():
    for _name in (_source.name, _source.slug, *_source.byline_names):
        _BY_NAME.setdefault(name_key(_name), _source)


def source_named(name: str | None) -> Source | None:
    """The registered source a byline names ("Publié dans Le Matin le …" -> lematin), else ``None``."""
    return _BY_NAME.get(name_key(name)) if name else None


def parse_source_list(value: str | None) -> list[Source]:
    """``"lopinion,lematin"`` -> those sources; empty -> every registered source. Unknown names raise ``ValueError``."""
    if not value or not str(value).strip():
        return list(SOURCES.values())
    slugs = [s.strip().lower() for s in str(value).split(",") if s.strip()]
    unknown = [s for s in slugs if s not in SOURCES]
    if unknown:
        raise ValueError(f"unknown source(s) {', '.join(unknown)}; registered: {', '.join(SOURCES)}")
    return [SOURCES[s] for s in dict.fromkeys(slugs)]
