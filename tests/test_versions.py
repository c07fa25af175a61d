"""The dependencies whose private APIs the project uses: installed within the bounds pyproject.toml declares,
and still offering what the project reaches into. An upgrade past a bound is a deliberate, tested change."""

from __future__ import annotations

import tomllib
from importlib.metadata import version

import pytest
from packaging.requirements import Requirement

from .conftest import REPO

BOUNDED = ("scrapy", "scrapy-playwright", "scrapy-redis")


def _requirements() -> dict[str, Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    return {Requirement(r).name: Requirement(r) for r in project["dependencies"]}


@pytest.mark.parametrize("name", BOUNDED)
def test_bounded_dependencies_have_an_upper_bound_that_the_installed_version_meets(name):
    requirement = _requirements()[name]
    assert any(spec.operator in ("<", "<=", "==", "~=") for spec in requirement.specifier), requirement
    assert requirement.specifier.contains(version(name)), f"{name} {version(name)} is outside {requirement}"


def test_the_private_apis_the_project_reaches_into_are_still_there():
    from scrapy.commands.crawl import Command as ScrapyCrawlCommand
    from scrapy.core.engine import ExecutionEngine
    from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler
    from scrapy_redis.scheduler import Scheduler

    # newscrawl/crawl/playwright_handler.py: started on demand, contexts retired by name.
    assert callable(getattr(ScrapyPlaywrightDownloadHandler, "_launch"))
    assert callable(getattr(ScrapyPlaywrightDownloadHandler, "_maybe_launch_in_thread"))
    # newscrawl/crawl/distributed.py: a shorter engine heartbeat for idle workers; the scheduler's queue and server.
    assert hasattr(ExecutionEngine, "_SLOT_HEARTBEAT_INTERVAL")
    # newscrawl/commands/crawl.py: the crawler the command creates, whose stats decide the exit status.
    assert callable(getattr(ScrapyCrawlCommand, "_create_crawler"))
    assert callable(getattr(Scheduler, "open")) and callable(getattr(Scheduler, "enqueue_request"))
