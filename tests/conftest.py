"""Shared test fixtures: the fixture site on 127.0.0.1 and a helper that runs real crawls."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from newscrawl.demo import SITE as DEMO_SITE
from newscrawl.demo.server import SiteDirectory
from tests.support.fixtureserver import FixtureServer

REPO = Path(__file__).resolve().parent.parent
SITE = DEMO_SITE  # the fixture copy of both sites: the demo's (package data)
ORIGIN = "http://127.0.0.1:8000"  # for parser tests, which read fixture pages without a server


def fixture_page(path: str, query: str = "", origin: str = ORIGIN) -> HtmlResponse:
    """A fixture page as the crawl would receive it (ticker and origin filled in)."""
    site = SiteDirectory(SITE)
    file = site.file_for(path, query)
    assert file is not None, path
    text = file.read_text("utf-8").replace("{{TICKER}}", site.ticker).replace("{{ORIGIN}}", origin)
    url = origin + path + (f"?{query}" if query else "")
    return HtmlResponse(url=url, body=text.encode("utf-8"), encoding="utf-8")


@pytest.fixture(scope="session")
def site_server():
    with FixtureServer(SITE) as server:
        yield server


@pytest.fixture
def site_copy(tmp_path):
    """A private copy of the fixture site, for tests that change it between crawls."""
    copy = tmp_path / "site"
    shutil.copytree(SITE, copy)
    return copy


@dataclass
class CrawlResult:
    returncode: int
    log: str
    stats: dict
    peak_rss_mb: float | None = None  # the crawl process's own peak RSS, when asked for


# Runs a command in a forked child and writes that child's own rusage: subprocess starts children with vfork,
# and Linux carries the parent's (pytest's) peak RSS into the child's ru_maxrss; this small launcher's is small.
_RUSAGE_LAUNCHER = """
import json, os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({"maxrss_kb": usage.ru_maxrss}, out)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_crawl(start_url: str, database_url: str, workdir: Path, *, csv: Path | None = None,
              args: dict | None = None, settings: dict | None = None, timeout: int = 120,
              spider: str = "lopinion", measure_rss: bool = False) -> CrawlResult:
    """Run the real ``scrapy crawl <spider>`` in a subprocess, as a user would.

    ``start_url`` is the listing for ``lopinion``, the mirror's base URL for ``maghress``.
    """
    stats_file = workdir / f"stats-{len(list(workdir.glob('stats-*.json')))}.json"
    where = f"start_url={start_url}" if spider == "lopinion" else f"base_url={start_url}"
    command = [sys.executable, "-m", "scrapy", "crawl", spider, "-a", where,
               "-s", f"NEWSCRAWL_DATABASE_URL={database_url}", "-s", f"NEWSCRAWL_STATS_FILE={stats_file}",
               "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=INFO"]
    for name, value in (args or {}).items():
        command += ["-a", f"{name}={value}"]
    for name, value in (settings or {}).items():
        command += ["-s", f"{name}={value}"]
    if csv is not None:
        command += ["-O", str(csv)]
    env = {**os.environ, "NEWSCRAWL_DATA_DIR": str(workdir / "data")}
    env.pop("NEWSCRAWL_DATABASE_URL", None)
    usage_file = stats_file.with_suffix(".rusage")
    if measure_rss:
        command = [sys.executable, "-c", _RUSAGE_LAUNCHER, str(usage_file), *command]
    proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    peak = json.loads(usage_file.read_text())["maxrss_kb"] / 1024 if measure_rss and usage_file.exists() else None
    return CrawlResult(proc.returncode, proc.stdout + proc.stderr, stats, peak)


@pytest.fixture(scope="session")
def postgresql_admin_url():
    from .servers import postgresql_server

    with postgresql_server() as url:
        yield url


_db_counter = iter(range(1, 1_000_000))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """The URL of an empty database, once for each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    from .servers import create_database

    admin = request.getfixturevalue("postgresql_admin_url")
    return create_database(admin, f"test_{next(_db_counter)}_{os.getpid()}")
