"""Cost of parse_date: fast path, dateparser fallback, the whole test table, and start-up.

    python -m bench.dates        (part of `make bench`)
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def per_call_us(fn, arg, now, repeat: int = 7, number: int = 300) -> float:
    """Median over ``repeat`` rounds of the mean cost of one call, in µs."""
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn(arg, now=now)
        rounds.append((time.perf_counter() - start) / number * 1e6)
    return statistics.median(rounds)


def startup() -> dict[str, float]:
    code = (
        "import time, sys; t = time.perf_counter(); import newscrawl.spiders.lopinion, newscrawl.crawl.pipelines; "
        "print(time.perf_counter() - t, 'dateparser' in sys.modules, 'py3langid' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    first_fallback = subprocess.run(
        [sys.executable, "-c", "import time; from newscrawl.normalize import parse_date; t = time.perf_counter(); "
         "parse_date('9-déc-2025'); print(time.perf_counter() - t)"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=REPO, capture_output=True, check=True)
    scrapy_list = time.perf_counter() - start
    return {
        "import_s": float(out[0]),
        "dateparser_loaded": out[1] == "True",
        "langid_loaded": out[2] == "True",
        "first_fallback_s": float(first_fallback),
        "scrapy_list_s": scrapy_list,
    }


def main() -> None:
    sys.path.insert(0, str(REPO))
    import newscrawl.normalize.dates as normalize
    from tests.test_dates import CASES, NOW

    texts = [text for text, _ in CASES]
    # Which strings the fast path settles, and which reach dateparser itself.
    reached: list[str] = []
    real_parser = normalize._fallback_parser()

    class Spy:
        def get_date_data(self, text):
            reached.append(text)
            return real_parser.get_date_data(text)

    spy = Spy()
    original = normalize._fallback_parser
    normalize._fallback_parser = lambda: spy
    fallback_texts = set()
    for text in texts:
        reached.clear()
        normalize.parse_date(text, now=NOW)
        if reached:
            fallback_texts.add(text)
    normalize._fallback_parser = original
    parse_date = normalize.parse_date
    fast = [per_call_us(parse_date, t, NOW) for t in texts if t not in fallback_texts]
    slow = [per_call_us(parse_date, t, NOW, repeat=5, number=20) for t in fallback_texts]
    for t in texts:  # warm-up
        parse_date(t, now=NOW)
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(10):
            for t in texts:
                parse_date(t, now=NOW)
        rounds.append((time.perf_counter() - start) / (10 * len(texts)) * 1e6)
    table = statistics.median(rounds)
    boot = startup()

    from bench.report import versions, write_section

    rows = [
        ("fast path, median per call", f"{statistics.median(fast):.1f} µs", "< 20 µs", f"{len(fast)} strings"),
        ("fast path, slowest string", f"{max(fast):.1f} µs", "", ""),
        ("dateparser fallback, median per call", f"{statistics.median(slow):.0f} µs", "", f"{len(slow)} strings"),
        ("whole table, mean per call after warm-up", f"{table:.1f} µs", "< 100 µs", f"{len(texts)} strings"),
        ("import of spider + pipelines", f"{boot['import_s'] * 1000:.0f} ms",
         "", f"dateparser loaded: {boot['dateparser_loaded']}, py3langid loaded: {boot['langid_loaded']}"),
        ("first dateparser call (import + locales)", f"{boot['first_fallback_s'] * 1000:.0f} ms", "", "paid once, only if needed"),
        ("`scrapy list`, wall", f"{boot['scrapy_list_s']:.2f} s", "", ""),
    ]
    table_md = "| measure | result | target | note |\n| --- | --- | --- | --- |\n" + "\n".join(
        f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows
    )
    markdown = (
        "## Dates: `parse_date`\n\n"
        f"{versions('dateparser')}. The table is `tests/test_dates.py` ({len(texts)} strings); "
        f"{len(fallback_texts)} of them reach the dateparser fallback (forms the sites do not use, "
        "or headlines with numbers that turn out to hold no date); the others, including texts with no date, "
        "never reach it.\n\n" + table_md
    )
    write_section("dates", markdown)
    print(markdown)


if __name__ == "__main__":
    main()
