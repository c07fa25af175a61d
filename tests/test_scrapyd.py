"""Deploying to a real scrapyd, scheduling through it, and `newscrawl schedule`'s timetable."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
import requests

from tests.support.fixtureserver import FixtureServer
from newscrawl.store import Store

from .conftest import REPO
from .servers import free_port, scrapyd_server
from .support.mirrors import canonical_mirror
from .test_crawl_e2e import EXPECTED

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def egg(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("egg") / "newscrawl.egg"
    result = subprocess.run([str(Path(sys.executable).parent / "scrapyd-deploy"), f"--build-egg={path}"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return path


def deploy(url: str, egg: Path, version: str = "1") -> None:
    with egg.open("rb") as f:
        answer = requests.post(f"{url}/addversion.json", data={"project": "newscrawl", "version": version},
                               files={"egg": f}, timeout=60).json()
    assert answer["status"] == "ok" and answer["spiders"] == 2, answer


def schedule(url: str, **params) -> str:
    data = [("project", "newscrawl"), ("spider", "lopinion")]
    for name, value in params.items():
        if name == "settings":
            data += [("setting", f"{k}={v}") for k, v in value.items()]
        else:
            data.append((name, str(value)))
    answer = requests.post(f"{url}/schedule.json", data=data, timeout=30).json()
    assert answer["status"] == "ok", answer
    return answer["jobid"]


def jobs(url: str) -> dict:
    return requests.get(f"{url}/listjobs.json", params={"project": "newscrawl"}, timeout=30).json()


def wait_finished(url: str, job_ids: list[str], timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        finished = {j["id"] for j in jobs(url)["finished"]}
        if set(job_ids) <= finished:
            return
        time.sleep(0.5)
    pytest.fail(f"jobs {job_ids} did not finish: {jobs(url)}")


def count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM articles").fetchone()[0]


def crawl_settings(db: Path) -> dict:
    return {"NEWSCRAWL_DATABASE_URL": f"sqlite:///{db}", "AUTOTHROTTLE_ENABLED": "False"}


def test_deploy_list_schedule_and_reschedule(egg, tmp_path):
    data_dir = tmp_path / "data"
    # A mirror whose pages name the production host as canonical: the second job must still find all stored.
    with scrapyd_server(tmp_path / "scrapyd", env={"NEWSCRAWL_DATA_DIR": str(data_dir)}) as url, \
            FixtureServer(canonical_mirror(tmp_path / "mirror")) as site:
        deploy(url, egg)
        spiders = requests.get(f"{url}/listspiders.json", params={"project": "newscrawl"}, timeout=30).json()
        assert sorted(spiders["spiders"]) == ["lopinion", "maghress"]
        db = tmp_path / "articles.db"
        first = schedule(url, start_url=f"{site.origin}/fr/lopinion", settings=crawl_settings(db))
        wait_finished(url, [first])
        assert count(db) == len(EXPECTED)
        # No items_dir: the default CSV lands under NEWSCRAWL_DATA_DIR, not in scrapyd's own directories.
        csvs = list((data_dir / "exports").glob("lopinion-*.csv"))
        assert len(csvs) == 1 and csvs[0].read_text("utf-8").count("/fr/lopinion/") == len(EXPECTED)
        site.clear_log()
        second = schedule(url, start_url=f"{site.origin}/fr/lopinion", settings=crawl_settings(db))
        wait_finished(url, [second])
        assert count(db) == len(EXPECTED)
        assert sorted(site.requests) == ["/fr/lopinion", "/robots.txt"]


def test_two_jobs_at_once_through_scrapyd_store_each_article_once(egg, site_server, tmp_path):
    with scrapyd_server(tmp_path / "scrapyd", env={"NEWSCRAWL_DATA_DIR": str(tmp_path / "data")}) as url:
        deploy(url, egg)
        db = tmp_path / "articles.db"
        ids = [schedule(url, start_url=f"{site_server.origin}/fr/lopinion", refresh="true", settings=crawl_settings(db))
               for _ in range(2)]
        wait_finished(url, ids)
        finished = {j["id"]: j for j in jobs(url)["finished"]}
        assert all(finished[i].get("log_url") for i in ids)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT url) FROM articles").fetchone() == (len(EXPECTED),) * 2


def test_schedule_runs_a_fast_plan_never_overlapping_and_retries_a_scrapyd_that_is_down(egg, site_server, tmp_path):
    port = free_port()
    db = tmp_path / "articles.db"
    plan = tmp_path / "plan.toml"
    plan.write_text(f"""
[defaults]
scrapyd = ["http://127.0.0.1:{port}/"]
project = "newscrawl"

[[job]]
name = "lopinion-fast"
spider = "lopinion"
every = "2s"
args = {{ start_url = "{site_server.origin}/fr/lopinion", refresh = "true" }}
settings = {{ NEWSCRAWL_DATABASE_URL = "sqlite:///{db}", AUTOTHROTTLE_ENABLED = "False" }}
""")
    scheduler = subprocess.Popen([sys.executable, "-m", "newscrawl.ops.cli", "schedule", str(plan), "--stop-after", "25"],
                                 cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(3)  # scrapyd is down: the scheduler must retry
    with scrapyd_server(tmp_path / "scrapyd", port=port, env={"NEWSCRAWL_DATA_DIR": str(tmp_path / "data")}) as url:
        deploy(url, egg)
        log, _ = scheduler.communicate(timeout=60)
        deadline = time.time() + 90
        while (jobs(url)["running"] or jobs(url)["pending"]) and time.time() < deadline:
            time.sleep(0.5)
        finished = jobs(url)["finished"]
    assert scheduler.returncode == 0, log
    assert "retrying in" in log
    assert len(finished) >= 2, log
    spans = sorted((datetime.fromisoformat(j["start_time"]), datetime.fromisoformat(j["end_time"])) for j in finished)
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start >= end, f"two jobs ran at once: {spans}"
    assert "not starting another" in log  # a due run found the last one still going, and waited
    assert count(db) == len(EXPECTED)
    state = (tmp_path / "plan.state.json").read_text()
    assert "lopinion-fast http://127.0.0.1:" in state


def test_schedule_once_submits_what_is_due_and_remembers_it(egg, site_server, tmp_path):
    db = tmp_path / "articles.db"
    with scrapyd_server(tmp_path / "scrapyd", env={"NEWSCRAWL_DATA_DIR": str(tmp_path / "data")}) as url:
        deploy(url, egg)
        plan = tmp_path / "plan.toml"
        plan.write_text(f"""
[[job]]
name = "hourly"
spider = "lopinion"
cron = "0 * * * *"
scrapyd = "{url}"
args = {{ start_url = "{site_server.origin}/fr/lopinion" }}
settings = {{ NEWSCRAWL_DATABASE_URL = "sqlite:///{db}", AUTOTHROTTLE_ENABLED = "False" }}
""")
        once = [sys.executable, "-m", "newscrawl.ops.cli", "schedule", str(plan), "--once"]
        first = subprocess.run(once, cwd=REPO, capture_output=True, text=True, timeout=60)
        assert first.returncode == 0 and "scheduled lopinion" in first.stderr, first.stderr
        second = subprocess.run(once, cwd=REPO, capture_output=True, text=True, timeout=60)
        assert second.returncode == 0 and "scheduled" not in second.stderr  # not due again before the next hour
        wait_finished(url, [j["id"] for j in jobs(url)["pending"] + jobs(url)["running"]] or [])
        deadline = time.time() + 60
        while not jobs(url)["finished"] and time.time() < deadline:
            time.sleep(0.5)
        assert len(jobs(url)["finished"]) == 1
    assert count(db) == len(EXPECTED)


BAD_PLANS = {
    "every = true": ('[[job]]\nspider = "lopinion"\nevery = true\n', "every = True"),
    "every = inf": ('[[job]]\nspider = "lopinion"\nevery = inf\n', "every = inf"),
    "every = 0.001": ('[[job]]\nspider = "lopinion"\nevery = 0.001\n', "every = 0.001"),
    "every = [1]": ('[[job]]\nspider = "lopinion"\nevery = [1]\n', "every = [1]"),
    "args = 5": ('[[job]]\nspider = "lopinion"\nevery = "1h"\nargs = 5\n', "args = 5"),
    "settings list": ('[[job]]\nspider = "lopinion"\nevery = "1h"\nsettings = ["x"]\n', "settings = ['x']"),
    "nested setting": ('[[job]]\nspider = "lopinion"\nevery = "1h"\nsettings = { A = { b = 1 } }\n', "settings.A"),
    "scrapyd = 5": ('[[job]]\nspider = "lopinion"\nevery = "1h"\nscrapyd = 5\n', "scrapyd = 5"),
    "spider = 7": ('[[job]]\nspider = 7\nevery = "1h"\n', "spider = 7"),
    "cron = 5": ('[[job]]\nspider = "lopinion"\ncron = 5\n', "cron = 5"),
    "timeout = inf": ('[[job]]\nspider = "lopinion"\nevery = "1h"\ntimeout = inf\n', "timeout = inf"),
    "timeout text": ('[[job]]\nspider = "lopinion"\nevery = "1h"\ntimeout = "3"\n', "timeout = '3'"),
    "defaults list": ('defaults = [1]\n[[job]]\nspider = "lopinion"\nevery = "1h"\n', "[defaults]"),
    "job table": ('[job]\nspider = "lopinion"\n', "[[job]]"),
    "typo": ('[[job]]\nspider = "lopinion"\nevry = "1h"\n', "unknown key 'evry'"),
    "password in query": ('[[job]]\nspider = "lopinion"\nevery = "1h"\n'
                          'settings = { NEWSCRAWL_DATABASE_URL = "postgresql://db/x?password=pw" }\n', "holds a password"),
}


@pytest.mark.parametrize("name", sorted(BAD_PLANS))
def test_every_bad_plan_is_refused_at_start_with_one_line(name, tmp_path):
    from newscrawl.ops.schedule import PlanError, load_plan

    text, message = BAD_PLANS[name]
    plan = tmp_path / "plan.toml"
    plan.write_text(text)
    with pytest.raises(PlanError) as refused:
        load_plan(plan)
    assert message in str(refused.value)


def test_a_bad_plan_exits_2_without_a_traceback(tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text(BAD_PLANS["every = inf"][0])
    result = subprocess.run([sys.executable, "-m", "newscrawl.ops.cli", "schedule", str(plan)], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "every = inf" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("content", ['{"hourly http://n:6800": ', "[1, 2]", '{"hourly http://n:6800": "yesterday"}',
                                     '{"hourly http://n:6800": 5}', "\udcff"])
def test_a_damaged_state_file_is_refused_at_start_with_one_line(content, tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text('[[job]]\nname = "hourly"\nspider = "lopinion"\nevery = "1h"\nscrapyd = "http://n:6800"\n')
    state = tmp_path / "plan.state.json"
    state.write_bytes(content.encode("utf-8", "surrogateescape"))
    result = subprocess.run([sys.executable, "-m", "newscrawl.ops.cli", "schedule", str(plan), "--once"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "state file" in result.stderr and "Traceback" not in result.stderr


def test_a_node_that_trickles_its_answer_does_not_hold_a_call_past_its_deadline(tmp_path):
    """A node that sends a byte every half second never trips a per-read timeout; the call's total deadline
    (twice ``timeout``) ends it."""
    import socket
    import threading

    from newscrawl.ops.schedule import ScrapydNode

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    stop = threading.Event()

    def trickle():
        conn, _ = server.accept()
        with conn:
            for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 900\r\n\r\n" + b" " * 900:
                if stop.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.5)

    threading.Thread(target=trickle, daemon=True).start()
    node = ScrapydNode(f"http://127.0.0.1:{server.getsockname()[1]}", None, None, timeout=1)
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            node.jobs("newscrawl")
        # The trickle would take 8 minutes; the deadline is 2 s (generous bound for a busy machine).
        assert time.monotonic() - started < 30
    finally:
        stop.set()
        server.close()


def test_plan_errors_are_reported_clearly(tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text('[[job]]\nspider = "lopinion"\ncron = "every hour"\n')
    result = subprocess.run([sys.executable, "-m", "newscrawl.ops.cli", "schedule", str(plan), "--once"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "is not a cron expression" in result.stderr


def test_a_node_that_never_answers_does_not_stop_the_scheduler(egg, site_server, tmp_path):
    import socket

    silent = socket.socket()  # accepts connections (the kernel does) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    db = tmp_path / "articles.db"
    with scrapyd_server(tmp_path / "scrapyd", env={"NEWSCRAWL_DATA_DIR": str(tmp_path / "data")}) as url:
        deploy(url, egg)
        plan = tmp_path / "plan.toml"
        plan.write_text(f"""
[defaults]
timeout = 1

[[job]]
name = "hourly"
spider = "lopinion"
cron = "0 * * * *"
scrapyd = ["http://127.0.0.1:{silent.getsockname()[1]}", "{url}"]
args = {{ start_url = "{site_server.origin}/fr/lopinion" }}
settings = {{ NEWSCRAWL_DATABASE_URL = "sqlite:///{db}", AUTOTHROTTLE_ENABLED = "False" }}
""")
        # Waits for what it must see in the scheduler's log, not for a wall-clock time: on a busy machine its
        # start-up alone may take seconds.
        seen = _run_until(
            [sys.executable, "-m", "newscrawl.ops.cli", "schedule", str(plan)],
            [f"scheduled lopinion on {url}",  # the other node is served
             "retrying in"],  # the silent one is tried again later
        )
        silent.close()
        assert "timed out" in seen
        wait_finished(url, [j["id"] for j in jobs(url)["pending"] + jobs(url)["running"]])


def _run_until(command: list[str], wanted: list[str], deadline: float = 120.0) -> str:
    """Run ``command`` until every line of ``wanted`` appeared in its log (or ``deadline`` passed, a failure),
    then stop it with Ctrl-C; returns its log."""
    import signal
    import threading

    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    done = threading.Event()

    def read():
        for line in proc.stderr:
            lines.append(line)
            if all(any(w in seen for seen in lines) for w in wanted):
                done.set()
        done.set()

    threading.Thread(target=read, daemon=True).start()
    done.wait(deadline)
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    log = "".join(lines)
    for w in wanted:
        assert w in log, log[-3000:]
    assert proc.returncode == 0, log[-3000:]
    return log


def test_a_long_running_job_is_looked_at_a_bounded_number_of_times(egg, tmp_path):
    from newscrawl.ops.schedule import Scheduler, State, load_plan

    db = tmp_path / "articles.db"
    with scrapyd_server(tmp_path / "scrapyd", env={"NEWSCRAWL_DATA_DIR": str(tmp_path / "data")}) as url, \
            FixtureServer(canonical_mirror(tmp_path / "mirror"), delay=1.0) as slow_site:
        deploy(url, egg)
        plan = tmp_path / "plan.toml"
        plan.write_text(f"""
[[job]]
name = "often"
spider = "lopinion"
every = "1s"
scrapyd = "{url}"
args = {{ start_url = "{slow_site.origin}/fr/lopinion" }}
settings = {{ NEWSCRAWL_DATABASE_URL = "sqlite:///{db}", AUTOTHROTTLE_ENABLED = "False", CONCURRENT_REQUESTS = "1" }}
""")
        scheduler = Scheduler(load_plan(plan), State(tmp_path / "plan.state.json"), max_backoff=60)
        scheduler.run_forever(stop_after=15)  # the job (one page a second) runs the whole time
        running = jobs(url)["running"] + jobs(url)["pending"]
        for job in running:
            requests.post(f"{url}/cancel.json", data={"project": "newscrawl", "job": job["id"]}, timeout=30)
    assert len(running) == 1
    # One submission, then looks after 1, 2, 4 and 8 s: not one every 50 ms (about 300 in 15 s).
    assert scheduler.calls <= 8, scheduler.calls


def test_the_database_password_never_reaches_scrapyd_or_the_logs(egg, site_server, tmp_path, postgresql_admin_url):
    from .servers import create_database

    secret = "n0t-in-any-log-7731"
    database = create_database(postgresql_admin_url, "scheduled")
    url_file = tmp_path / "database-url"
    url_file.write_text(database.replace("postgres@", f"postgres:{secret}@") + "\n")
    url_file.chmod(0o600)
    with scrapyd_server(tmp_path / "scrapyd", env={"NEWSCRAWL_DATA_DIR": str(tmp_path / "data")}) as url:
        deploy(url, egg)
        plan = tmp_path / "plan.toml"
        plan.write_text(f"""
[[job]]
name = "hourly"
spider = "lopinion"
cron = "0 * * * *"
scrapyd = "{url}"
args = {{ start_url = "{site_server.origin}/fr/lopinion" }}
settings = {{ NEWSCRAWL_DATABASE_URL_FILE = "{url_file}", AUTOTHROTTLE_ENABLED = "False" }}
""")
        run = subprocess.run([sys.executable, "-m", "newscrawl.ops.cli", "schedule", str(plan), "--once"], cwd=REPO,
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        wait_finished(url, [j["id"] for j in jobs(url)["pending"] + jobs(url)["running"]])
        job_list = requests.get(f"{url}/listjobs.json", params={"project": "newscrawl"}, timeout=30).text
    assert Store(database).count() == len(EXPECTED)  # the crawl did use the URL in the file
    logs = [p.read_text("utf-8", "replace") for p in (tmp_path / "scrapyd").rglob("*") if p.is_file()
            and p.suffix in (".log", ".out")]
    assert logs and all(secret not in text for text in [*logs, job_list, run.stderr])
    # A plan that would hand the password to scrapyd is refused.
    plan.write_text(plan.read_text().replace(f'NEWSCRAWL_DATABASE_URL_FILE = "{url_file}"',
                                             f'NEWSCRAWL_DATABASE_URL = "{url_file.read_text().strip()}"'))
    refused = subprocess.run([sys.executable, "-m", "newscrawl.ops.cli", "schedule", str(plan), "--once"], cwd=REPO,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "NEWSCRAWL_DATABASE_URL holds a password" in refused.stderr
    assert secret not in refused.stderr
