"""Where the CPU of a crawl goes, project minus Scrapy's floor (``make bench PROFILE=1``).

Both spiders run under py-spy (a sampling profiler: every stack, imports and
the event loop included, without cProfile's per-call overhead), idle threads
left out. Each sample is charged to the function it is in (own time) and to
every function on its stack (inclusive time); the table lists, per function,
the project's seconds minus the bare spider's, per request, largest first.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections import Counter
from pathlib import Path

RATE = 200  # samples per second
_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^:()]*)(?::\d+)?\)$")


def py_spy() -> str:
    """py-spy (the ``bench`` extra) beside this Python, else on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise SystemExit("PROFILE=1 needs py-spy: pip install -e '.[bench]'")
    return found


def record(command: list[str], out: Path) -> list[str]:
    """``command`` wrapped so that py-spy records it into ``out`` (collapsed stacks, one line per stack)."""
    return [py_spy(), "record", "--format", "raw", "--rate", str(RATE), "--output", str(out),
            "--nonblocking", "--", *command]


_WHERE = re.compile(r"^.*?(?:site-packages/|/lib/python3\.\d+/|/(?=newscrawl/)|/(?=bench/))")


def _name(frame: str) -> str:
    """``function (path/to/module.py:12)`` -> ``package/module.py:function`` (lines merged)."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    return f"{_WHERE.sub('', match['file'])}:{match['function']}"


def load(path: Path) -> tuple[Counter, Counter, int]:
    """Own and inclusive samples per function, and the number of samples, from py-spy's raw output."""
    own: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    for line in path.read_text("utf-8", "replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_name(f) for f in stack.split(";")]
        if frames and frames[0].startswith("process "):
            frames = frames[1:]  # py-spy's first frame names the process (pid)
        frames = [f for f in frames if not f.startswith("thread ")]
        if not frames:
            continue
        total += n
        own[frames[-1]] += n
        for name in set(frames):
            inclusive[name] += n
    return own, inclusive, total


# The stages of a crawl, by the function that runs each (inclusive time: with all it calls).
STAGES = (
    ("imports (first use of a module)", "<frozen importlib._bootstrap>:_call_with_frames_removed"),
    ("listing pages (`parse_listing`)", "newscrawl/spiders/maghress.py:MaghressSpider.parse_listing"),
    ("Maghress article pages (`parse_article`)", "newscrawl/spiders/maghress.py:MaghressSpider.parse_article"),
    ("publisher pages and item assembly (`parse_publisher`)", "newscrawl/spiders/maghress.py:MaghressSpider.parse_publisher"),
    ("… of which the item loader (`build_article`)", "newscrawl/extract/assemble.py:build_article"),
    ("deduplication (`DeduplicatePipeline`)", "newscrawl/crawl/pipelines.py:DeduplicatePipeline.process_item"),
    ("… of which MinHash signatures", "newscrawl/identity/keys.py:StoryKeys.signature"),
    ("storage (`StorePipeline`, batched writes)", "newscrawl/crawl/pipelines.py:StorePipeline.process_item"),
    ("CSV feed", "scrapy/exporters.py:CsvItemExporter.export_item"),
)


def stages(project: Path, bare: Path, project_requests: int, bare_requests: int) -> str:
    """Markdown: inclusive CPU per request of each stage, project minus bare (imports exist in both)."""
    _, p_inc, _ = load(project)
    _, b_inc, _ = load(bare)
    per = 1e6 / RATE
    lines = ["| stage (inclusive) | µs/request, project − bare |", "| --- | --- |"]
    for label, name in STAGES:
        value = p_inc[name] / project_requests - b_inc[name] / bare_requests
        lines.append(f"| {label} | {value * per:+.0f} |")
    return "\n".join(lines)


def difference(project: Path, bare: Path, project_requests: int, bare_requests: int, top: int = 30) -> str:
    """Markdown: per function, the project's own and inclusive CPU minus the bare spider's, in µs per request."""
    p_own, p_inc, p_total = load(project)
    b_own, b_inc, b_total = load(bare)
    per = 1e6 / RATE  # µs per sample
    rows = []
    for name in set(p_own) | set(b_own):
        own = p_own[name] / project_requests - b_own[name] / bare_requests
        inc = p_inc[name] / project_requests - b_inc[name] / bare_requests
        rows.append((own * per, inc * per, name))
    rows.sort(reverse=True)
    lines = [
        f"Samples: project {p_total} ({p_total / RATE:.1f} s), bare {b_total} ({b_total / RATE:.1f} s); "
        f"per request: project {p_total * per / project_requests:.0f} µs, bare {b_total * per / bare_requests:.0f} µs.",
        "",
        "| function (own time, largest differences) | own µs/request, project − bare | inclusive µs/request |",
        "| --- | --- | --- |",
    ]
    lines += [f"| `{name}` | {own:+.0f} | {inc:+.0f} |" for own, inc, name in rows[:top]]
    return "\n".join(lines)
