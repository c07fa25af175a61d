"""Real servers for the tests, started on 127.0.0.1 from the installed binaries and stopped after.

A missing binary is a test *failure* (``pytest.fail``), never a skip: CI
installs what these need (see ``.ci/run``).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bindir() -> Path:
    candidates = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
        candidates.append(out)
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for directory in candidates:
        if directory and (Path(directory) / "initdb").exists() and (Path(directory) / "pg_ctl").exists():
            return Path(directory)
    pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's 'postgresql' (.ci/run does)")


@contextmanager
def postgresql_server():
    """A throwaway PostgreSQL cluster on 127.0.0.1; yields its admin URL (postgresql://postgres@…/postgres).

    ``initdb`` refuses to run as root, so as root the cluster belongs to the
    ``postgres`` system user and its commands run through ``runuser``.
    """
    bindir = _pg_bindir()
    base = Path(tempfile.mkdtemp(prefix="newscrawl-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = base / "data", free_port()
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"],
                   check=True, capture_output=True)
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def create_database(admin_url: str, name: str) -> str:
    """A fresh database on the server at ``admin_url``; returns its URL."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


@contextmanager
def scrapyd_server(workdir: Path, port: int | None = None, env: dict | None = None):
    """A real scrapyd on 127.0.0.1 with its own config and directories under ``workdir``; yields its URL."""
    import sys
    import time
    import urllib.request

    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        "bind_address = 127.0.0.1\n"
        f"http_port = {port}\n"
        "eggs_dir = eggs\nlogs_dir = logs\ndbs_dir = dbs\nitems_dir =\n"
        "jobs_to_keep = 5\npoll_interval = 0.5\nmax_proc = 2\n"
        "jobstorage = scrapyd.jobstorage.SqliteJobStorage\n"
    )
    log = (workdir / "scrapyd.out").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "scrapyd"], cwd=workdir, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/daemonstatus.json", timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                pytest.fail(f"scrapyd did not start: {(workdir / 'scrapyd.out').read_text()[-2000:]}")
            time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextmanager
def redis_server():
    """A throwaway redis-server on 127.0.0.1 (no persistence); yields its URL."""
    import time

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server not found: install Debian's 'redis-server' (.ci/run does)")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 15
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)
