"""The quality gate: per-parser, per-field accuracy over golden pages, held above recorded floors.

A golden page is a publisher page saved beside the output it must give::

    tests/golden/<parser>/<case>.html     the page
    tests/golden/<parser>/<case>.json     {"url": "<the page's URL>", "expected": {<field>: <value>, ...}}

A case may instead name a page of the crawl fixtures, ``"page": "../site/…html"``
(relative to the golden directory), whose ``{{ORIGIN}}`` becomes the origin
of ``url``: the fixture site's publisher pages are golden pages too.

``<parser>`` is a publisher parser of ``newscrawl.extract.sites`` or ``generic``.
Each page goes through the parser and the item loader, as in a crawl;
only the fields its JSON lists are scored (``null`` means "must be empty").
A field is correct when it equals the expected value, compared after
typographic normalisation (apostrophes, no-break spaces, white space), the
body when its words overlap the expected ones at F1 >= 0.9.

``floors.json`` beside the pages records the minimum accuracy of each
parser's fields. ``python -m newscrawl.ops.evaluate tests/golden`` (``make eval``)
prints the table and exits 1 under a floor; ``--raise-floors`` records the
current accuracy where it beats the floor. Floors never go down by this
tool: lowering one is a deliberate edit of the file, for review.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from scrapy.http import HtmlResponse

from newscrawl.extract.assemble import MaghressPage, PublisherPage, build_article
from newscrawl.extract import sites

SCORED_FIELDS = (
    "title", "lead", "body", "authors", "published_date", "published_at", "language", "image_url", "source_url",
)
BODY_F1 = 0.9
FLOORS_FILE = "floors.json"


@dataclass
class Score:
    correct: int = 0
    total: int = 0
    misses: list[str] = field(default_factory=list)  # case names where the field was wrong

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 1.0


def _norm(value: Any) -> str:
    text = unicodedata.normalize("NFKC", str(value or ""))
    text = re.sub("[\u200b\u200c\u200d\u2060\ufeff\u00ad]", "", text)  # invisible: no reader sees them
    text = text.replace("’", "'").replace("‘", "'").replace("\u00a0", " ").replace("\u202f", " ")
    text = re.sub(r"«\s*", "« ", re.sub(r"\s*»", " »", text))  # « guillemets » spaced or not
    return re.sub(r"\s+", " ", text).strip()


def _instant(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def _words(text: str) -> Counter:
    return Counter(re.findall(r"\w+", _norm(text).lower()))


def body_f1(got: str | None, want: str | None) -> float:
    got_words, want_words = _words(got or ""), _words(want or "")
    if not got_words or not want_words:
        return 1.0 if not got_words and not want_words else 0.0
    common = sum((got_words & want_words).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got_words.values()), common / sum(want_words.values())
    return 2 * precision * recall / (precision + recall)


def correct(field_name: str, got: Any, want: Any) -> bool:
    if field_name == "body":
        want = "\n\n".join(want) if isinstance(want, list) else want
        return body_f1(got, want) >= BODY_F1
    if field_name == "published_at" and got and want:
        return _instant(got) is not None and _instant(got) == _instant(want)  # one instant, any offset
    if field_name == "authors":
        return [_norm(a) for a in got or []] == [_norm(a) for a in want or []]
    return _norm(got) == _norm(want)


def extract(parser: str, html: str, url: str) -> dict[str, Any]:
    """What a crawl would store from this publisher page (no Maghress data to fall back on)."""
    page = HtmlResponse(url=url, body=html.encode("utf-8"), encoding="utf-8")
    publisher = PublisherPage.from_raw(sites.parser(parser).parse_article(page, url), parser, url)
    nothing_from_maghress = MaghressPage(url="https://www.maghress.com/fr/golden/1", maghress_id=None, source="",
                                         source_name="")
    return dict(build_article(nothing_from_maghress, publisher))


def _page(golden: Path, case: Path, spec: dict[str, Any]) -> str:
    if "page" not in spec:
        return case.with_suffix(".html").read_text("utf-8")
    origin = re.match(r"https?://[^/]+", spec["url"]).group(0)
    html = (golden / spec["page"]).read_text("utf-8")
    return html.replace("{{ORIGIN}}", origin).replace("{{TICKER}}", "")


def evaluate(golden: Path) -> dict[str, dict[str, Score]]:
    """``{parser: {field: Score}}`` over every golden page under ``golden``."""
    results: dict[str, dict[str, Score]] = {}
    for case in sorted(golden.glob("*/*.json")):
        parser = case.parent.name
        spec = json.loads(case.read_text("utf-8"))
        got = extract(parser, _page(golden, case, spec), spec["url"])
        scores = results.setdefault(parser, {})
        for name, want in spec["expected"].items():
            if name not in SCORED_FIELDS:
                raise ValueError(f"{case}: {name!r} is not a scored field ({', '.join(SCORED_FIELDS)})")
            score = scores.setdefault(name, Score())
            score.total += 1
            if correct(name, got.get(name), want):
                score.correct += 1
            else:
                score.misses.append(f"{case.stem}: got {got.get(name)!r}")
    return results


def load_floors(golden: Path) -> dict[str, dict[str, float]]:
    path = golden / FLOORS_FILE
    return json.loads(path.read_text("utf-8")) if path.exists() else {}


def below_floors(results: dict[str, dict[str, Score]], floors: dict[str, dict[str, float]]) -> list[str]:
    """Every (parser, field) under its floor, and every floor that no golden page measures any more."""
    problems = []
    for parser, fields in floors.items():
        for name, floor in fields.items():
            score = results.get(parser, {}).get(name)
            if score is None:
                problems.append(f"{parser}.{name}: floor {floor:.2f} but no golden page scores it")
            elif score.accuracy + 1e-9 < floor:
                problems.append(f"{parser}.{name}: {score.accuracy:.2f} < floor {floor:.2f} (wrong on "
                                f"{'; '.join(score.misses)})")
    return problems


def raised_floors(results: dict[str, dict[str, Score]], floors: dict[str, dict[str, float]]) -> dict:
    """The floors, each raised to the accuracy measured now where that is higher (never lowered)."""
    out = {p: dict(f) for p, f in floors.items()}
    for parser, fields in results.items():
        for name, score in fields.items():
            current = out.setdefault(parser, {}).get(name, 0.0)
            # Rounded down: a floor rounded up (0.8889 for 8/9) would fail the very accuracy it records.
            out[parser][name] = max(current, math.floor(score.accuracy * 10_000) / 10_000)
    return {p: dict(sorted(f.items())) for p, f in sorted(out.items())}


def table(results: dict[str, dict[str, Score]], floors: dict[str, dict[str, float]]) -> str:
    names = [f for f in SCORED_FIELDS if any(f in fields for fields in results.values())]
    lines = [f"{'parser':<12}{'pages':>6}  " + "".join(f"{n:>15}" for n in names)]
    for parser, fields in sorted(results.items()):
        pages = max(s.total for s in fields.values())
        cells = []
        for n in names:
            score = fields.get(n)
            if score is None:
                cells.append(f"{'-':>15}")
                continue
            floor = floors.get(parser, {}).get(n)
            mark = "!" if floor is not None and score.accuracy + 1e-9 < floor else " "
            cells.append(f"{score.correct:>4}/{score.total:<2} {score.accuracy:>5.0%}{mark}".rjust(15))
        lines.append(f"{parser:<12}{pages:>6}  " + "".join(cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m newscrawl.ops.evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("golden", type=Path, help="the golden pages' directory (tests/golden)")
    parser.add_argument("--raise-floors", action="store_true", help="record accuracies that beat their floors")
    args = parser.parse_args(argv)
    results = evaluate(args.golden)
    floors = load_floors(args.golden)
    print(table(results, floors))
    if args.raise_floors:
        new = raised_floors(results, floors)
        (args.golden / FLOORS_FILE).write_text(json.dumps(new, indent=2) + "\n", "utf-8")
        print(f"\nfloors written to {args.golden / FLOORS_FILE}")
        floors = new
    problems = below_floors(results, floors)
    for problem in problems:
        print(f"UNDER FLOOR  {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
