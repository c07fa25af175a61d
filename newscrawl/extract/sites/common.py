"""Helpers shared by the site parsers: fallback chains, meta tags, JSON-LD, paragraphs, the site's name.

A parser writes each field's fallback chain once, as data: a tuple of
*steps*, each ``(name, function of the page)``. ``css_text("h1.titre")``
makes a step named by its selector, so the layout alarm's labels
(``fallbacks``) come from the chains themselves and no selector is written
twice.

(One module, longer than a parser: everything two or more site parsers share,
so that no parser imports another.)
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from parsel import Selector, SelectorList

from newscrawl.normalize import clean_text, title_key

Page = Selector  # a parsel Selector or a Scrapy TextResponse: both have .css/.xpath


Step = tuple[str, Callable[[Page], Any]]


def css_text(selector: str) -> Step:
    """A step: the cleaned text of the first node ``selector`` finds, named by the selector."""
    return selector, lambda p: text_of(p.css(selector))


def css_paragraphs(selector: str) -> Step:
    """A step: the paragraphs of the nodes ``selector`` finds."""
    return selector, lambda p: paragraphs(p.css(selector))


def css_value(selector: str) -> Step:
    """A step: the first value ``selector`` finds (an attribute: ``img::attr(src)``)."""
    return selector, lambda p: p.css(selector).get()


def xpath_value(query: str) -> Step:
    """A step: the first value an XPath query finds, named by the query."""
    return query, lambda p: p.xpath(query).get()


def candidates(page: Page, chain: Iterable[Step]) -> list[Any]:
    """Every non-empty value of a chain, in its order (dates: the loader chooses among them)."""
    return [value for _, step in chain if (value := step(page))]


def fallbacks(**chains: Iterable[Step]) -> dict[str, list[str]]:
    """The layout alarm's labels of each field's chain, from the chains themselves (``source_url`` too)."""
    labels = {field: [name for name, _ in chain] for field, chain in chains.items()}
    labels.setdefault("source_url", [*(name for name, _ in CANONICAL), "the page's URL"])
    return labels


def first(page: Page, chain: Iterable[Step]) -> tuple[Any, str]:
    """The first non-empty value of a fallback chain, and the name of the step that gave it."""
    for name, step in chain:
        value = step(page)
        if value:
            return value, name
    return None, ""


def text_of(nodes: SelectorList) -> str:
    """The cleaned text of the first node: entities decoded, inline tags dropped, <br> a space."""
    return clean_text(without_non_text(nodes[0].get())) if nodes else ""


def once_per_page(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function(page, *args)``, evaluated once for the page being read (and the same further arguments):
    the field functions of one page share one pass over its meta tags, its JSON-LD, its byline, its
    headline. (The last page is kept, so its identity is not reused by another.)"""
    last: list = [None, None, None]

    @functools.wraps(function)
    def for_page(page: Page, *args: Any) -> Any:
        if last[0] is not page or last[1] != args:
            last[:] = [page, args, function(page, *args)]
        return last[2]

    return for_page


@once_per_page
def _meta_tags(page: Page) -> dict[str, str]:
    tags: dict[str, str] = {}
    for node in page.xpath("//meta[@content]"):
        attrib = node.attrib
        for key in ("property", "name", "itemprop"):
            if key in attrib:
                tags.setdefault(attrib[key], attrib["content"])
    return tags


def meta(page: Page, name: str) -> str:
    """A ``<meta property|name|itemprop=...>`` value, cleaned, or ''."""
    return clean_text(_meta_tags(page).get(name))


# Where one paragraph ends and another begins: a line break, a block's start or end. (Its start too: text
# before an unclosed "<p>" is a paragraph of its own, and a paragraph's text then comes without its tag.)
# Linear on any markup: no quantifier crosses a "<" (see normalize/text.py).
_BREAK = re.compile(r"<br\s*/?>|</?(?:p|div|h[1-6]|li|blockquote)(?:\s[^<>]*)?>", re.IGNORECASE)
# Elements whose content is never text: the opening tag found by a regex, the end by the search below.
_NOT_TEXT_START = re.compile(r"<(script|style|noscript|figure|iframe)\b", re.IGNORECASE)
_NOT_TEXT_END = {name: re.compile(rf"</{name}\s*>", re.IGNORECASE)
                 for name in ("script", "style", "noscript", "figure", "iframe")}


def without_non_text(markup: str) -> str:
    """``markup`` without its script, style, noscript, figure and iframe elements (each replaced by a space),
    as the lazy regex it replaces did (an opening tag, anything, the first end tag of that name), in one pass:
    that regex scanned to the end of the markup from every opening tag without an end (a comment full of "<figure " took a minute). An element
    without its end tag is left as it is; once an end is missing, no later element of that name has one."""
    parts, pos, unclosed = [], 0, set()
    for start in _NOT_TEXT_START.finditer(markup):
        name = start.group(1).lower()
        if start.start() < pos or name in unclosed:
            continue
        end = _NOT_TEXT_END[name].search(markup, start.end())
        if end is None:
            unclosed.add(name)
            continue
        parts += (markup[pos:start.start()], " ")
        pos = end.end()
    if not parts:
        return markup
    parts.append(markup[pos:])
    return "".join(parts)


def paragraphs(nodes: SelectorList) -> list[str]:
    """Paragraphs of one or more containers: ``<p>``, ``<br>`` and block ends split them."""
    out: list[str] = []
    for node in nodes:
        markup = without_non_text(node.get())
        for chunk in _BREAK.split(markup):
            text = clean_text(chunk)
            if text:
                out.append(text)
    return out


@once_per_page
def jsonld_articles(page: Page) -> list[dict[str, Any]]:
    """``NewsArticle``/``Article`` objects of the page's JSON-LD, ``@graph`` included (parsed once per page)."""
    found: list[dict[str, Any]] = []
    for raw in page.xpath('//script[@type="application/ld+json"]/text()').getall():
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            continue  # broken (or absurdly deep) JSON-LD is common; the other fallbacks stand
        for obj in _walk_jsonld(data):
            kind = obj.get("@type")
            kinds = kind if isinstance(kind, list) else [kind]
            if any(isinstance(k, str) and (k.endswith("Article") or k in _ARTICLE_TYPES) for k in kinds):
                found.append(obj)
    return found


# Schema.org types of one story besides "…Article" (NewsArticle, ReportageNewsArticle, …).
_ARTICLE_TYPES = frozenset({"BlogPosting", "LiveBlogPosting", "Report", "SocialMediaPosting", "Review"})


#: How deep ``@graph``/``mainEntity``/lists are followed: real documents nest two or three levels.
_JSONLD_DEPTH = 8


def _walk_jsonld(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Objects of a JSON-LD document: the top ones, those of ``@graph``, and the page's ``mainEntity``
    (a ``WebPage`` whose main entity is the article). Not every nested object: a list of related
    articles is not the page's article. Not deeper than ``_JSONLD_DEPTH``."""
    if depth > _JSONLD_DEPTH:
        return
    if isinstance(data, list):
        for entry in data:
            yield from _walk_jsonld(entry, depth + 1)
    elif isinstance(data, dict):
        yield data
        for key in ("@graph", "mainEntity"):
            if isinstance(data.get(key), (dict, list)):
                yield from _walk_jsonld(data[key], depth + 1)


def jsonld_value(page: Page, key: str) -> Any:
    """The first non-empty ``key`` of the page's JSON-LD articles."""
    for obj in jsonld_articles(page):
        value = obj.get(key)
        if value:
            return value
    return None


def names(value: Any, depth: int = 0) -> list[str]:
    """Person names from a JSON-LD ``author`` (a string, an object or a list of either)."""
    if not value or depth > _JSONLD_DEPTH:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        name = value.get("name")
        return [name] if isinstance(name, str) else []
    if isinstance(value, list):
        return [n for entry in value for n in names(entry, depth + 1)]
    return []


def url_of(value: Any, depth: int = 0) -> str:
    """A URL from a JSON-LD ``image``-like value."""
    if depth > _JSONLD_DEPTH:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return url_of(value.get("url") or value.get("contentUrl"), depth + 1)
    if isinstance(value, list) and value:
        return url_of(value[0], depth + 1)
    return ""


def jsonld_text(page: Page, key: str) -> str:
    """The first ``key`` of the page's JSON-LD articles as clean text; '' when it is not a string (a list, a
    number, an object: JSON-LD in the wild gives all of them)."""
    value = jsonld_value(page, key)
    return clean_text(value) if isinstance(value, str) else ""


# ---------------------------------------------------------------------------
# Steps every publisher page may offer (meta tags, JSON-LD): the tail of most fallback chains.
# Each is (name, function of the page), as ``first`` takes them.
# ---------------------------------------------------------------------------

def _titled(text: str, page: Page) -> str:
    return without_site_name(text, site_keys(page, getattr(page, "url", None))) if text else ""


# Headlines as the page declares them, without the site's name ("Titre | L'Opinion", "Titre：Site").
OG_TITLE = ("og:title", lambda p: _titled(meta(p, "og:title"), p))
JSONLD_HEADLINE = ("json-ld headline", lambda p: _titled(jsonld_text(p, "headline"), p))
HTML_TITLE = ("<title>", lambda p: _titled(text_of(p.css("title")), p))
JSONLD_BODY = ("json-ld articleBody", lambda p: split_paragraphs(jsonld_value(p, "articleBody")))
JSONLD_AUTHORS = ("json-ld author", lambda p: names(jsonld_value(p, "author")))
META_AUTHOR = ("meta author", lambda p: [meta(p, "author")] if meta(p, "author") else [])
OG_IMAGE = ("og:image", lambda p: meta(p, "og:image"))
JSONLD_IMAGE = ("json-ld image", lambda p: url_of(jsonld_value(p, "image")))


def split_paragraphs(text: Any) -> list[str]:
    """Paragraphs of a plain text (JSON-LD ``articleBody``): blank lines separate them."""
    if not isinstance(text, str):
        return []
    return [t for t in (clean_text(x) for x in re.split(r"\n\s*\n|\r\n\r\n", text)) if t]


# Machine-readable publication dates a page declares, most authoritative first.
METADATA_DATES: tuple[Step, ...] = (
    ("article:published_time", lambda p: meta(p, "article:published_time")),
    ("json-ld datePublished", lambda p: jsonld_text(p, "datePublished")),
    ("time[datetime]", lambda p: clean_text(p.css("time[datetime]::attr(datetime)").get())),
)


def metadata_dates(page: Page) -> list[str]:
    """Machine-readable publication dates a page declares, most authoritative first."""
    return candidates(page, METADATA_DATES)


# ---------------------------------------------------------------------------
# The site's name, and titles without it ("Title - Golem.de", "Title：中日新聞Web", "Site | Title")
# ---------------------------------------------------------------------------

# Where a site's name is appended to (or put before) a headline: a bar, a dash or a middle dot between
# spaces, a full-width colon or bar, or a bare bar or hyphen.
_SITE_SEPARATOR = re.compile(r"\s+[|\-–—·•»/]\s+|\s*(?:[|｜：]|::)\s*|-(?=\S)")
# Second-level labels that name no site ("bbc.co.uk" is "bbc").
_GENERIC_LABELS = frozenset({"www", "m", "amp", "co", "com", "org", "net", "ac", "gov", "edu", "news"})


def _name_key(text: str) -> str:
    """Letters and digits only, case-folded, accents dropped: "Golem.de" gives "golemde", "Libération" "liberation"."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if c.isalnum())


def site_keys(page: Page, url: str | None, known: Iterable[str] = ()) -> set[str]:
    """Keys of the names the page's site goes by: ``og:site_name``, ``application-name``, the JSON-LD
    publisher's name, its host ("golem.de" gives "golemde" and "golem"), and ``known`` names (the source
    registry's name and hosts for the publisher: on a mirror the host says nothing)."""
    names = [*_declared_site_names(page), *known]
    host = (urlsplit(url).hostname or "") if url else ""
    labels = [label for label in host.split(".") if label]
    if len(labels) >= 2:
        names.append(".".join(labels[-2:]) if labels[-2] not in _GENERIC_LABELS else ".".join(labels[-3:]))
        names += [label for label in labels[:-1] if label not in _GENERIC_LABELS]
    return {key for key in map(_name_key, names) if len(key) >= 2}


@once_per_page
def _declared_site_names(page: Page) -> list[str]:
    """The names the page gives its site: ``og:site_name``, ``application-name``, the JSON-LD publisher's."""
    names = [meta(page, "og:site_name"), meta(page, "application-name")]
    for obj in jsonld_articles(page):
        publisher = obj.get("publisher")
        for entry in publisher if isinstance(publisher, list) else [publisher]:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                names.append(entry["name"])
    return names


#: The longest head or tail of a title that may be the site's name (with a section or a date beside it).
_SITE_NAME_MAX = 60


def is_site_name(part: str, keys: set[str]) -> bool:
    """A title's head or tail that is the site's name, maybe with a section or a date beside it
    ("DW – 30.01.2024", "정치ㅣ한국일보", "Corriere.it")."""
    if len(part) > _SITE_NAME_MAX:
        return False
    key = _name_key(part)
    if not key:
        return False
    first_word = _name_key(next(iter(re.findall(r"\w+", part)), ""))
    for site in keys:
        if len(site) < 4:  # "DW", "rp": only as the part's first word, not inside another ("Dwight")
            if first_word == site:
                return True
        elif (site in key and len(key) - len(site) <= 12) or (len(key) >= 4 and key in site):
            return True
    return False


def without_site_name(title: str, keys: set[str]) -> str:
    """``title`` without the site's name appended or put before it; the headline itself untouched."""
    if not title or not keys:
        return title
    cuts = list(_SITE_SEPARATOR.finditer(title))
    for m in reversed(cuts):  # the last separator first: "Title - Section | Site" loses "| Site" only
        if len(title) - m.end() > _SITE_NAME_MAX:
            break  # (the earlier separators' tails are longer still: a title of many separators stays linear)
        if m.start() > 0 and is_site_name(title[m.end():], keys):
            return title[: m.start()].rstrip()
    for m in cuts[:1]:
        if m.end() < len(title) and m.start() <= _SITE_NAME_MAX and is_site_name(title[: m.start()], keys):
            return title[m.end():].lstrip()
    return title


CANONICAL: tuple[Step, ...] = (
    ("link[rel=canonical]", lambda p: p.xpath("//link[@rel='canonical']/@href").get()),
    ("og:url", lambda p: meta(p, "og:url")),
)


def canonical_url(page: Page, url: str) -> str:
    """The page's canonical URL (``link[rel=canonical]``, ``og:url``), else its own."""
    found, _ = first(page, CANONICAL)
    return absolute(url, found) or url


def language(page: Page) -> tuple[str, str]:
    return first(
        page,
        (
            ("<html lang>", lambda p: clean_text(p.xpath("/html/@lang").get())),
            ("json-ld inLanguage", lambda p: jsonld_text(p, "inLanguage")),
            ("og:locale", lambda p: meta(p, "og:locale")),
        ),
    )


def absolute(url: str, found: str | None) -> str:
    return urljoin(url, found.strip()) if found else ""


@once_per_page
def _link_titles(page: Page) -> frozenset[str]:
    """Title keys of the page's links of at least four words: the headlines of the articles it points to."""
    keys = set()
    for text in page.xpath("//a[@href]").xpath("normalize-space(string(.))").getall():
        if len(text.split()) >= 4:
            keys.add(title_key(text))
    return frozenset(keys)


def is_link_teaser(paragraph: str, page: Page) -> bool:
    """"Lire aussi : <a>Another headline</a>": a short label, then nothing but the text of a link of the page
    (to another article). Publishers put these inside the text; they are not part of it."""
    label, colon, rest = paragraph.partition(":")
    if not colon or not rest.strip() or len(label.split()) > 4:
        return False
    return title_key(rest) in _link_titles(page)


def publisher_fields(page: Page, url: str, *, title, lead, body, authors, dates, image_url) -> dict[str, Any]:
    """A publisher page's raw fields from its parser's field functions, plus ``_via`` (which step gave what).
    Whatever the parser, the body loses its link teasers (``is_link_teaser``)."""
    title_text, title_via = title(page)
    lead_text, _ = lead(page)
    body_paragraphs, body_via = body(page)
    body_paragraphs = [p for p in body_paragraphs or [] if not is_link_teaser(p, page)]
    author_names, _ = authors(page)
    lang, _ = language(page)
    return {
        "source_url": canonical_url(page, url),
        "title": title_text or "",
        "lead": lead_text or "",
        "body": body_paragraphs or [],
        "authors": author_names or [],
        "dates": dates(page),
        "language": lang or "",
        "image_url": image_url(page, url),
        "_via": {"title": title_via, "body": body_via},
    }


@dataclass(frozen=True)
class PublisherParser:
    """A publisher's article pages, as data: each field's fallback chain (steps tried in order).

    A publisher module is one of these, plus the steps of its own markup; what it reads
    (``parse_article``) and the layout alarm's labels (``fallbacks``) derive from the chains. ``dates``
    gives every candidate, most precise first (the item loader chooses); the other fields the first
    step that finds something.
    """

    title: tuple[Step, ...]
    lead: tuple[Step, ...]
    body: tuple[Step, ...]
    authors: tuple[Step, ...]
    dates: tuple[Step, ...]
    image: tuple[Step, ...]

    @property
    def fallbacks(self) -> dict[str, list[str]]:
        """Each watched field's chain, as the layout-change alarm names it."""
        return fallbacks(title=self.title, body=self.body, authors=self.authors, published_date=self.dates)

    def field(self, name: str, page: Page) -> Any:
        """One field of a page: ``(value, step that gave it)``; for ``dates``, every candidate."""
        chain = getattr(self, name)
        return candidates(page, chain) if name == "dates" else first(page, chain)

    def parse_article(self, page: Page, url: str, site_names: tuple[str, ...] = ()) -> dict[str, Any]:
        """Raw fields of an article page, plus ``_via``: which step gave each field. (``site_names`` is the
        generic extractor's: a publisher's chains name its own markup.)"""
        return publisher_fields(
            page, url, title=lambda p: self.field("title", p), lead=lambda p: self.field("lead", p),
            body=lambda p: self.field("body", p), authors=lambda p: self.field("authors", p),
            dates=lambda p: self.field("dates", p), image_url=lambda p, u: absolute(u, first(p, self.image)[0]),
        )
