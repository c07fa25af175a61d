"""Write a benchmark's results into its own section of docs/performance.md, replacing the previous run's."""

from __future__ import annotations

import platform
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

PERFORMANCE_MD = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return f"{cpu or platform.processor()}, {cores} cores, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def versions(*packages: str) -> str:
    from importlib.metadata import version

    return ", ".join(f"{p} {version(p)}" for p in packages)


def write_section(name: str, markdown: str) -> None:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    heading, _, rest = markdown.strip().partition("\n")
    body = (f"<!-- bench:{name}:start -->\n{heading}\n\n_Measured {stamp} on {machine()}._\n"
            f"{rest}\n<!-- bench:{name}:end -->")
    text = PERFORMANCE_MD.read_text("utf-8") if PERFORMANCE_MD.exists() else "# Performance\n"
    pattern = re.compile(rf"<!-- bench:{name}:start -->.*?<!-- bench:{name}:end -->", re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: body, text)
    else:
        text = text.rstrip() + "\n\n" + body + "\n"
    PERFORMANCE_MD.write_text(text, "utf-8")
