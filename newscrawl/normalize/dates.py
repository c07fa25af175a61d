"""Dates: ``parse_date`` (the forms Maghress and the publishers print, French first) and
``publication_moment`` (the one date of a page among its candidates). Plain functions.

Dates go through a *fast path* of compiled patterns and a month table that
covers the forms Maghress and the publishers actually print; ``dateparser``
is only the fallback for anything else, configured once and imported lazily
(importing it costs ~0.3 s and its first call loads locales). (One module:
the patterns, the month table and the resolution of a match are one parser.)
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from newscrawl.normalize.text import _APOSTROPHES, strip_tags

#: Morocco's civil time: UTC+1, UTC+0 during Ramadan (from the tz database).
MOROCCO = ZoneInfo("Africa/Casablanca")

# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------

# Month names after accent folding and lower-casing, French first, then
# English and Spanish (the editions Maghress also republishes).
_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "janvier janv jan january enero ene",
        "fevrier fevr fev february feb febrero",
        "mars mar march marzo",
        "avril avr apr april abril abr",
        "mai may mayo",
        "juin jun june junio",
        "juillet juil jul july julio",
        "aout aou aug august agosto ago",
        "septembre sept sep september septiembre setiembre",
        "octobre oct october octubre",
        "novembre nov november noviembre",
        "decembre dec december diciembre dic",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _number

_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))

# A time of day after a date: "à 12h40", "at 12:40", ", 12 h 40", "- 11h", "T08:15:00Z".
_TIME = (
    r"(?:\s*(?:,|-|–|\||à|a|at|a las|vers)?\s*"
    r"(?P<hh>[01]?\d|2[0-3])\s*(?::|h)\s*(?P<mi>[0-5]\d)?(?::(?P<ss>[0-5]\d)(?:\.\d+)?)?"
    r"(?!\s*(?:min|mn|%|\d))"
    r"(?:\s*(?P<ampm>am|pm|a\.m\.|p\.m\.))?"
    r"\s*(?P<tz>z|utc|gmt|[+-]\d{2}:?\d{2}|[+-]\d{2}\b)?"
    r"(?:\s*(?:gmt|utc)?\s*(?P<tz2>[+-]\d{1,2}(?::?\d{2})?))?)?"
)

# Forms that start with a digit. The leading (?=\d) lets the regex engine jump
# from digit to digit instead of trying every alternative at every position.
_DIGIT_FIRST = (
    r"(?=\d)(?<![\d.,])(?:"
    # ISO 8601 and year-first numeric: 2025-06-08T10:30:00+01:00, 2019-5-29, 2021/01/26
    r"(?P<iy>\d{4})(?P<isep>[-/.])(?P<im>\d{1,2})(?P=isep)(?P<id>\d{1,2})(?!\d)"
    r"(?:t(?P<ihh>\d{2}):(?P<imi>\d{2})(?::(?P<iss>\d{2})(?:\.\d+)?)?(?P<itz>z|[+-]\d{2}:?\d{2})?)?"
    # Day-first numeric: 26 - 01 - 2021, 05/08/2019, 26.01.2021, 26-01-21
    r"|(?P<nd>\d{1,2})\s*(?P<nsep>[-/.])\s*(?P<nm>\d{1,2})\s*(?P=nsep)\s*(?P<ny>\d{4}|\d{2})(?!\d|[.,]\d)"
    # Day month [year]: 9 décembre 2025, 1er janvier, 9 de diciembre de 2025, 09 Dec 2025
    rf"|(?P<td>\d{{1,2}})(?:er|re|st|nd|rd|th|o)?\s+(?:de\s+)?(?P<tm>{_MONTH_ALT})\b\.?"
    r"(?:,?\s*(?:de\s+|del\s+)?(?P<ty>\d{4})(?!\d))?"
    r")"
)
# Month day[, year] (English): December 9, 2025. Tried only when the text names a month.
_MONTH_FIRST = rf"\b(?P<em>{_MONTH_ALT})\b\.?\s+(?P<ed>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<ey>\d{{4}}))?(?!\d)"
_DIGIT_FIRST_RE = re.compile(_DIGIT_FIRST + _TIME)
_MONTH_FIRST_RE = re.compile(_MONTH_FIRST + _TIME)
_WORD = re.compile(r"[a-z]+")
_MONTH_WORDS = frozenset(_MONTHS)

# Relative forms, resolved against ``now`` in Morocco's time.
_AGO_RE = re.compile(
    r"\b(?:il y a|depuis|hace)\s+(?P<n>\d+|une?|quelques)\s*(?P<unit>secondes?|sec|s|minutes?|min|mn|"
    r"heures?|h|hrs?|jours?|j|semaines?|mois|ans?|années?|segundos?|minutos?|horas?|d[ií]as?|semanas?|meses|a[nñ]os?)\b"
    r"|\b(?P<n2>\d+|an?)\s*(?P<unit2>seconds?|secs?|minutes?|mins?|hours?|hrs?|h|days?|weeks?|months?|years?)\s+ago\b",
    re.IGNORECASE,
)
_DAY_WORD_RE = re.compile(
    r"\b(?P<word>avant[- ]hier|hier|aujourd'hui|aujourd’hui|aujourdhui|today|yesterday|anteayer|ayer|hoy)\b"
    + _TIME,
    re.IGNORECASE,
)
_UNIT_SECONDS = {
    "s": 1, "sec": 1, "seconde": 1, "secondes": 1, "second": 1, "seconds": 1, "secs": 1, "segundo": 1, "segundos": 1,
    "min": 60, "mn": 60, "minute": 60, "minutes": 60, "mins": 60, "minuto": 60, "minutos": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "heure": 3600, "heures": 3600, "hour": 3600, "hours": 3600,
    "hora": 3600, "horas": 3600,
}
_UNIT_DAYS = {
    "j": 1, "jour": 1, "jours": 1, "day": 1, "days": 1, "dia": 1, "dias": 1, "día": 1, "días": 1,
    "semaine": 7, "semaines": 7, "week": 7, "weeks": 7, "semana": 7, "semanas": 7,
    "mois": 30, "month": 30, "months": 30, "meses": 30,
    "an": 365, "ans": 365, "annee": 365, "annees": 365, "année": 365, "années": 365,
    "year": 365, "years": 365, "ano": 365, "anos": 365, "año": 365, "años": 365,
}
_DAY_WORD_OFFSET = {
    "aujourd'hui": 0, "aujourd’hui": 0, "aujourdhui": 0, "today": 0, "hoy": 0,
    "hier": 1, "yesterday": 1, "ayer": 1,
    "avant-hier": 2, "avant hier": 2, "anteayer": 2,
}
# The update date in "Publié le X - Mis à jour le Y" must never win: cut it off.
_UPDATE_MARK = re.compile(r"\b(?:mis a jour|mise a jour|modifie|actualise|updated|actualizado)\b")  # on folded text


def _fold(text: str) -> str:
    """Lower-case ASCII: accents stripped, other non-ASCII characters dropped (dates need none)."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    return text.encode("ascii", "ignore").decode("ascii").lower()


def _search(folded: str, end: int) -> re.Match | None:
    m = _DIGIT_FIRST_RE.search(folded, 0, end)
    if m is None and not _MONTH_WORDS.isdisjoint(_WORD.findall(folded, 0, end)):
        m = _MONTH_FIRST_RE.search(folded, 0, end)
    return m


def _local_now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(MOROCCO).replace(microsecond=0)
    if now.tzinfo is None:
        return now.replace(tzinfo=MOROCCO)
    return now.astimezone(MOROCCO)


@lru_cache(maxsize=64)
def _parse_offset(tz: str | None) -> timezone | ZoneInfo:
    if not tz:
        return MOROCCO
    tz = tz.lower()
    if tz in ("z", "utc", "gmt"):
        return timezone.utc
    sign = -1 if tz[0] == "-" else 1
    if ":" in tz:  # "+01:00", "+1:00" (as in "GMT+1:00")
        hours_text, minutes_text = tz[1:].split(":", 1)
        hours, minutes = int(hours_text), int(minutes_text or 0)
    else:  # "+0100", "+100", "+01", "+1"
        digits = tz[1:]
        hours, minutes = (int(digits[:-2]), int(digits[-2:])) if len(digits) >= 3 else (int(digits), 0)
    if hours > 14 or minutes > 59:
        raise ValueError(tz)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _full_year(year: str) -> int:
    value = int(year)
    return value + 2000 if len(year) == 2 else value


def _most_recent(day: int, month: int, today: date) -> date:
    """The most recent ``day``/``month`` not after ``today`` (news is never from the future)."""
    for year in range(today.year, today.year - 8, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:  # 29 February outside a leap year
            continue
        if candidate <= today:
            return candidate
    raise ValueError("no such day")


def _with_time(day: date, m: re.Match, hh: str, mi: str, ss: str, tz: str | None) -> date | datetime:
    if m.group(hh) is None:
        return day
    hour = int(m.group(hh))
    ampm = m.group("ampm")
    if ampm:
        if hour > 12:
            raise ValueError("13 pm")
        hour = hour % 12 + (12 if ampm.startswith("p") else 0)
    clock = time(hour, int(m.group(mi) or 0), int(m.group(ss) or 0))
    zone = _parse_offset(tz)
    return datetime.combine(day, clock, tzinfo=zone)


def _from_match(m: re.Match, now: datetime | None) -> date | datetime:
    """Build the value of a fast-path match. Raises ValueError for impossible dates."""
    g = m.group
    if m.re is _MONTH_FIRST_RE:
        month, day_of_month, year = _MONTHS[g("em")], int(g("ed")), g("ey")
    elif g("iy"):
        day = date(int(g("iy")), int(g("im")), int(g("id")))
        if g("ihh"):
            clock = time(int(g("ihh")), int(g("imi")), int(g("iss") or 0))
            return datetime.combine(day, clock, tzinfo=_parse_offset(g("itz")))
        return _with_time(day, m, "hh", "mi", "ss", g("tz2") or g("tz"))
    elif g("nd"):
        day = date(_full_year(g("ny")), int(g("nm")), int(g("nd")))
        return _with_time(day, m, "hh", "mi", "ss", g("tz2") or g("tz"))
    else:
        month, day_of_month, year = _MONTHS[g("tm")], int(g("td")), g("ty")
    if year:
        day = date(int(year), month, day_of_month)
    else:
        day = _most_recent(day_of_month, month, _local_now(now).date())
    return _with_time(day, m, "hh", "mi", "ss", g("tz2") or g("tz"))


_RELATIVE_WORDS = ("il y a", "depuis", "hace", "ago", "hier", "aujourd", "today", "yesterday", "ayer", "hoy")


def _relative(text: str, now: datetime | None) -> date | datetime | None:
    if not any(word in text for word in _RELATIVE_WORDS):
        return None
    m = _AGO_RE.search(text)
    if m:
        local = _local_now(now)
        count, unit = (m.group("n"), m.group("unit")) if m.group("n") else (m.group("n2"), m.group("unit2"))
        n = int(count) if count.isdigit() else (3 if count.startswith("quelques") else 1)
        unit = _fold(unit)
        if unit in _UNIT_SECONDS:
            return (local - timedelta(seconds=n * _UNIT_SECONDS[unit])).replace(microsecond=0)
        return (local - timedelta(days=n * _UNIT_DAYS.get(unit, 1))).date()
    m = _DAY_WORD_RE.search(text)
    if m:
        local = _local_now(now)
        day = (local - timedelta(days=_DAY_WORD_OFFSET[m.group("word").lower()])).date()
        value = _with_time(day, m, "hh", "mi", "ss", m.group("tz2") or m.group("tz"))
        if isinstance(value, datetime) and value > local:
            return day  # "aujourd'hui à 23h" read at 10h: trust the day, not the clock
        return value
    return None


@lru_cache(maxsize=1)
def _fallback_parser():
    """dateparser, configured once: languages fixed (no per-call detection), day first."""
    from dateparser.date import DateDataParser  # lazy: heavy import, rarely needed

    return DateDataParser(
        languages=["fr", "en", "es"],
        try_previous_locales=False,
        settings={
            "DATE_ORDER": "DMY",
            "PREFER_DATES_FROM": "past",
            "PREFER_DAY_OF_MONTH": "first",
            "RETURN_TIME_AS_PERIOD": True,
            "REQUIRE_PARTS": ["day", "month"],
            "STRICT_PARSING": False,
            "TIMEZONE": "Africa/Casablanca",
            "RETURN_AS_TIMEZONE_AWARE": True,
        },
    )


_NUMBER = re.compile(r"\d+")
# dateparser resolves relative phrases against the machine's clock, not ``now``:
# relative forms are the fast path's alone.
_RELATIVE_HINT = re.compile(
    r"\b(?:ago|il y a|hace|depuis|dans|in|next|last|prochain|dernier|derniere|hier|demain|"
    r"yesterday|tomorrow|today|ayer|manana|hoy)\b"
)


def _fallback(text: str, now: datetime | None) -> date | datetime | None:
    # dateparser wants the date to be (nearly) the whole string; a long
    # sentence with no date shape costs milliseconds and yields nothing.
    if len(text) > 60:
        return None
    folded = _fold(text)
    numbers = len(_NUMBER.findall(folded))
    # A day needs a number; a day and a month need a second number or a month name.
    if numbers == 0 or (numbers == 1 and _MONTH_WORDS.isdisjoint(_WORD.findall(folded))):
        return None
    if _RELATIVE_HINT.search(folded):
        return None
    try:
        data = _fallback_parser().get_date_data(text)
    except Exception:  # dateparser raises assorted errors on odd input
        return None
    value = data.date_obj if data else None
    if value is None:
        return None
    local_now = _local_now(now)
    if data.period == "time":
        moment = value if value.tzinfo else value.replace(tzinfo=MOROCCO)
        return moment if moment <= local_now else None
    day = value.date()
    return day if day <= local_now.date() else None


#: The oldest publication year taken for real: "0001-01-01T00:00:00Z" and "1970-01-01" are placeholders.
EARLIEST_YEAR = 1990


def _plausible(value: date | datetime, now: datetime | None) -> date | datetime | None:
    """``value`` unless it cannot be a news article's date: a placeholder year, or more than a day past the
    real clock (``now`` places relative forms; an absolute date is checked against today)."""
    if value.year < EARLIEST_YEAR:
        return None
    day = value.astimezone(MOROCCO).date() if isinstance(value, datetime) else value
    return value if day <= _local_now(None).date() + timedelta(days=1) else None


def parse_date(text: str | None, now: datetime | None = None) -> date | datetime | None:
    """The publication date in ``text``, or ``None`` when it holds none.

    French first (English and Spanish editions too), numeric dates day
    first, a time without an offset in Morocco's time
    (``Africa/Casablanca``). Returns a timezone-aware ``datetime`` when the
    time of day is known, a ``date`` when only the day is. Relative forms
    ("il y a 3 heures", "hier à 14:05") are resolved against ``now``
    (default: the current time in Morocco).
    """
    if not text or not isinstance(text, str):
        return None
    # Lighter than clean_text: _fold already turns every space to ASCII and drops invisibles.
    if "<" in text:
        text = strip_tags(text)
    if "&" in text:
        text = html.unescape(text)
    folded = _fold(text).strip()
    if not folded:
        return None
    # "Publié le X - Mis à jour le Y": the publication date, not the update,
    # unless the update date is the only one there is.
    cut = _UPDATE_MARK.search(folded) if "jour" in folded or "modifi" in folded or "actuali" in folded or "updated" in folded else None
    m = _search(folded, cut.start()) if cut else None
    if m is None:
        m = _search(folded, len(folded))
    if m:
        try:
            return _plausible(_from_match(m, now), now)
        except (ValueError, OverflowError):
            return None  # a date's shape with impossible values (31 - 02 - 2024)
    relative = _relative(folded, now)
    if relative is not None:
        return relative
    return _fallback(text, now)


def _printed_day(value: date | datetime) -> date:
    """The calendar day as the page prints it: a datetime's own day in its own zone."""
    return value.date() if isinstance(value, datetime) else value


def _precision(value: date | datetime) -> tuple[int, int]:
    """How much a candidate says: a day < a time in an assumed zone < a time with its offset; seconds count."""
    if not isinstance(value, datetime):
        return 0, 0
    return (2 if value.tzinfo is not MOROCCO else 1), (1 if value.second or value.microsecond else 0)


def publication_moment(candidates: list[date | datetime | None]) -> date | datetime | None:
    """The publication date among a page's candidates, given in order of authority.

    The first readable candidate says which day; of the candidates printing
    that same day, the most precise wins (ties to the more authoritative): a
    time with its offset over the same time without one (read as Morocco's
    only when nothing on the page gives the zone), a time over a bare day.
    A later candidate of another day never wins.
    """
    readable = [value for value in candidates if value is not None]
    if not readable:
        return None
    day = _printed_day(readable[0])
    agreeing = [value for value in readable if _printed_day(value) == day]
    return max(agreeing, key=_precision)  # max keeps the first of equals
