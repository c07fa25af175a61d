"""Same story: which stored article an item is, or repeats, and why — one pure ranking.

The store finds the candidate rows (one indexed query on the item's keys,
then, when none is found, rows sharing a body band); this module alone
decides what they mean. The deduplication pipeline and the store's own
write both ask ``best_match``, so "one story" has one definition.

Strongest evidence first: the same article (its key or URL), an alias of
it, the same publisher URL under a headline that agrees (``titles_agree``),
the same headline, day and source, the same body, a near-identical body.
A publisher URL that stored rows give to another headline is no identity
for this article: ``best_match`` says so (``Ranking.publisher_conflict``),
and the keys it returns have no publisher key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from newscrawl.identity import similarity
from newscrawl.identity.keys import StoryKeys, titles_agree

#: Why an item matched a stored row, strongest first (``Match.reason``).
REASONS = ("article", "alias", "source_url", "title_and_date", "body", "similar_body")


@dataclass(frozen=True, slots=True)
class Match:
    """A stored article that an item is (``reason`` "article") or repeats (any other reason)."""

    article_id: int
    url: str
    article_key: str | None
    reason: str


@dataclass(slots=True)
class Verdict:
    """What the deduplication decided for an item, handed to the store with it (the item's ``story`` field).

    ``match``: the stored row the item *is* (same key: update it) or *repeats* (alias of it), ``None`` for
    a new article. ``alias_of``: the key of an article of this run the item repeats (it may not be
    written yet: it comes earlier in the same or a previous batch). ``checked``: ``match`` was looked
    up, so the store need not look again.
    """

    keys: StoryKeys
    match: Match | None = None
    alias_of: str | None = None
    reason: str = ""
    checked: bool = False

    @property
    def is_alias(self) -> bool:
        return self.alias_of is not None or (self.match is not None and self.match.reason != "article")


@dataclass(frozen=True, slots=True)
class Ranking:
    """``best_match``'s answer: the match (or ``None``), the keys to store the item with, and the URL of a
    stored article that gave the item's publisher URL to another headline (``None`` when none did)."""

    match: Match | None
    keys: StoryKeys
    publisher_conflict: str | None = None


def reason(row: Any, url: str | None, keys: StoryKeys) -> str | None:
    """Why a stored candidate row is this item's story, or ``None``. ``row`` has the columns ``url``,
    ``article_key``, ``via_alias``, ``source_key``, ``title_key``, ``published_date``, ``source``,
    ``content_hash``; ``keys`` are the item's."""
    if (keys.article and row.article_key == keys.article) or row.url == url:
        return "article"
    if row.via_alias:
        return "alias"
    if keys.publisher and row.source_key == keys.publisher and titles_agree(row.title_key, keys.title):
        return "source_url"
    if keys.title and row.title_key == keys.title and row.published_date == keys.day and row.source == keys.source:
        return "title_and_date"
    if keys.body and row.content_hash == keys.body:
        return "body"
    return None


def best_match(rows: Iterable[Any], url: str | None, keys: StoryKeys) -> Ranking:
    """The strongest of the stored candidates ``rows`` (ties: the oldest row), by ``reason``."""
    rows = list(rows)
    conflict = next((row.url for row in rows if keys.publisher and row.source_key == keys.publisher
                     and not titles_agree(row.title_key, keys.title)), None)
    if conflict is not None:
        # One publisher URL, two different headlines: not one story, and that URL is no identity for this item.
        keys = replace(keys, publisher=None, publisher_conflict=conflict)
    ranked = [(REASONS.index(why), row.id, why, row) for row in rows if (why := reason(row, url, keys))]
    if not ranked:
        return Ranking(None, keys, conflict)
    _, _, why, row = min(ranked, key=lambda t: t[:2])
    return Ranking(Match(row.id, row.url, row.article_key, why), keys, conflict)


def most_similar(rows: Iterable[Any], keys: StoryKeys) -> Match | None:
    """The stored row (columns ``id``, ``url``, ``article_key``, ``body_minhash``) whose body is near-identical
    to the item's (``similarity.THRESHOLD``), the most similar first; ``None`` when none is."""
    sig = keys.signature()
    if sig is None:
        return None
    scored = [(similarity.similarity(sig, similarity.from_bytes(row.body_minhash)), row)
              for row in rows if row.body_minhash]
    best = max(scored, default=None, key=lambda pair: pair[0])
    if best and best[0] >= similarity.THRESHOLD:
        return Match(best[1].id, best[1].url, best[1].article_key, "similar_body")
    return None


class RunMemory:
    """This run's articles by every key, so a repeat is known before its first copy is even stored.

    Holds the first article (its key or URL, or the stored ``Match`` it repeats) with each exact key, the
    body bands of this run's bodies, and the headline each publisher URL came with first.
    """

    def __init__(self) -> None:
        self._first: dict[tuple[str, Any], Any] = {}
        self._bands: dict[int, list[tuple[str, Any]]] = {}
        self._publisher_titles: dict[str, str | None] = {}
        self._shared_publishers: set[str] = set()

    def without_shared_publisher(self, keys: StoryKeys) -> tuple[StoryKeys, bool]:
        """``keys`` without their publisher key when this run saw that publisher URL under a clearly different
        headline (it is then no identity); the flag is true the first time that is found."""
        if not keys.publisher:
            return keys, False
        if keys.publisher in self._shared_publishers:
            return replace(keys, publisher=None), False
        first = self._publisher_titles.setdefault(keys.publisher, keys.title)
        if titles_agree(first, keys.title):
            return keys, False
        self._shared_publishers.add(keys.publisher)
        return replace(keys, publisher=None), True

    def repeat_of(self, me: str, keys: StoryKeys) -> tuple[Any, str] | None:
        """What of this run the article ``me`` repeats, and why: ``(key of an article of this run, reason)``,
        ``(stored Match, reason)``, or ``(me, "article")`` when it is the very article handled again."""
        for name, value in _exact_keys(me, keys):
            other = self._first.get((name, value)) if value is not None else None
            if other is None:
                continue
            if other == me:
                return me, "article"
            if getattr(other, "article_key", None) == me:
                break  # its own stored row, seen through another article: not a repeat of it
            return other, name
        sig = keys.signature()
        if sig is not None:
            for band in keys.bands():
                for other, other_sig in self._bands.get(band, ()):
                    if other != me and similarity.similarity(sig, other_sig) >= similarity.THRESHOLD:
                        return other, "similar_body"
        return None

    def remember(self, me: str, keys: StoryKeys, stored: Match | None = None) -> None:
        """The article ``me`` is handled: its keys now lead to it (or to the stored ``Match`` it repeats)."""
        for name, value in _exact_keys(me, keys):
            if value is not None:
                self._first.setdefault((name, value), stored if stored is not None else me)
        sig = keys.signature()
        if stored is None and sig is not None:
            for band in keys.bands():
                self._bands.setdefault(band, []).append((me, sig))


def _exact_keys(me: str, keys: StoryKeys) -> tuple[tuple[str, Any], ...]:
    return (("article", me), ("source_url", keys.publisher), ("title_and_date", keys.title_and_day),
            ("body", keys.body))
