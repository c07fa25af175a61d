"""Pages whose bytes are not in the charset they declare, and bytes that are not text at all."""

from __future__ import annotations

from scrapy.http import TextResponse
from w3lib.encoding import html_body_declared_encoding

REPLACEMENT = "\ufffd"


def readable(response: TextResponse) -> TextResponse | None:
    """The response decoded right, or ``None`` when its body is not text (binary served as text/html).

    Scrapy decodes with the charset of the Content-Type header first. When
    that leaves replacement characters, the charset declared in the page
    (``<meta charset>``) and then windows-1252 (what mislabelled French
    pages nearly always are) are tried, strictly.
    """
    text = response.text
    if REPLACEMENT not in text and "\x00" not in text:
        return response
    for encoding in (html_body_declared_encoding(response.body), "windows-1252"):
        if not encoding:
            continue
        try:
            candidate = response.body.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if not _looks_binary(candidate):
            return response.replace(encoding=encoding)
    return None if _looks_binary(text) else response


def _looks_binary(text: str) -> bool:
    if not text:
        return False
    sample = text[:4096]
    odd = sum(1 for c in sample if c == REPLACEMENT or (ord(c) < 32 and c not in "\t\n\r\f"))
    return odd / len(sample) > 0.02
