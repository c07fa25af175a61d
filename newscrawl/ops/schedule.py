"""``newscrawl schedule``: a timetable for scrapyd, which runs jobs but keeps no timetable.

A plan is a TOML file of entries::

    [defaults]
    scrapyd = ["http://127.0.0.1:6800"]     # one or more nodes
    project = "newscrawl"
    # username = "..."; password_env = "SCRAPYD_PASSWORD"   (credentials, when scrapyd asks)
    # timeout = 10                          # seconds to connect to a node, and again to read its answer
    #                                         (a call never takes longer than twice that)

    [[job]]
    name = "lopinion-hourly"                 # unique; the state file remembers runs by name
    spider = "lopinion"
    cron = "5 * * * *"                       # croniter syntax, in the machine's local time ...
    # every = "30m"                          # ... or an interval: 90s, 30m, 1h, 1d
    args = { max_pages = 5 }                 # spider arguments (-a)
    settings = { LOG_LEVEL = "INFO" }        # setting overrides (-s)

An entry is *due* when its latest cron time (or its interval) has passed
since it was last submitted. On each node, a due entry is submitted through
scrapyd's ``schedule.json`` unless the same spider already has a pending or
running job there (``listjobs.json``): then it asks again after a back-off
(1 s, doubling to a minute), never in a busy loop, and logs once that it
waits, not at every look. A node that does not answer (refused, or accepted
and silent past ``timeout``) is retried with exponential backoff while the
other nodes are served. The last submissions are kept in a small JSON state
file, so a restarted scheduler (or one run from cron with ``--once``)
neither forgets nor repeats runs.

A database password never belongs in a plan: scrapyd writes every job's
settings to its log and job list. Give the job ``NEWSCRAWL_DATABASE_URL_FILE``
(a file the scrapyd service can read) or set ``NEWSCRAWL_DATABASE_URL`` in the
scrapyd service's environment; a plan whose settings carry a password is
refused.

(One module: the plan, the timetable and the scrapyd client are one command.)
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import signal
import threading
import time
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from newscrawl import credentials
from newscrawl.crawl.health import ExitCode

logger = logging.getLogger("newscrawl.ops.schedule")

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


class PlanError(ValueError):
    """The plan file cannot be used; the message says where and why."""


@dataclass
class Entry:
    name: str
    spider: str
    nodes: list[str]
    project: str
    cron: str | None = None
    every: float | None = None  # seconds
    args: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0  # seconds to connect, and again to read an answer

    def last_due(self, now: datetime, last_run: datetime | None) -> datetime | None:
        """The moment this entry last became due, if it has not been submitted since; else ``None``."""
        if self.cron:
            from croniter import croniter

            due = croniter(self.cron, now).get_prev(datetime)
            return due if last_run is None or last_run < due else None
        assert self.every is not None
        if last_run is None:
            return now
        due = last_run + timedelta(seconds=self.every)
        return due if due <= now else None

    def next_due(self, now: datetime, last_run: datetime | None) -> datetime:
        if self.cron:
            from croniter import croniter

            return croniter(self.cron, now).get_next(datetime)
        return (last_run or now) + timedelta(seconds=self.every or 0)

    def schedule_args(self) -> list[tuple[str, str]]:
        pairs = [(k, str(v)) for k, v in self.args.items()]
        pairs += [("setting", f"{k}={v}") for k, v in self.settings.items()]
        return pairs


#: The longest interval or timeout a plan may give, in seconds (a year): past it, date arithmetic overflows.
_MAX_SECONDS = 366 * 86400


def parse_interval(value: Any, where: str) -> float:
    """Seconds of ``every``: a number of seconds, or "90s", "30m", "1h", "1d"; at least one second."""
    seconds = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (m := _INTERVAL.match(value)):
        seconds = float(m.group(1)) * _UNIT_SECONDS[(m.group(2) or "").lower() or None]
    if seconds is None or not math.isfinite(seconds) or not 1 <= seconds <= _MAX_SECONDS:
        raise PlanError(f"{where}: every = {value!r} is not an interval such as 90s, 30m, 1h or 1d "
                        "(from one second to a year)")
    return seconds


def _table(value: Any, what: str, where: str) -> dict:
    if not isinstance(value, dict):
        raise PlanError(f"{where}: {what} = {value!r}: expected a table such as {{ name = \"value\" }}")
    bad = [k for k, v in value.items() if not isinstance(v, (str, int, float, bool))]
    if bad:
        raise PlanError(f"{where}: {what}.{bad[0]} = {value[bad[0]]!r}: expected a string, number or boolean")
    return value


def _text(value: Any, what: str, where: str, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise PlanError(f"{where}: {what} = {value!r}: expected a non-empty string")
    return value


def _nodes(value: Any, where: str) -> list[str]:
    nodes = [value] if isinstance(value, str) else value
    if not isinstance(nodes, list) or not nodes or not all(isinstance(n, str) and n.startswith(("http://", "https://"))
                                                          for n in nodes):
        raise PlanError(f"{where}: scrapyd = {value!r}: expected a URL or a list of URLs (http://host:6800)")
    return [n.rstrip("/") for n in nodes]  # a trailing slash makes scrapyd answer 404


_KNOWN_KEYS = frozenset({"name", "spider", "cron", "every", "args", "settings", "scrapyd", "project", "username",
                         "password", "password_env", "timeout"})


def load_plan(path: str | Path) -> list[Entry]:
    """The plan's entries, every value checked: a plan the scheduler cannot follow is refused whole, with one
    line saying where and why, before anything is submitted."""
    try:
        data = tomllib.loads(Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PlanError(f"{path}: {exc}") from None
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise PlanError(f"{path}: [defaults] must be a table")
    jobs = data.get("job", [])
    if not isinstance(jobs, list) or not all(isinstance(j, dict) for j in jobs):
        raise PlanError(f"{path}: jobs are [[job]] tables")
    entries: list[Entry] = []
    for index, raw in enumerate(jobs, start=1):
        merged = {**defaults, **raw}
        where = f"{path}: job #{index} ({merged.get('name', 'unnamed')})"
        if unknown := sorted(set(merged) - _KNOWN_KEYS):
            raise PlanError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KNOWN_KEYS))})")
        if not merged.get("spider"):
            raise PlanError(f"{where}: 'spider' is missing")
        spider = _text(merged["spider"], "spider", where, required=True)
        if ("cron" in merged) == ("every" in merged):
            raise PlanError(f"{where}: give either 'cron' or 'every'")
        cron = _text(merged.get("cron"), "cron", where)
        if cron is not None:
            from croniter import croniter

            if not croniter.is_valid(cron):
                raise PlanError(f"{where}: cron = {cron!r} is not a cron expression")
        password = _text(merged.get("password"), "password", where)
        if merged.get("password_env"):
            password = os.environ.get(_text(merged["password_env"], "password_env", where))
        entries.append(
            Entry(
                name=_text(merged.get("name"), "name", where) or f"{spider}-{index}",
                spider=spider,
                nodes=_nodes(merged.get("scrapyd", ["http://127.0.0.1:6800"]), where),
                project=_text(merged.get("project", "newscrawl"), "project", where, required=True),
                cron=cron,
                every=parse_interval(merged["every"], where) if "every" in merged else None,
                args={k: str(v) for k, v in _table(merged.get("args", {}), "args", where).items()},
                settings={k: str(v) for k, v in _table(merged.get("settings", {}), "settings", where).items()},
                username=_text(merged.get("username"), "username", where),
                password=password,
                timeout=_positive(merged.get("timeout", 10), f"{where}: timeout"),
            )
        )
        _refuse_secrets(entries[-1], where)
    names = [e.name for e in entries]
    if len(set(names)) != len(names):
        raise PlanError(f"{path}: job names must be unique, got {names}")
    if not entries:
        raise PlanError(f"{path}: no [[job]] entry")
    return entries


def _positive(value: Any, where: str) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= _MAX_SECONDS:
        return float(value)
    raise PlanError(f"{where} = {value!r}: expected a number of seconds above 0 (at most a year)")


def _refuse_secrets(entry: Entry, where: str) -> None:
    """A password in a job's settings or arguments would be written to scrapyd's log and job list."""
    for name, value in {**entry.settings, **entry.args}.items():
        if isinstance(value, str) and credentials.holds_secret(value):
            raise PlanError(f"{where}: {name} holds a password, which scrapyd would write to its log and job "
                            "list; use NEWSCRAWL_DATABASE_URL_FILE (a file the scrapyd service reads) or "
                            "NEWSCRAWL_DATABASE_URL in the scrapyd service's environment (see docs/scheduling.md)")


class ScrapydNode:
    """The two calls the scheduler makes to a scrapyd node, each with a connect and a read timeout.

    (scrapyd-client's ``ScrapydClient`` sends its requests without a timeout: a node that accepts the
    connection and never answers would stop the scheduler for good.)
    """

    def __init__(self, url: str, username: str | None, password: str | None, timeout: float):
        import requests

        self.url = url
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "newscrawl-schedule"
        if username:
            self.session.auth = (username, password or "")
        self.timeout = (timeout, timeout)
        # requests' read timeout is per read: a node that sends a byte every second never reaches it. Each
        # call as a whole ends by this deadline.
        self.deadline = 2 * timeout

    def _call(self, method: str, endpoint: str, **kwargs) -> dict:
        response = _within(self.deadline, self.session.request, method, f"{self.url}/{endpoint}.json",
                           timeout=self.timeout, **kwargs)
        try:
            answer = response.json()
        except ValueError:
            raise RuntimeError(f"HTTP {response.status_code}, not JSON: {response.text[:200]!r}") from None
        if answer.get("status") != "ok":
            raise RuntimeError(f"scrapyd says {answer.get('status')}: {answer.get('message', answer)}")
        return answer

    def jobs(self, project: str) -> dict:
        return self._call("GET", "listjobs", params={"project": project})

    def schedule(self, project: str, spider: str, args: list[tuple[str, str]]) -> str:
        return self._call("POST", "schedule", data=[*args, ("project", project), ("spider", spider)])["jobid"]


def _within(seconds: float, function, *args, **kwargs):
    """``function(*args, **kwargs)``, or ``TimeoutError`` once ``seconds`` have passed. (The call goes on in a
    daemon thread until its own per-read timeout or the node ends it; the scheduler does not wait for it.)"""
    outcome: dict[str, Any] = {}

    def call() -> None:
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            outcome["error"] = exc

    thread = threading.Thread(target=call, daemon=True, name="scrapyd-call")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TimeoutError(f"no complete answer within {seconds:g} s (timed out)")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class StateError(ValueError):
    """The state file cannot be read: the scheduler would forget or repeat runs."""


class State:
    """Last submission time per (entry, node), persisted as JSON next to the plan."""

    def __init__(self, path: Path):
        self.path = path
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError:
            text = "{}"  # never run yet
        except (OSError, UnicodeDecodeError) as exc:
            raise StateError(f"state file {path}: {exc}") from None
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            for value in data.values():
                datetime.fromisoformat(value)
        except (ValueError, TypeError) as exc:
            raise StateError(f"state file {path} is damaged ({_short(exc)}): fix it, or remove it to start "
                             "afresh (every entry is then due once)") from None
        self.data: dict[str, str] = data

    def last_run(self, entry: Entry, node: str) -> datetime | None:
        value = self.data.get(f"{entry.name} {node}")
        return datetime.fromisoformat(value) if value else None

    def record(self, entry: Entry, node: str, when: datetime) -> None:
        self.data[f"{entry.name} {node}"] = when.isoformat()
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True), "utf-8")
        tmp.replace(self.path)  # atomic: a crash never leaves half a state file


class Scheduler:
    def __init__(self, entries: list[Entry], state: State, *, max_backoff: float = 60.0, clock=None):
        self.entries = entries
        self.state = state
        self.max_backoff = max_backoff
        self.clock = clock or (lambda: datetime.now(timezone.utc).astimezone())
        self.retry_at: dict[tuple[str, str], float] = {}
        self.failures: dict[tuple[str, str], int] = {}
        self.busy: dict[tuple[str, str], int] = {}  # looks that found the spider still busy, in a row
        self.calls = 0  # requests made to scrapyd nodes (for the tests' "never spins")

    def _client(self, entry: Entry, node: str) -> ScrapydNode:
        return ScrapydNode(node, entry.username, entry.password, entry.timeout)

    def run_due(self) -> dict[str, int]:
        """Submit every due entry on every node once; returns counts of submitted, busy, failed, waiting."""
        counts = {"submitted": 0, "busy": 0, "failed": 0, "waiting": 0}
        now = self.clock()
        for entry in self.entries:
            for node in entry.nodes:
                key = (entry.name, node)
                if entry.last_due(now, self.state.last_run(entry, node)) is None:
                    continue
                if self.retry_at.get(key, 0) > time.monotonic():
                    counts["waiting"] += 1
                    continue
                counts[self._submit(entry, node, now)] += 1
        return counts

    def _submit(self, entry: Entry, node: str, now: datetime) -> str:
        key = (entry.name, node)
        try:
            client = self._client(entry, node)
            self.calls += 1
            jobs = client.jobs(entry.project)
            active = [j for j in jobs.get("pending", []) + jobs.get("running", []) if j.get("spider") == entry.spider]
            if active:
                # Ask again after a back-off (1 s, doubling to max_backoff), and say so once, not at every look.
                looks = self.busy.get(key, 0) + 1
                self.busy[key] = looks
                self.retry_at[key] = time.monotonic() + min(self.max_backoff, 2 ** (looks - 1))
                if looks == 1:
                    state = "pending" if active[0] in jobs.get("pending", []) else "running"
                    logger.info("%s: %s on %s still has job %s %s; not starting another until it ends",
                                entry.name, entry.spider, node, active[0].get("id"), state)
                return "busy"
            self.calls += 1
            job_id = client.schedule(entry.project, entry.spider, entry.schedule_args())
        except Exception as exc:  # requests errors, scrapyd errors, malformed answers
            failures = self.failures.get(key, 0) + 1
            self.failures[key] = failures
            delay = min(self.max_backoff, 2 ** (failures - 1))
            self.retry_at[key] = time.monotonic() + delay
            logger.warning("%s: scrapyd at %s did not take the job (%s); retrying in %.0f s", entry.name, node,
                           _short(exc), delay)
            return "failed"
        if self.busy.pop(key, 0):
            logger.info("%s: the last job of %s on %s has ended", entry.name, entry.spider, node)
        self.failures.pop(key, None)
        self.retry_at.pop(key, None)
        self.state.record(entry, node, now)
        logger.info("%s: scheduled %s on %s as job %s", entry.name, entry.spider, node, job_id)
        return "submitted"

    def seconds_to_next(self) -> float:
        """Until the next thing to do: an entry becoming due, or a waiting one (busy, failed) asking again."""
        now = self.clock()
        waits = []
        for entry in self.entries:
            for node in entry.nodes:
                last = self.state.last_run(entry, node)
                if entry.last_due(now, last) is None:
                    waits.append((entry.next_due(now, last) - now).total_seconds())
                else:
                    waits.append(self.retry_at.get((entry.name, node), 0.0) - time.monotonic())
        return max(0.05, min(waits, default=1.0))

    def run_forever(self, stop_after: float | None = None, stop: threading.Event | None = None) -> None:
        """Submit what is due, again and again, until ``stop`` is set (or ``stop_after`` seconds passed)."""
        stop = stop or threading.Event()
        started = time.monotonic()
        while not stop.is_set() and (stop_after is None or time.monotonic() - started < stop_after):
            self.run_due()
            stop.wait(min(self.seconds_to_next(), 1.0))


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 160 else text[:157] + "..."


def main(plan: str, once: bool, state_path: str | None, stop_after: float | None, retries: int) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    try:
        entries = load_plan(plan)
    except PlanError as exc:
        logger.error("%s", exc)
        return ExitCode.REFUSED
    try:
        state = State(Path(state_path) if state_path else Path(plan).with_suffix(".state.json"))
    except StateError as exc:
        logger.error("%s", exc)
        return ExitCode.REFUSED
    scheduler = Scheduler(entries, state)
    if not once:
        logger.info("Scheduling %d entries from %s (state: %s)", len(entries), plan, state.path)
        # Ctrl-C (or SIGTERM) sets a flag that the loop reads between submissions: the scheduler stops between two
        # steps, never in the middle of a scrapyd call or of writing its state (a KeyboardInterrupt could land
        # anywhere, a lock held included).
        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            scheduler.run_forever(stop_after, stop)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        logger.info("Stopped")
        return ExitCode.OK
    # --once: submit what is due now, retrying a node that is down a few times, then exit.
    for attempt in range(retries + 1):
        counts = scheduler.run_due()
        if not counts["failed"] and not counts["waiting"]:
            return 0
        if attempt < retries:
            time.sleep(max(0.0, min(t - time.monotonic() for t in scheduler.retry_at.values())))
    return ExitCode.BAD_ARGUMENT  # (a job could not be submitted)
