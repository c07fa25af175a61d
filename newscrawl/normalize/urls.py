"""URL normalisers: the publisher URL as stored, and one key per article URL. Plain functions."""

from __future__ import annotations

import re

from w3lib.url import canonicalize_url, url_query_cleaner

from newscrawl.normalize.text import _CONTROL

# ---------------------------------------------------------------------------
# URLs
# ---------------------------------------------------------------------------

# Query parameters that say how a reader arrived, never which article it is.
_TRACKING_PARAMS = (
    "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id",
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "xtor", "at_medium",
    "at_campaign", "ref", "ref_src", "_ga",
)


def clean_source_url(url: str | None) -> str:
    """The publisher URL as stored: tracking parameters and fragment dropped."""
    if not url:
        return ""
    url = _CONTROL.sub("", url).strip()
    if not url.lower().startswith(("http://", "https://")):
        return ""
    return url_query_cleaner(url, _TRACKING_PARAMS, remove=True, keep_fragments=False)


def canonical_key(url: str | None) -> str:
    """One key per article URL, whatever scheme, ``www.``, tracking or order of parameters."""
    url = clean_source_url(url)
    if not url:
        return ""
    url = canonicalize_url(url)
    url = re.sub(r"^https?://(?:www\.)?", "", url, flags=re.IGNORECASE)
    return url.rstrip("/")
