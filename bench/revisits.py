"""Revisits: what they cost a crawl run on a 10,000-article archive.

A generated mirror of ``REVISIT_N`` articles (default 10,000), 15 a day up to today (as L'Opinion's section
publishes), crawled once into a fresh archive with the default schedule (``NEWSCRAWL_REVISIT``). Then:

- **requests per run**: the archive as it is an hour later and a day later (the schedule's due times moved back
  by that much: a crawl run hourly, or daily), one run each: every request the mirror received (robots.txt, the
  first listing page, the revisits), and the share of revisits answered 304;
- **CPU per revisit against CPU per new article**: every stored article made due at once (limit raised), on a
  mirror where a third of the publisher pages send no validators and a tenth changed since the first crawl;
  the CPU of that run less the CPU of a run with nothing to do (start-up, robots.txt, a listing page), per
  revisit, against the first crawl's CPU less the same, per new article. Median of 3 each.

The mirror answers as web servers do: an ``ETag`` per page, 304 to a request that names it.

    python -m bench.revisits          (part of make bench; REVISIT_N=10000)
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parent.parent
REPEATS = 3


def _shift_due(db: Path, hours: float | None) -> int:
    """The archive as it is ``hours`` later (the due times moved back); ``None``: every article due now.
    Returns the revisits then due."""
    engine = create_engine(f"sqlite:///{db}")
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        if hours is None:
            conn.execute(text("UPDATE article_revisits SET next_due = '2000-01-01T00:00:00+00:00'"))
        else:
            rows = conn.execute(text("SELECT article_id, next_due FROM article_revisits WHERE next_due IS NOT NULL")).all()
            conn.execute(text("UPDATE article_revisits SET next_due = :due WHERE article_id = :id"), [
                {"id": row_id, "due": (datetime.fromisoformat(due) - timedelta(hours=hours)).isoformat()}
                for row_id, due in rows] or [{"id": -1, "due": None}])
        due = conn.execute(text("SELECT count(*) FROM article_revisits WHERE next_due <= :now"),
                           {"now": now.replace(microsecond=0).isoformat()}).scalar_one()
    engine.dispose()
    return due


def run(n: int) -> dict:
    from bench.crawl import ours
    from tests.support.fixtureserver import FixtureServer
    from tests.support.mirror import generate

    work = Path(tempfile.mkdtemp(prefix="bench-revisits-"))
    mirror = work / "mirror"
    generate(mirror, n, today=date.today(), per_day=15)
    publisher_pages = sorted(p.name for p in mirror.glob("Article-*.html"))
    result: dict = {"n": n}
    with FixtureServer(mirror, cache=True) as server:
        archive = work / "archive.db"
        first = ours(server.origin, work, "first", server, archive)
        stored = first["stats"].get("newscrawl/store/rows_total", 0)
        assert stored == n, stored
        result["first_requests"] = len(server.requests)
        scheduled = _shift_due(archive, 0)  # (nothing moved: what is due straight after)
        engine = create_engine(f"sqlite:///{archive}")
        with engine.connect() as conn:
            result["scheduled"] = conn.execute(text(
                "SELECT count(*) FROM article_revisits WHERE next_due IS NOT NULL")).scalar_one()
        engine.dispose()
        assert scheduled == 0, scheduled

        # Requests per run, an hour later and a day later.
        for label, hours in (("an hour later", 1), ("a day later", 24)):
            copy = work / f"later-{hours}.db"
            shutil.copy(archive, copy)
            due = _shift_due(copy, hours)
            later = ours(server.origin, work, f"later-{hours}", server, copy)
            stats = later["stats"]
            result[label] = {"due": due, "requests": len(server.requests),
                             "made": stats.get("newscrawl/revisit/made/lopinion", 0),
                             "not_modified": stats.get("newscrawl/revisit/not_modified/lopinion", 0)}

        # CPU: a third of the publisher pages without validators, a tenth edited; every article due at once.
        routes = {f"/{name}": {"validators": False} for name in publisher_pages[::3]}
        (mirror / "_routes.json").write_text(json.dumps(routes))
        server.site.routes = routes
        for name in publisher_pages[1::10]:
            page = mirror / name
            page.write_text(page.read_text("utf-8").replace("</h1>", " (mis à jour)</h1>", 1), "utf-8")
        server.cache.clear()
        per_revisit, per_article, idle_cpu, revisit_stats = [], [], [], {}
        for round_ in range(REPEATS):
            copy = work / f"all-{round_}.db"
            shutil.copy(archive, copy)
            due = _shift_due(copy, None)
            every = ours(server.origin, work, f"all-{round_}", server, copy, "-s", f"NEWSCRAWL_REVISIT_LIMIT={n}")
            idle = ours(server.origin, work, f"idle-{round_}", server, copy)
            assert idle["stats"].get("newscrawl/revisit/due") is None
            made = every["stats"].get("newscrawl/revisit/made/lopinion", 0)
            assert made == due == n, (made, due)
            idle_cpu.append(idle["cpu"])
            per_revisit.append((every["cpu"] - idle["cpu"]) * 1000 / made)
            per_article.append((first["cpu"] - idle["cpu"]) * 1000 / n)
            revisit_stats = every["stats"]
    result.update(
        revisit_ms=statistics.median(per_revisit), article_ms=statistics.median(per_article),
        idle_cpu=statistics.median(idle_cpu), first_cpu=first["cpu"],
        all_not_modified=revisit_stats.get("newscrawl/revisit/not_modified/lopinion", 0),
        all_versions=revisit_stats.get("newscrawl/store/new_version", 0),
    )
    shutil.rmtree(work, ignore_errors=True)
    return result


def report(r: dict) -> str:
    n = r["n"]
    rows = []
    for label in ("an hour later", "a day later"):
        x = r[label]
        share = f"{x['not_modified'] / x['made']:.0%}" if x["made"] else "–"
        rows.append(f"| {label} | {x['due']:,} | {x['requests']:,} | {x['made']:,} | {x['not_modified']:,} | {share} |")
    ratio = r["revisit_ms"] / r["article_ms"] if r["article_ms"] else float("nan")
    return f"""## Revisits (bench.revisits)

A generated archive of {n:,} articles, 15 a day up to today, crawled once with the default schedule
(`1h 6h 24h 3d 7d`): {r['first_requests']:,} requests; {r['scheduled']:,} articles (the last week's) then have a
revisit ahead, the others none. The mirror sends an `ETag` per page and answers 304 to a request that names it.

| the archive | revisits due | requests in the run | revisits made | answered 304 | share 304 |
| --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}

(Each run: robots.txt, the first listing page, the revisits. A site that sends no validators answers every
revisit in full; the content hash then decides, at the CPU cost below.)

CPU, every article of the archive revisited at once (a third of the publisher pages without validators, a tenth
edited since: {r['all_not_modified']:,} answered 304, {r['all_versions']:,} new versions), less a run with nothing to
do ({r['idle_cpu']:.2f} s), median of {REPEATS}:

- per revisit: **{r['revisit_ms']:.2f} ms**; per new article (the first crawl): **{r['article_ms']:.2f} ms**
  — a revisit costs {ratio:.2f} of a new article.
"""


def main() -> None:
    n = int(os.environ.get("REVISIT_N", "10000"))
    result = run(n)
    markdown = report(result)
    print(markdown)
    if "--no-write" not in sys.argv:
        from bench.report import write_section

        write_section("revisits", markdown)


if __name__ == "__main__":
    main()
