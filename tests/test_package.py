"""The package as users get it: a wheel without test scaffolding, whose demo runs outside any checkout."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

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
    # A fresh virtual environment with the wheel installed, as a user's; the dependencies (not this checkout)
    # come from the test environment through a path line (its .pth files, the editable install's among them,
    # are not run).
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    fresh_site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                capture_output=True, text=True, check=True).stdout.strip()
    dependencies = sysconfig.get_paths()["purelib"]
    (Path(fresh_site) / "dependencies.pth").write_text(dependencies + "\n")
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
                                str(wheel)], capture_output=True, text=True, timeout=240)
    assert installed.returncode == 0, installed.stderr[-2000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SCRAPY_SETTINGS_MODULE", "VIRTUAL_ENV")}
    env["NEWSCRAWL_DATA_DIR"] = str(elsewhere / "data")
    where = subprocess.run([str(python), "-c", "import newscrawl.demo; print(newscrawl.demo.SITE)"], cwd=elsewhere,
                           env=env, capture_output=True, text=True, timeout=60)
    assert where.stdout.strip().startswith(fresh_site), where.stdout + where.stderr  # the package's, not the checkout's
    result = subprocess.run([str(venv / "bin" / "newscrawl"), "demo", "--dir", str(elsewhere / "demo")],
                            cwd=elsewhere, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "Articles stored: 19" in result.stdout
    with (elsewhere / "demo" / "exports" / "maghress-demo.csv").open(encoding="utf-8") as f:
        assert len(list(csv.DictReader(f))) == 19
