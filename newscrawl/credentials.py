"""Credentials in connection URLs: found and masked in one place, for every form libpq and redis-py accept.

A password may sit in a URL's user part (``postgresql://user:pw@host/db``), in its query string
(``?password=pw``, ``?sslpassword=pw``; libpq reads both), or in a libpq keyword string
(``host=db password=pw``). Logs, stats, ``newscrawl status`` and the scheduler's plan check all go through
``mask`` and ``holds_secret``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

#: Query parameters (and libpq keywords) whose value is a secret.
SECRET_PARAMETERS = frozenset({"password", "sslpassword", "pass", "passwd"})
MASK = "***"
_KEYWORD = re.compile(r"\b(" + "|".join(sorted(SECRET_PARAMETERS)) + r")\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def holds_secret(value: str) -> bool:
    """Whether ``value`` (a URL or a libpq keyword string) carries a password."""
    return mask(value) != value


def mask(value: str) -> str:
    """``value`` with every password replaced by ``***``: the user part's, the query's, a keyword string's."""
    if not isinstance(value, str) or not value:
        return value
    if "://" not in value:
        return _KEYWORD.sub(lambda m: f"{m.group(1)}={MASK}", value)
    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError:
        return "<unparseable URL>"
    netloc, changed = parts.netloc, False
    if password is not None:
        changed = True
        userinfo, _, hostinfo = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{hostinfo}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(name.lower() in SECRET_PARAMETERS for name, _ in pairs):
            changed = True
            query = urlencode([(name, MASK if name.lower() in SECRET_PARAMETERS else v) for name, v in pairs],
                              safe="*/")
    if not changed:
        return value
    # (Joined by hand: urlunsplit drops the empty host of "postgresql:///db?host=/run/postgresql".)
    return (f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")
            + (f"#{parts.fragment}" if parts.fragment else ""))
