"""A fresh machine sets itself up: the Debian packages `make test` needs, installed or named in one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .conftest import REPO

SCRIPT = REPO / ".ci" / "system-packages"


def _run(path: str, as_nobody: bool) -> subprocess.CompletedProcess:
    if not (as_nobody and os.geteuid() == 0):
        env = {"PATH": path, "NEWSCRAWL_PG_BINDIR_GLOB": "/nonexistent/*/bin"} if as_nobody else dict(os.environ)
        return subprocess.run(["/bin/bash", str(SCRIPT)], capture_output=True, text=True, timeout=60, env=env)
    # nobody may not read a checkout in a private directory (a root user's home is 0700): it runs a copy of
    # the script from a directory of its own, as a user running it from their checkout would.
    with tempfile.TemporaryDirectory(dir="/tmp") as place:  # (not $TMPDIR: it may be private too)
        os.chmod(place, 0o755)
        script = Path(place) / "system-packages"
        shutil.copyfile(SCRIPT, script)
        script.chmod(0o755)
        command = [shutil.which("runuser") or "/usr/sbin/runuser", "-u", "nobody", "--", "/bin/bash", str(script)]
        env = {"PATH": path, "NEWSCRAWL_PG_BINDIR_GLOB": "/nonexistent/*/bin"}
        return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, cwd=place)


def test_without_the_packages_and_without_root_it_stops_with_the_exact_command():
    result = _run("/nonexistent", as_nobody=True)  # nothing on PATH: every package is missing
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "make test needs Debian packages that are missing; install them with: "
        "sudo apt-get install -y postgresql chromium redis-server"]


def test_with_the_packages_it_does_nothing():
    result = _run(os.environ["PATH"], as_nobody=False)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
