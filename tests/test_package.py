"""The package as users get it: a wheel without test scaffolding, whose demo runs outside any checkout."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import zipfile

import pytest

from .conftest import REPO

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                             "-w", str(out), str(REPO)], capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    (path,) = out.glob("newscrawl-*.whl")
    return path


def test_the_wheel_holds_the_package_and_the_demo_site_and_no_test_scaffolding(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "newscrawl/demo/site/fr/lopinion/index.html" in names and "newscrawl/demo/site/_routes.json" in names
    assert "newscrawl/spiders/maghress.py" in names and "newscrawl/demo/server.py" in names
    assert not [n for n in names if n.startswith("tests/") or "fixtureserver" in n or n.endswith("/mirror.py")]


def test_the_demo_runs_from_the_installed_package_outside_any_checkout(wheel, tmp_path):
    installed = tmp_path / "installed"
    zipfile.ZipFile(wheel).extractall(installed)  # what pip puts in site-packages
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # The package from the wheel first on the path (before this checkout's editable install); no scrapy.cfg here.
    env = {**os.environ, "PYTHONPATH": str(installed), "NEWSCRAWL_DATA_DIR": str(elsewhere / "data")}
    where = subprocess.run([sys.executable, "-c", "import newscrawl.demo; print(newscrawl.demo.SITE)"], cwd=elsewhere,
                           env=env, capture_output=True, text=True, timeout=60).stdout.strip()
    assert where.startswith(str(installed)), where  # the demo's site comes from the package, not the checkout
    result = subprocess.run([sys.executable, "-m", "newscrawl.ops.cli", "demo", "--dir", str(elsewhere / "demo")],
                            cwd=elsewhere, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "Articles stored: 19" in result.stdout
    with (elsewhere / "demo" / "exports" / "maghress-demo.csv").open(encoding="utf-8") as f:
        assert len(list(csv.DictReader(f))) == 19
