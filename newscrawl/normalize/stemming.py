"""French words for search: stems (Snowball, through PyStemmer), the query language, snippets.

The archive's SQLite search index holds each article's *stemmed* title, lead and
body (``stemmed_text``), and a query is stemmed the same way (``SearchQuery``),
so "sécheresses" finds "sécheresse"; the index's tokenizer folds accents
(``unicode61 remove_diacritics 2``), so it finds "secheresse" too. PostgreSQL
does the same with its own ``french`` configuration (``store/search.py``).

The query language is the one people type into web search boxes (PostgreSQL's
``websearch_to_tsquery`` reads the same): words (all of them must be there),
``"a quoted phrase"``, ``-word`` (must not be there), ``OR`` between two items.

Plain functions: no Scrapy, no database.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_WORD = re.compile(r"\w+")
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer: Snowball's C stemmers (and a cache of its own)

    return Stemmer.Stemmer("french")


def words(text: str | None) -> list[str]:
    """The case-folded words of ``text`` (accents kept: the stemmer needs them)."""
    return _WORD.findall(text.casefold()) if text else []


def stems(text: str | None) -> list[str]:
    """The French stems of the words of ``text``."""
    found = words(text)
    return _stemmer().stemWords(found) if found else []


def stemmed_text(text: str | None) -> str:
    """``text`` as the search index holds it: its stems, space-separated."""
    return " ".join(stems(text))


def fold(text: str) -> str:
    """``text`` without its accents ("sécheress" -> "secheress"), as the index's tokenizer folds them."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@lru_cache(maxsize=20_000)
def _folded(stem: str) -> str:
    return fold(stem)


class QueryError(ValueError):
    """A search query that asks for nothing (empty, only exclusions, only punctuation)."""


@dataclass(frozen=True)
class SearchQuery:
    """A parsed query: groups of alternatives (``OR``) that must all match, and stems that must not."""

    text: str
    required: tuple[tuple[tuple[str, ...], ...], ...]  # AND of (OR of (phrases of stems))
    excluded: tuple[tuple[str, ...], ...]

    @classmethod
    def parse(cls, text: str) -> SearchQuery:
        required: list[list[tuple[str, ...]]] = []
        excluded: list[tuple[str, ...]] = []
        pending_or = False
        for negate, phrase, word in _TOKEN.findall(text or ""):
            if word == "OR":
                pending_or = bool(required)
                continue
            if word.startswith("-") and len(word) > 1:
                negate, word = "-", word[1:]
            item = tuple(stems(phrase if phrase or not word else word))
            if not item:
                continue
            if negate:
                excluded.append(item)
            elif pending_or:
                required[-1].append(item)
            else:
                required.append([item])
            pending_or = False
        if not required:
            reason = "only words to leave out" if excluded else "no word to look for"
            raise QueryError(f"search query {text!r} has {reason}")
        return cls(text, tuple(tuple(group) for group in required), tuple(excluded))

    @property
    def all_stems(self) -> frozenset[str]:
        """Every stem looked for, accents folded (as the index compares them)."""
        return frozenset(fold(s) for group in self.required for item in group for s in item)

    def fts5(self, in_title: bool = False) -> str:
        """The query in SQLite FTS5's syntax (every stem quoted: no user text reaches it as syntax);
        ``in_title``: every required word in the ``title`` column (an excluded word still anywhere)."""

        def quoted(item: tuple[str, ...]) -> str:
            return '"' + " ".join(item) + '"'

        column = "{title} : " if in_title else ""
        groups = [column + "(" + " OR ".join(map(quoted, group)) + ")" for group in self.required]
        query = " AND ".join(groups)
        for item in self.excluded:
            query = f"({query}) NOT {quoted(item)}"
        return query


def snippet(text: str | None, query: SearchQuery, width: int = 30, mark: tuple[str, str] = ("[", "]")) -> str:
    """About ``width`` words of ``text`` around its densest run of matching words, those marked."""
    if not text:
        return ""
    tokens = text.split()
    wanted = query.all_stems
    token_words = [_WORD.findall(token.casefold()) for token in tokens]
    # Each distinct word stemmed once, all in one call of the C stemmer: a body repeats most of its words.
    distinct = list({w for found in token_words for w in found})
    matching = {w for w, stem in zip(distinct, _stemmer().stemWords(distinct)) if _folded(stem) in wanted}
    hits = [i for i, found in enumerate(token_words) if any(w in matching for w in found)]
    start = 0
    if hits:
        # The window of `width` tokens holding the most hits, starting a little before its first (one pass: a
        # long body may hold a common word a thousand times).
        best, most, end = hits[0], 0, 0
        for first, position in enumerate(hits):
            while end < len(hits) and hits[end] < position + width:
                end += 1
            if end - first > most:
                best, most = position, end - first
        start = max(0, best - 5)
    window = tokens[start : start + width]
    marked = set(hits)
    out = [f"{mark[0]}{t}{mark[1]}" if start + i in marked else t for i, t in enumerate(window)]
    return ("… " if start else "") + " ".join(out) + (" …" if start + width < len(tokens) else "")
