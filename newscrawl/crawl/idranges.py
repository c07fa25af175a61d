"""Back-catalogue walks: Maghress article ids, fetched in order, a range given up after a run of misses.

``parse_ids("5010000-5010500,5010600")`` reads the spider's ``ids`` argument;
an ``IdWalk`` hands out the next ids to fetch and is told how each one
went. Plain Python, no Scrapy: the spider does the fetching.

Misses are counted in id order, not in the order answers arrive: a range
stops once ``max_misses`` consecutive ids (stored as missing, or answering
"not found") follow its last hit. At most ``window`` ids are out (handed out,
outcome unknown) at once, and no id more than ``window`` ids past the
lowest one whose outcome is unknown is handed out, so a range never runs
more than ``window`` ids past the point where it stops (and a slow id holds
the walk back rather than letting it run ahead uncounted).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

_PART = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")
MAX_IDS = 10_000_000  # one walk's ids: a typo ("5010000-50100000") should not queue tens of millions


def parse_ids(value: str) -> list[tuple[int, int]]:
    """``"5010000-5010500, 5010600"`` -> ``[(5010000, 5010500), (5010600, 5010600)]``; bad text raises ``ValueError``."""
    ranges: list[tuple[int, int]] = []
    for part in str(value).split(","):
        if not part.strip():
            continue
        m = _PART.match(part)
        if not m:
            raise ValueError(f"{part.strip()!r} is neither an id nor a range like 5010000-5010500")
        low, high = int(m.group(1)), int(m.group(2) or m.group(1))
        if high < low:
            raise ValueError(f"range {part.strip()!r} ends before it starts")
        ranges.append((low, high))
    if not ranges:
        raise ValueError("no id given")
    if sum(high - low + 1 for low, high in ranges) > MAX_IDS:
        raise ValueError(f"more than {MAX_IDS:,} ids")
    return ranges


@dataclass
class _Range:
    low: int
    high: int
    next_id: int = 0  # next id to hand out
    frontier: int = 0  # lowest id whose outcome is not known yet
    misses: int = 0  # consecutive misses just below the frontier
    stopped_after: int | None = None  # the id the range ended at, once stopped
    outcomes: dict[int, bool | None] = field(default_factory=dict)  # known outcomes at or above the frontier

    def __post_init__(self):
        self.next_id = self.frontier = self.low

    @property
    def stopped(self) -> bool:
        return self.stopped_after is not None


class IdWalk:
    """The ids of some ranges, handed out in order, each range stopped after ``max_misses`` consecutive misses."""

    def __init__(self, ranges: list[tuple[int, int]], max_misses: int, window: int = 16):
        self.ranges = [_Range(low, high) for low, high in ranges]
        self.max_misses = max_misses
        self.window = window
        self.in_flight: set[int] = set()  # handed out, outcome not known yet
        self.stopped_ranges: list[tuple[int, int, int]] = []  # (low, high, id after which it stopped)

    def take(self, count: int) -> list[int]:
        """Up to ``count`` ids not handed out yet (fewer when ``window`` are out), from the first range still going."""
        count = min(count, self.window - len(self.in_flight))
        out: list[int] = []
        for r in self.ranges:
            while len(out) < count and not r.stopped and r.next_id <= r.high and r.next_id < r.frontier + self.window:
                out.append(r.next_id)
                r.next_id += 1
            if len(out) >= count or (not r.stopped and r.next_id <= r.high):
                break  # ranges are walked one after the other
        self.in_flight.update(out)
        return out

    def record(self, maghress_id: int, found: bool | None) -> None:
        """The outcome of an id: found (``True``), missing (``False``) or unknown (``None``: it failed)."""
        self.in_flight.discard(maghress_id)
        for r in self.ranges:
            if r.low <= maghress_id <= r.high:
                r.outcomes[maghress_id] = found
                self._advance(r)
                return

    def _advance(self, r: _Range) -> None:
        while r.frontier in r.outcomes:
            found = r.outcomes.pop(r.frontier)
            if found is True:
                r.misses = 0
            elif found is False:
                r.misses += 1
            r.frontier += 1
            if not r.stopped and r.misses >= self.max_misses and r.frontier <= r.high:
                self._stop(r, r.frontier - 1)
        if not r.stopped:
            self._stop_at_a_certain_end(r)

    def _stop_at_a_certain_end(self, r: _Range) -> None:
        """Stop the range when ``max_misses`` consecutive misses are known past an id still unanswered: whatever
        that id turns out to be, the range ends there, and the ids after it need not be asked (a slow or retried
        id would otherwise let the walk run a whole window past the end)."""
        run, previous = 0, None
        for maghress_id in sorted(r.outcomes):
            if previous is None or maghress_id != previous + 1:
                run = 0  # an id without its outcome yet breaks the run
            previous = maghress_id
            found = r.outcomes[maghress_id]
            if found is True:
                run = 0
            elif found is False:
                run += 1
            if run >= self.max_misses and maghress_id < r.high:
                self._stop(r, maghress_id)
                return

    def _stop(self, r: _Range, after_id: int) -> None:
        r.stopped_after = after_id
        self.stopped_ranges.append((r.low, r.high, after_id))

    def still_wanted(self, ids: list[int]) -> list[int]:
        """``ids`` handed out and not asked yet, less those past the end of a range that has stopped since
        (outcomes recorded meanwhile, of ids known from earlier runs, can end it): those are handed back."""
        wanted = []
        for maghress_id in ids:
            r = next((r for r in self.ranges if r.low <= maghress_id <= r.high), None)
            if r is not None and r.stopped and maghress_id > r.stopped_after:
                self.in_flight.discard(maghress_id)
            else:
                wanted.append(maghress_id)
        return wanted

    @property
    def done(self) -> bool:
        return all(r.stopped or r.next_id > r.high for r in self.ranges)

    def pop_stopped(self) -> list[tuple[int, int, int]]:
        """The ranges stopped since the last call: ``(low, high, id after which it stopped)``."""
        stopped, self.stopped_ranges = self.stopped_ranges, []
        return stopped

    # -- state, for a walk shared by several processes (newscrawl.crawl.distributed.SharedIdWalk) --------------

    def to_dict(self) -> dict:
        ranges = [{**asdict(r), "outcomes": {str(k): v for k, v in r.outcomes.items()}} for r in self.ranges]
        return {"ranges": ranges, "max_misses": self.max_misses, "window": self.window,
                "in_flight": sorted(self.in_flight), "stopped_ranges": self.stopped_ranges}

    @classmethod
    def from_dict(cls, data: dict) -> IdWalk:
        walk = cls([], data["max_misses"], data["window"])
        for raw in data["ranges"]:
            r = _Range(raw["low"], raw["high"])
            r.next_id, r.frontier, r.misses = raw["next_id"], raw["frontier"], raw["misses"]
            r.stopped_after = raw.get("stopped_after")
            if r.stopped_after is None and raw.get("stopped"):  # a walk saved before the end id was kept
                r.stopped_after = r.frontier - 1
            r.outcomes = {int(k): v for k, v in raw["outcomes"].items()}
            walk.ranges.append(r)
        walk.in_flight = set(data["in_flight"])
        walk.stopped_ranges = [tuple(x) for x in data["stopped_ranges"]]
        return walk
