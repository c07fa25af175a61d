"""Text normalisers: clean text and titles, headline keys, bodies, authors, language. Plain functions."""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

# ---------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------

# Every pattern here runs on page text of any length, so each is linear: a quantifier never crosses a "<"
# (each scan from a "<" stops at the next one), and comments are cut by str.find, not by a lazy ".*?" that
# would scan to the end of the text from every unclosed "<!--" (tests/test_hostile.py).
# Block-level tags and <br> separate words; inline tags (<em>, <a>, <span>) do not.
_BLOCK_TAG = re.compile(
    r"<(?:br|/?(?:p|div|li|ul|ol|h[1-6]|td|th|tr|table|blockquote|section|article|header|footer|figure|figcaption))\b[^<>]*>",
    re.IGNORECASE,
)
# A tag is "<" then a name (or "/", "!DOCTYPE"): "<< étudiants >>" and "a < b" are text, not tags.
_TAG = re.compile(r"<(?:/?[A-Za-z]|![A-Za-z])[^<>]*>")


def strip_comments(text: str) -> str:
    """``text`` without its ``<!-- … -->`` comments; an unclosed one is left as text. Linear: once a comment
    is found unclosed, no later one can close either."""
    start = text.find("<!--")
    if start < 0:
        return text
    parts, pos = [], 0
    while start >= 0:
        end = text.find("-->", start + 4)
        if end < 0:
            break
        parts.append(text[pos:start])
        pos = end + 3
        start = text.find("<!--", pos)
    parts.append(text[pos:])
    return "".join(parts)


def strip_tags(text: str) -> str:
    """Tags and comments removed, block tags and ``<br>`` turned into a space."""
    return _TAG.sub("", _BLOCK_TAG.sub(" ", strip_comments(text)))
# C0 and C1 control characters other than whitespace (tab, newline, CR, VT, FF, NEL): never text, and
# PostgreSQL refuses NUL in a text column.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
# Zero-width characters, word joiner, BOM and the soft hyphen: invisible, never content.
# (A regex, not str.translate: translate with a dict costs a lookup per character.)
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# Typographic apostrophes and single quotes -> ASCII apostrophe.
_APOSTROPHES = dict.fromkeys(map(ord, "\u2019\u2018\u201b\u02bc\u2032\u00b4\u0060"), "'")
_TITLE_MARKER = re.compile(r"\s*\[\s*int[eé]gral\s*\]\s*$", re.IGNORECASE)
_SITE_SUFFIX = re.compile(r"\s+[-–—|]\s+maghress\s*$", re.IGNORECASE)


def clean_text(text: object, markup: bool = True) -> str:
    """Drop tags, then decode entities (in that order: a decoded "&lt;&lt;" is text), NFC,
    remove control and invisible characters, fold whitespace.

    ``markup=False`` for text that is text already (a DOM's text, a value a parser cleaned, trafilatura's
    output): tags and entities are then left alone, so cleaning it again never eats "<b>" or "&amp;".
    """
    if not text or not isinstance(text, str):
        return ""  # (JSON-LD gives numbers, lists and objects where a string is expected)
    if _is_clean(text, markup):
        return text  # most calls: a value cleaned before (by a parser, then by the loader), or plain text
    return _clean(text, markup)


def _is_clean(text: str, markup: bool) -> bool:
    """Whether ``_clean`` would return ``text`` unchanged; C-speed string tests only.

    isprintable() is False for every control, invisible (format) character and whitespace other than the
    ASCII space; then no double, leading or trailing space, no tag or entity to read, and NFC already.
    """
    return (
        text.isprintable()
        and "  " not in text
        and text[0] != " "
        and text[-1] != " "
        and not (markup and ("<" in text or "&" in text))
        and (text.isascii() or unicodedata.is_normalized("NFC", text))
    )


def _clean(text: str, markup: bool) -> str:
    text = _CONTROL.sub("", text)
    if markup and "<" in text:
        text = strip_tags(text)
    if markup and "&" in text:
        text = html.unescape(text)
    if not text.isascii():
        text = _INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    # str.split() splits on exactly what the regex \s does (NBSP, narrow NBSP, thin space, tabs, newlines…)
    # and costs a third of re.sub(r"\s+", " ") on a paragraph: every space would be one regex match.
    return " ".join(text.split())


def clean_title(text: str | None, markup: bool = True) -> str:
    """A headline as a reader would type it, wording untouched.

    Entities decoded, tags dropped, NFC, every kind of whitespace folded to
    one space, invisible characters removed, typographic apostrophes to
    ``'``, a trailing ``[INTEGRAL]``/``[INTÉGRAL]`` marker and a
    `` - Maghress`` suffix removed. ``markup``: as for ``clean_text``.
    """
    text = clean_text(text, markup).translate(_APOSTROPHES)
    # Loop: "Titre [INTEGRAL] - Maghress" carries both, in that order.
    while True:
        stripped = _SITE_SUFFIX.sub("", _TITLE_MARKER.sub("", text)).strip()
        if stripped == text:
            return text
        text = stripped


_NOT_WORD = re.compile(r"[\W_]+")
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")  # combining marks


def title_key(text: str | None) -> str:
    """A matching key for headlines: two spellings of one title get one key.

    Case-folded, accents stripped, punctuation and quote styles removed,
    whitespace folded: ``L’«émanation»`` and ``L'« émanation »`` both give
    ``l emanation``.
    """
    text = clean_title(text, markup=False).casefold()
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return _NOT_WORD.sub(" ", text).strip()


def clean_body(paragraphs: list[str] | str | None, markup: bool = True) -> str:
    """Paragraphs cleaned one by one and joined by a blank line; empty ones dropped."""
    if paragraphs is None:
        return ""
    if isinstance(paragraphs, str):
        paragraphs = [paragraphs]
    cleaned = (clean_text(p, markup) for p in paragraphs)
    return "\n\n".join(p for p in cleaned if p)


_AUTHOR_PREFIX = re.compile(r"^(?:par|by|por|rédigé par|redige par)\s+", re.IGNORECASE)
_AUTHOR_SPLIT = re.compile(r"\s*(?:,|;|&|\bet\b|\band\b|\by\b)\s*")


def clean_authors(value: str | list[str] | None, markup: bool = True) -> list[str]:
    """Author names from a byline or a list: prefixes dropped, split, deduplicated."""
    if not value:
        return []
    names = [value] if isinstance(value, str) else list(value)
    out: list[str] = []
    for raw in names:
        raw = _AUTHOR_PREFIX.sub("", clean_title(raw, markup))
        for name in _AUTHOR_SPLIT.split(raw):
            name = name.strip(" .-")
            if name and name not in out:
                out.append(name)
    return out


_WORDS = re.compile(r"\w+")


def word_overlap(a: str | None, b: str | None) -> float:
    """How much two texts are one text: the F1 of their words (case-folded, as multisets), 0 to 1."""
    from collections import Counter

    wa, wb = Counter(_WORDS.findall((a or "").casefold())), Counter(_WORDS.findall((b or "").casefold()))
    common = sum((wa & wb).values())
    if not common:
        return 0.0
    precision, recall = common / sum(wa.values()), common / sum(wb.values())
    return 2 * precision * recall / (precision + recall)


# ---------------------------------------------------------------------------
# Language
# ---------------------------------------------------------------------------

#: The languages Maghress's French sections carry (French, plus English and Spanish editions).
LANGUAGES = ("fr", "en", "es")


def clean_language(value: str | None) -> str:
    """``fr``/``en``/``es`` from a declared tag (``fr-FR``, ``fr_MA``, ``French``), else ''."""
    if not value:
        return ""
    tag = value.strip().lower().replace("_", "-").split("-")[0]
    tag = {"french": "fr", "francais": "fr", "english": "en", "spanish": "es", "espanol": "es"}.get(tag, tag)
    return tag if tag in LANGUAGES else ""


@lru_cache(maxsize=1)
def _language_identifier():
    # py3langid loads its model (~1 s) on first use; most pages declare their language.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect_language(text: str | None) -> str:
    """``fr``/``en``/``es`` guessed from the text; '' when it is too short or too unsure."""
    text = clean_text(text)
    if len(text) < 12:
        return ""
    language, confidence = _language_identifier().classify(text[:2000])
    return language if confidence >= 0.8 else ""
