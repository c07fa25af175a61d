"""The generic extractor: any publisher page, for a source without a parser of its own.

Well-kept libraries do the reading: trafilatura finds the article's text
among the navigation, sidebars and comments; the page's own metadata
(JSON-LD, Open Graph, ``<meta>``) gives title, authors and image; dates
come from the metadata, then htmldate's search of the page. What it cannot
find stays empty, and the Maghress page's value stands for it. Articles it
filled are marked (``extractor = generic``, ``generic_fields`` names the
fields it supplied) so users can tell them from a dedicated parser's.

trafilatura and htmldate are imported on first use: a crawl whose sources
all have parsers never loads them.
"""

from __future__ import annotations

import re
from typing import Any

from newscrawl.normalize import clean_text, parse_date, title_key, word_overlap
from newscrawl.extract.sites.common import (
    HTML_TITLE, JSONLD_AUTHORS, JSONLD_BODY, JSONLD_HEADLINE, JSONLD_IMAGE, META_AUTHOR, OG_IMAGE, OG_TITLE, Page,
    absolute, first, is_site_name, jsonld_articles, meta, metadata_dates, once_per_page, publisher_fields, site_keys,
    text_of, without_site_name,
)

_H1 = "h1"

FALLBACKS = {
    "title": ["json-ld headline (or the h1 it was cut from)", "h1 agreeing with og:title/<title>", "og:title",
              "twitter:title", "<title>", "first h1"],
    "body": ["trafilatura", "json-ld articleBody (also when twice as long)"],
    "authors": ["json-ld author", "meta author", "trafilatura metadata"],
    "published_date": ["article:published_time", "json-ld datePublished", "time[datetime]", "htmldate"],
    "source_url": ["link[rel=canonical]", "og:url", "the page's URL"],
}


def _html(page: Page) -> str:
    return page.text if hasattr(page, "text") else page.get()


def _page_url(page: Page) -> str | None:
    return getattr(page, "url", None)


def _h1s(page: Page) -> list[str]:
    """The page's h1 texts (a page may have several: the logo's, a section's, the article's)."""
    return [t for t in (text_of([h]) for h in page.css(_H1)) if t and len(t) <= 400]


def _agree(a: str, b: str) -> bool:
    """Two spellings of one headline: the same key, or one inside the other."""
    ka, kb = title_key(a), title_key(b)
    return bool(ka and kb) and (ka == kb or (min(len(ka), len(kb)) >= 12 and (ka in kb or kb in ka)))


# How much each declaration of the headline counts when they disagree: the JSON-LD headline is the
# publisher's own statement of it, the others are written for readers, search results and social networks.
_TITLE_WEIGHTS = {"json-ld headline": 1.5, "h1": 1.0, "og:title": 1.0, "twitter:title": 1.0, "<title>": 1.0}
_TRAILING_PART = re.compile(r"^\s*[|\-–—·•]\s")


@once_per_page  # the body's furniture rule compares lines with it: chosen once per page
def title(page: Page, site_names: tuple[str, ...] = ()) -> tuple[str, str]:
    """The headline, chosen by agreement between the page's declarations of it, not by a fixed order.

    Candidates: the JSON-LD ``headline``, the ``h1`` a reader sees (the one
    another declaration names, when a page has several), ``og:title``,
    ``twitter:title`` and ``<title>``, each without the site's name
    (``without_site_name``). Each counts the weight of the candidates it
    agrees with (the same headline key, or one inside the other); the
    heaviest wins, ties going to the order above. Then: a winner that is
    another candidate plus a trailing part after a separator ("Headline |
    Sport") gives way to it, and a winner cut short (search results truncate
    headlines) gives way to the h1 it was cut from.
    """
    candidates, h1s = title_candidates(page, site_names)
    if not candidates:
        return "", ""
    support = {name: sum(_TITLE_WEIGHTS[other] for other, text2 in candidates.items() if _agree(text, text2))
               for name, text in candidates.items()}
    best = max(candidates, key=lambda name: support[name])  # max keeps the first of equals: the order above
    chosen, via = candidates[best], best
    for name, text in candidates.items():
        if len(text) < len(chosen) and chosen.startswith(text) and _TRAILING_PART.match(chosen[len(text):]):
            chosen, via = text, name
    stem = title_key(chosen.rstrip(" .…"))
    for h1 in h1s:
        if len(h1) > len(chosen) and stem and title_key(h1).startswith(stem):
            return h1, f"h1 ({via} cut short)"
    return chosen, via


def title_candidates(page: Page, site_names: tuple[str, ...] = ()) -> tuple[dict[str, str], list[str]]:
    """The page's declarations of its headline, each without the site's name, in `title`'s order of
    precedence (name -> text, the absent ones left out), and the page's h1 texts."""
    keys = site_keys(page, _page_url(page), site_names)
    announced = {
        "json-ld headline": JSONLD_HEADLINE[1](page),
        "og:title": OG_TITLE[1](page),
        "twitter:title": meta(page, "twitter:title"),
        "<title>": HTML_TITLE[1](page),
    }
    announced = {name: without_site_name(text, keys) for name, text in announced.items() if text}
    h1s = _h1s(page)
    named = next((h for h in h1s if any(_agree(h, text) for text in announced.values())), None)
    candidates = {"json-ld headline": announced.get("json-ld headline", ""), "h1": named or (h1s[0] if h1s else "")}
    candidates.update({n: announced.get(n, "") for n in ("og:title", "twitter:title", "<title>")})
    return {name: text for name, text in candidates.items() if text}, h1s


def lead(page: Page) -> tuple[str, str]:
    return "", ""  # a lead cannot be told from a first paragraph without the site's markup


@once_per_page  # body() and authors() read one extraction
def _trafilatura_body(page: Page) -> list[str]:
    import trafilatura  # noqa: PLC0415  (lazy: see the module docstring)

    # Tables are kept: results, figures and schedules are the text of many articles (measured on real pages:
    # docs/sources.md).
    text = trafilatura.extract(
        _html(page), url=_page_url(page), output_format="txt", include_comments=False, include_tables=True,
        include_images=False, favor_precision=True, deduplicate=False, with_metadata=False,
    )
    # trafilatura's output is text: cleaned as text (a "<" in it is a character, not a tag).
    return [line for line in (clean_text(x, markup=False) for x in (text or "").splitlines()) if line]


def body(page: Page, site_names: tuple[str, ...] = ()) -> tuple[list[str], str]:
    found, via = _trafilatura_body(page), "trafilatura"
    declared = JSONLD_BODY[1](page)
    if sum(map(len, declared)) > 2 * sum(map(len, found)):
        # Without trafilatura's text, or when the HTML is a shell (a JavaScript front end, "Chargement…")
        # whose JSON-LD carries the whole text: the longer of the two is the article.
        found, via = declared, JSONLD_BODY[0]
    elif declared and word_overlap(" ".join(declared), " ".join(found)) >= 0.8:
        # The publisher states the article's text, and it is the text trafilatura found (not a teaser): its
        # statement, without the boxes, lists of links and calls to subscribe that sit around it on the page.
        found, via = declared, JSONLD_BODY[0]
    if not found:
        via = ""
    found = [line for line in found if not _describes_an_author(line, page)]
    return _without_page_furniture(found, title(page, site_names)[0]), via


@once_per_page
def _author_descriptions(page: Page) -> list[str]:
    """The title keys of what the JSON-LD says about the article's authors (``author``/``creator`` objects'
    ``description``): the text of the author box a page prints under the article."""
    found = []
    for article in jsonld_articles(page):
        for key in ("author", "creator"):
            people = article.get(key)
            for person in people if isinstance(people, list) else [people]:
                if isinstance(person, dict) and isinstance(person.get("description"), str):
                    found.append(title_key(clean_text(person["description"])))
    return [text for text in found if text]


def _describes_an_author(line: str, page: Page) -> bool:
    """A line of the author box (a sentence of an author's description): not the article's text."""
    descriptions = _author_descriptions(page)
    if not descriptions or len(line.split()) < 6:
        return False
    key = title_key(line)
    return bool(key) and any(key in text for text in descriptions)


_BYLINE_LINE = re.compile(r"^(?:von|by|par|por|de|di|av|door|af|od|przez)\s+\S+(?:\s+\S+){0,3}$", re.IGNORECASE)
_SENTENCE_END = tuple(".!?:;…\"»”)")


def _is_furniture(line: str, heading: str) -> bool:
    """A line around the article's text that is not text: the headline again, a byline ("Von Nina Magoley"),
    a dateline ("Stand: 22.04.2024, 06:00 Uhr")."""
    if heading and title_key(line) == heading:
        return True
    if _BYLINE_LINE.match(line):
        return True
    words = line.split()
    return len(words) <= 8 and not line.endswith(_SENTENCE_END) and parse_date(line) is not None


def _without_page_furniture(lines: list[str], headline: str) -> list[str]:
    """The text without what sits at its edges: the headline, byline and dateline before it (trafilatura keeps
    the article's heading as its first line; the title is a field of its own), and, after it, teaser cards to
    other articles, datelines and a last heading with nothing under it ("Popular", "More from …": the start of
    another block)."""
    heading = title_key(headline)
    lines = list(lines)
    while lines and _is_furniture(lines[0], heading):
        lines.pop(0)
    # In the first lines, the headline repeated (a video's title, a caption) is not text either.
    lines = [line for i, line in enumerate(lines) if i >= 3 or not (heading and title_key(line) == heading)]
    if (start := _teaser_cards_start(lines)) is not None:
        del lines[start:]
    while lines and (_is_furniture(lines[-1], heading) or _is_last_heading(lines[-1])):
        lines.pop()
    return lines


def _is_doubled(line: str) -> bool:
    """"Headline Headline": a teaser card's link and heading run together, the headline twice."""
    half = len(line) // 2
    return len(line) >= 25 and len(line) % 2 == 1 and line[half] == " " and line[:half] == line[half + 1:]


def _teaser_cards_start(lines: list[str]) -> int | None:
    """Where a list of teasers to other articles begins after the text: the first of at least two teaser cards
    (headlines written twice) in the second half of the lines; ``None`` when there is none."""
    doubled = [i for i, line in enumerate(lines) if _is_doubled(line)]
    if len(doubled) >= 2 and doubled[0] >= len(lines) // 2:
        return doubled[0]
    return None


def _is_last_heading(line: str) -> bool:
    return len(line.split()) <= 4 and len(line) <= 40 and not line.endswith(_SENTENCE_END) and not line.startswith("-")


def _trafilatura_authors(page: Page) -> list[str]:
    """Authors trafilatura's metadata search finds in the markup ("Par …" in a byline-like element)."""
    from trafilatura import extract_metadata  # noqa: PLC0415

    document = extract_metadata(_html(page), default_url=_page_url(page))
    found = (document.author or "") if document else ""
    return [name.strip() for name in found.split(";") if name.strip()]


# A signature: a name alone in bold, italics or flush right, at the end of the article ("Lê Phương").
_SIGNATURE_XPATH = (
    "//p[normalize-space(.)=$line][strong or b or em or contains(@style,'right') or contains(@class,'author')]"
)


def _signature(page: Page) -> list[str]:
    """The author's name signed under the article, when the text ends with one (among its last lines): one
    to four words, each capitalised (short, in scripts without case), no sentence punctuation, set apart in
    the markup (bold, italics, flush right)."""
    for line in reversed(_trafilatura_body(page)[-3:]):
        words = line.split()
        if not 1 <= len(words) <= 4 or len(line) > 40 or line[-1] in ".!?:;,»\"" or not any(c.isalpha() for c in line):
            continue
        # A name's words: capitalised where the script has case; short where it has none (a name, not a phrase).
        if all((w[0].isupper() if w[0].lower() != w[0].upper() else len(w) <= 6) for w in words) \
                and page.xpath(_SIGNATURE_XPATH, line=line):
            return [line]
    return []


def _names(names: list[str]) -> list[str]:
    """Author names, not numbers (a CMS's user id in the author field). (The site's own name stays: pages
    that credit the newsroom say so, and a reader expects it.)"""
    return [n for n in names if any(c.isalpha() for c in n)]


def authors(page: Page, site_names: tuple[str, ...] = ()) -> tuple[list[str], str]:
    chain = (JSONLD_AUTHORS, META_AUTHOR, ("signature under the article", _signature),
             ("trafilatura metadata", _trafilatura_authors))
    found, via = first(page, [(name, lambda p, step=step: _names(step(p))) for name, step in chain])
    if found and via != "signature under the article" and all(
            is_site_name(n, site_keys(page, _page_url(page), site_names)) for n in found) and (signed := _signature(page)):
        return signed, "signature under the article"  # the page credits its site; the article is signed
    return found or [], via


def _htmldate(page: Page) -> str:
    from htmldate import find_date  # noqa: PLC0415

    try:
        # The URL first (".../2025/12/05/slug/"), then the page's markup and text.
        return find_date(_html(page), url=_page_url(page), original_date=True, extensive_search=True,
                         outputformat="%Y-%m-%d") or ""
    except Exception:  # noqa: BLE001 - htmldate on a malformed page: no date, the Maghress one stands
        return ""


def dates(page: Page) -> list[str]:
    """The page's declared dates; only without any, htmldate's search of the whole page."""
    return metadata_dates(page) or list(filter(None, [_htmldate(page)]))


def image_url(page: Page, url: str) -> str:
    found, _ = first(page, (OG_IMAGE, JSONLD_IMAGE))
    return absolute(url, found)


def parse_article(page: Page, url: str, site_names: tuple[str, ...] = ()) -> dict[str, Any]:
    """Raw fields of any article page, plus ``_via``: which step gave each field.

    ``site_names``: what the publisher is called, when the caller knows (the source registry's name,
    byline spellings and hosts), besides what the page and its host say.
    """
    return publisher_fields(page, url, title=lambda p: title(p, site_names), lead=lead,
                            body=lambda p: body(p, site_names), authors=lambda p: authors(p, site_names),
                            dates=dates, image_url=image_url)


class GenericParser:
    """The generic extractor as the parser registry hands it out: ``parse_article`` and ``fallbacks``."""

    fallbacks = FALLBACKS

    @staticmethod
    def parse_article(page: Page, url: str, site_names: tuple[str, ...] = ()) -> dict[str, Any]:
        return parse_article(page, url, site_names)


PARSER = GenericParser()
