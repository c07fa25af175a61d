"""Story keys: what makes two pages one article, in one place.

- ``ArticleKey``: the aggregator's identity of an article, ``(section, Maghress id)``
  read from the path of its Maghress URL (``/fr/lopinion/5010004``), whatever the
  scheme, host, ``www.``, slug or query around it. Every "is it stored?" question
  (re-crawls, the frontier, aliases, the back-catalogue, the request fingerprint)
  asks it with this key; the URL itself is data.
- ``publisher_key``: the publisher page's identity, its canonicalised URL
  (w3lib), unless that URL cannot name one article (the site's root, a
  section, tag or listing page, an ancestor of the page's own URL).
- ``StoryKeys``: every key of one article (Maghress key, publisher key,
  headline and day, body), computed once per item and used by the
  deduplication pipeline and the store alike.

Plain functions and dataclasses: no Scrapy, no database.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from newscrawl.normalize import canonical_key, title_key

# ---------------------------------------------------------------------------
# The aggregator's identity
# ---------------------------------------------------------------------------

#: Maghress ids have 7 digits today; a number this long is not an id (and would not fit a BIGINT).
MAX_ID_DIGITS = 15
# /fr/<section>/<id>, then nothing, a slug ("-titre", "/titre", ".html") or a slash. A mirror may serve
# the site under a path prefix, so the pattern is anchored at the end, not at the start.
_ARTICLE_PATH = re.compile(
    rf"(?:^|/)fr/(?P<section>[a-z0-9_-]+)/(?P<id>\d{{1,{MAX_ID_DIGITS}}})(?:[-_.][^/]*|/[^/]*)?/?$",
    re.IGNORECASE,
)
MAGHRESS_HOSTS = frozenset({"maghress.com", "www.maghress.com"})
MAGHRESS_ORIGIN = "https://www.maghress.com"


@dataclass(frozen=True, slots=True, order=True)
class ArticleKey:
    """One Maghress article: its section (the source slug in its URL) and its id."""

    section: str
    maghress_id: int

    def __str__(self) -> str:
        return f"{self.section}/{self.maghress_id}"

    @property
    def path(self) -> str:
        return f"/fr/{self.section}/{self.maghress_id}"

    def url_on(self, base_url: str) -> str:
        """The article's URL on a Maghress site (``https://www.maghress.com`` or a mirror's base URL)."""
        return base_url.rstrip("/") + self.path

    @classmethod
    def parse(cls, text: str) -> ArticleKey:
        """``"lopinion/5010004"`` (the stored form) back to a key."""
        section, _, number = text.partition("/")
        return cls(section, int(number))


def article_key(url: str | None) -> ArticleKey | None:
    """The ``ArticleKey`` a URL names, or ``None`` when it is not a Maghress article URL.

    Only the path decides: ``https://www.maghress.com/fr/lopinion/5010004``,
    ``http://maghress.com/fr/lopinion/5010004?x=1``, ``/fr/lopinion/5010004-titre``
    and a mirror's ``http://127.0.0.1:8000/fr/lopinion/5010004/`` are one key.
    """
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https", ""):
        return None
    m = _ARTICLE_PATH.search(parts.path)
    if m is None:
        return None
    return ArticleKey(m.group("section").lower(), int(m.group("id")))


def maghress_url(key: ArticleKey, url: str) -> str:
    """The URL to keep for ``key`` seen at ``url``: production Maghress hosts in one form, a mirror's as it is."""
    parts = urlsplit(url)
    host = parts.netloc.lower()
    if host in MAGHRESS_HOSTS or not host:
        return key.url_on(MAGHRESS_ORIGIN)
    prefix = parts.path[: parts.path.lower().rfind("/fr/")] if "/fr/" in parts.path.lower() else ""
    return f"{parts.scheme}://{host}{prefix}{key.path}"


# ---------------------------------------------------------------------------
# The publisher page's identity
# ---------------------------------------------------------------------------

# Path segments that make a page a listing of articles, not one article ("/tag/budget", "/economie/page/2").
# ("archive" is not one: "/politics/archive/2024/01/the-vote/677123/" is an article.)
_LISTING_SEGMENTS = frozenset(
    "tag tags category categories categorie rubrique rubriques topic topics author authors auteur auteurs "
    "search recherche page feed".split()
)
_LANGUAGE_ROOT = re.compile(r"^/(?:[a-z]{2}(?:[-_][a-z]{2})?)?/?$", re.IGNORECASE)
_INDEX = re.compile(r"^/(?:index|default|home|accueil)\.(?:html?|php|aspx?)$", re.IGNORECASE)


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def names_one_article(url: str | None, page_url: str | None = None) -> bool:
    """Whether ``url`` (a page's canonical or ``og:url``) can name one article.

    No for the site's root (``/``, ``/fr/``, ``/index.html``), for a listing
    (a ``tag``, ``category``, ``rubrique``, ``page`` … segment, a ``page=``
    query), and for a proper ancestor of ``page_url`` on the same site
    (``/economie`` for ``/economie/le-budget-2026.html``): publishers that
    point every article's canonical there must not merge their articles.
    """
    if not url:
        return False
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    path = parts.path or "/"
    if _LANGUAGE_ROOT.match(path) or _INDEX.match(path):
        return False
    segments = [s.lower() for s in _segments(path)]
    if any(s in _LISTING_SEGMENTS for s in segments[:-1]) or (segments and segments[-1] in _LISTING_SEGMENTS):
        return False
    if re.search(r"(?:^|&)(?:page|paged|p)=\d", parts.query):
        return False
    if page_url and _host(page_url) == _host(url):
        own = _segments(urlsplit(page_url).path)
        if len(segments) < len(own) and own[: len(segments)] == _segments(path) and not parts.query:
            return False
    return True


def publisher_key(url: str | None, page_url: str | None = None) -> str:
    """The publisher page's key (``canonical_key``), or ``""`` when ``url`` cannot name one article."""
    return canonical_key(url) if names_one_article(url, page_url) else ""


# ---------------------------------------------------------------------------
# Headlines and bodies
# ---------------------------------------------------------------------------

_WORD = re.compile(r"\w+")
#: Default of ``NEWSCRAWL_MIN_BODY_WORDS``: shorter bodies ("Réservé aux abonnés.") are no evidence of one story.
MIN_BODY_WORDS = 40


def body_words(text: str | None) -> list[str]:
    """The case-folded words of a body: counted against ``MIN_BODY_WORDS``, shingled for near-identical bodies
    (``similarity.signature``). Accents are kept: copies of one story spell them alike."""
    if not text:
        return []
    # The words \w+ finds, found faster: a space-delimited token made only of word characters (isalnum is \w
    # without "_") is one word as it stands; only the others (punctuation, "_") go through the regex.
    words: list[str] = []
    for token in text.casefold().split():
        if token.isalnum():
            words.append(token)
        else:
            words += _WORD.findall(token)
    return words


def titles_agree(a: str | None, b: str | None) -> bool:
    """Whether two headlines can be one story's: same key, one inside the other, or most words shared.

    A republished story keeps its headline or retouches it ("… [INTEGRAL]", a
    word changed); two different stories that a publisher gave one URL do not.
    """
    ka, kb = title_key(a), title_key(b)
    if not ka or not kb:
        return True  # nothing to compare: no evidence against
    if ka == kb or ka in kb or kb in ka:
        return True
    wa, wb = set(ka.split()), set(kb.split())
    return len(wa & wb) / len(wa | wb) >= 0.5


def body_hash(body: str | None) -> str:
    return hashlib.sha1(body.encode("utf-8")).hexdigest() if body else ""


# ---------------------------------------------------------------------------
# Every key of one article
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class StoryKeys:
    """The keys of one article, computed once (``story_keys``) and read by the deduplication and the store."""

    article: str | None  # str(ArticleKey): "lopinion/5010004"
    publisher: str | None  # publisher_key of the publisher URL, None when it names no single article
    title: str | None  # title_key of the headline
    day: date | None
    source: str | None
    body: str | None  # sha1 of the body, only for bodies of at least min_words words
    headline: str | None  # title_key of the headline as Maghress shows it (re-crawls compare it)
    publisher_conflict: str | None = None  # URL of an article with this publisher URL and another headline
    _body_words: list[str] | None = field(default=None, repr=False)
    _signature: Any = field(default=None, repr=False)
    _bands: list[int] | None = field(default=None, repr=False)

    @property
    def title_and_day(self) -> tuple[str, date, str | None] | None:
        # Within one source only: two papers print "Cours des devises du mardi 9 décembre 2025" the same day.
        return (self.title, self.day, self.source) if self.title and self.day else None

    def signature(self):
        """The body's MinHash signature (near-identical bodies), computed on first use; ``None`` for short bodies."""
        if self._signature is None and self.body and self._body_words:
            from newscrawl.identity import similarity  # numpy, on first use

            self._signature = similarity.signature(self._body_words)
        return self._signature

    def bands(self) -> list[int]:
        """The LSH bands of the signature (``similarity.bands``), computed once; empty for short bodies."""
        if self._bands is None:
            from newscrawl.identity import similarity

            sig = self.signature()
            self._bands = similarity.bands(sig) if sig is not None else []
        return self._bands


def as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def story_keys(item: Any, min_body_words: int = MIN_BODY_WORDS) -> StoryKeys:
    """Every key of an article item (a mapping with the ``Article`` fields)."""
    get = item.get
    key = article_key(get("url"))
    body = get("body") or None
    words = body_words(body)
    long_enough = len(words) >= min_body_words
    return StoryKeys(
        article=str(key) if key else None,
        publisher=publisher_key(get("source_url")) or None,
        title=title_key(get("title")) or None,
        day=as_date(get("published_date")),
        source=get("source") or None,
        body=body_hash(body) if long_enough else None,
        # (A maghress_title of None: the Maghress page was not read — a revisit of the publisher page — and the
        # stored headline stands.)
        headline=None if "maghress_title" in item and get("maghress_title") is None
        else title_key(get("maghress_title") or get("title")) or None,
        _body_words=words if long_enough else None,
    )
