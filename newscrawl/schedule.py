"""The revisit schedule: at which ages after publication a stored article is fetched again.

``NEWSCRAWL_REVISIT`` (default ``1h 6h 24h 3d 7d``: an hour after publication, six hours, a day, three days, a
week, then never; ``off``: no revisits). A plain module: the spider's arguments check the setting before the
store is opened, the store's revisits (``store/revisits.py``) follow it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from newscrawl.normalize.dates import MOROCCO

#: The default schedule (``NEWSCRAWL_REVISIT``).
DEFAULT_SCHEDULE = "1h 6h 24h 3d 7d"
#: What a revisit fetches: the publisher page (where edits happen), or the Maghress page of an article that has
#: none.
PUBLISHER, MAGHRESS = "publisher", "maghress"

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_STEP = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")


@dataclass(frozen=True, slots=True)
class RevisitSchedule:
    """Ages after publication at which an article is fetched again (none: revisits are off)."""

    steps: tuple[timedelta, ...] = ()

    @classmethod
    def parse(cls, value: str | None) -> RevisitSchedule:
        """``"1h 6h 24h 3d 7d"`` (also comma-separated; units s, m, h, d, w), or ``"off"``. ``ValueError`` says
        what is wrong."""
        text = (value if value is not None else DEFAULT_SCHEDULE).strip().lower()
        if text in ("off", "no", "none", "never", "false", "0", ""):
            return cls(())
        steps = []
        for part in filter(None, re.split(r"[\s,]+", text)):
            match = _STEP.fullmatch(part)
            if match is None:
                raise ValueError(f"{part!r} is no age: write a number and a unit (s, m, h, d, w), e.g. \"1h 6h 3d\", "
                                 f"or \"off\"")
            steps.append(timedelta(seconds=float(match[1]) * _UNITS[match[2]]))
        return cls(tuple(sorted(set(steps))))

    def __bool__(self) -> bool:
        return bool(self.steps)

    def __str__(self) -> str:
        return " ".join(_age(step) for step in self.steps) or "off"

    def next_revisit(self, published_at: str | None, published_date: date | str | None, first_seen: str,
                     fetched: datetime) -> datetime | None:
        """When a stored article fetched at ``fetched`` is next due (``None``: never). Its age counts from its
        publication (``publication_time``), or from when it was first stored (``first_seen``, ISO 8601) when
        that is earlier or it gives no date: a date in the future is no reason to wait."""
        first = datetime.fromisoformat(first_seen)
        published = publication_time(published_at, published_date) or first
        return self.next_due(min(published, first), fetched)

    def next_due(self, published: datetime, fetched: datetime) -> datetime | None:
        """When an article published at ``published`` and fetched at ``fetched`` is next due (``None``: never)."""
        origin = min(published, fetched)
        for step in self.steps:
            if origin + step > fetched:
                return origin + step
        return None


def publication_time(published_at: str | None, published_date: date | str | None) -> datetime | None:
    """When an article was published, in UTC: its time when it gives one, else its day's Moroccan midnight."""
    if published_at:
        try:
            moment = datetime.fromisoformat(published_at)
        except ValueError:
            moment = None
        if moment is not None:
            return (moment if moment.tzinfo else moment.replace(tzinfo=MOROCCO)).astimezone(timezone.utc)
    if published_date:
        day = published_date if isinstance(published_date, date) else date.fromisoformat(str(published_date)[:10])
        return datetime.combine(day, time(), MOROCCO).astimezone(timezone.utc)
    return None


def _age(step: timedelta) -> str:
    seconds = int(step.total_seconds())
    for unit in ("w", "d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"
