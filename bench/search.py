"""French full-text search on a generated archive: index build, query latency, write cost, size.

An archive of N articles (``SEARCH_N``, default 100,000) whose titles and bodies
draw from a vocabulary of 50,000 words — the demo site's words first, then
French-looking words made of its syllables — with Zipf's frequencies (as in
real text: a few words everywhere, most words rare). On SQLite:

- the index built for rows already stored (the migration to schema version 5);
- search latency, p50 and p95 over varied queries: one word, two words, a phrase, with words chosen by how
  many articles hold them (the index's own counts): specific words (0.1–1 % of the articles), common words
  (1–10 %), and the most common words (over 20 %: the worst case, every article a match to rank);
- the store's write cost per article with the index kept up to date, against the same writes without it
  (side by side, median of 5 runs of 1,000 articles);
- a crawl's CPU per article with the index and without it (``bench.without_search_index``), side by side on
  one generated mirror of ``SEARCH_CRAWL_N`` articles (default 1,000), alternating, median of 5 each;
- the database's size with the index and without it.

    python -m bench.search          (part of make bench; SEARCH_N=100000)
"""

from __future__ import annotations

import html
import itertools
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import text

REPO = Path(__file__).resolve().parent.parent
SITE = REPO / "newscrawl" / "demo" / "site"


def vocabulary(size: int = 50_000) -> list[str]:
    """Words of the demo site's pages, most frequent first, then made-up words of their syllables, to ``size``."""
    counts: dict[str, int] = {}
    for page in SITE.rglob("*.html"):
        words = re.findall(r"[^\W\d_]{3,}", html.unescape(re.sub(r"<[^>]+>", " ", page.read_text("utf-8"))).lower())
        for word in words:
            counts[word] = counts.get(word, 0) + 1
    words = sorted(counts, key=counts.get, reverse=True)
    syllables = sorted({w[i : i + 3] for w in words for i in range(0, len(w) - 2, 3)})
    rng = random.Random(3)
    seen = set(words)
    while len(words) < size:
        made = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if made not in seen:
            seen.add(made)
            words.append(made)
    return words


def articles(n: int, words: list[str], start: int = 0, seed: int = 5):
    rng = random.Random(seed + start)
    # Cumulative once: random.choices would add up the 50,000 weights again at every call.
    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(words))))
    sources = ("lopinion", "lematin", "aujourdhui", "libe", "leconomiste")
    for i in range(start, start + n):
        body = []
        for _ in range(5):
            body.append(" ".join(rng.choices(words, cum_weights=cumulative, k=60)).capitalize() + ".")
        yield {"url": f"https://www.maghress.com/fr/{sources[i % 5]}/{1_000_000 + i}", "maghress_id": 1_000_000 + i,
               "source": sources[i % 5], "title": " ".join(rng.choices(words, cum_weights=cumulative, k=8)).capitalize(),
               "published_date": f"20{15 + i % 11}-{1 + i % 12:02d}-{1 + i % 28:02d}", "body": "\n\n".join(body)}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(n: int) -> dict:
    from newscrawl.store import Store
    from newscrawl.store.search import create_search_index

    words = vocabulary()
    work = Path(tempfile.mkdtemp(prefix="bench-search-"))
    url = f"sqlite:///{work / 'archive.db'}"
    store = Store(url)
    # The rows, written straight into the table (the store's own write would index them as it goes): then the
    # index built for them, as the migration to version 5 builds it.
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE articles_search"))
        batch = []
        for item in articles(n, words):
            batch.append({**item, "authors": "[]", "first_seen": "2026-01-01", "last_seen": "2026-01-01",
                          "published_date": date.fromisoformat(item["published_date"]),
                          "article_key": f"{item['source']}/{item['maghress_id']}"})
            if len(batch) == 5000:
                _insert(conn, batch)
                batch = []
        if batch:
            _insert(conn, batch)
    size_without = _size(store, work)
    started = time.perf_counter()
    with store.engine.begin() as conn:
        create_search_index(conn)
    build = time.perf_counter() - started
    size_with = _size(store, work)

    # Latency: queries of each kind with words of each band of document frequency (the index's own counts).
    with store.engine.connect() as conn:
        conn.exec_driver_sql("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, articles_search, 'row')")
        df = conn.exec_driver_sql("SELECT term, doc FROM temp.vocab").all()
    bands = {"specific (0.1–1 %)": (0.001, 0.01), "common (1–10 %)": (0.01, 0.10), "most common (> 20 %)": (0.20, 1.01)}
    rng = random.Random(11)
    queries: dict[tuple[str, str], list[str]] = {}
    for band, (low, high) in bands.items():
        pool = sorted(term for term, docs in df if low * n <= docs < high * n)
        if pool:
            queries[(band, "one word")] = [rng.choice(pool) for _ in range(60)]
    # Words that go together, as people search for them: two words, and a phrase, of a stored title.
    with store.engine.connect() as conn:
        titles = [t.split() for (t,) in conn.exec_driver_sql(
            "SELECT title FROM articles WHERE id IN (SELECT abs(random()) % (SELECT max(id) FROM articles) + 1 "
            "FROM articles LIMIT 120)").all()]
    pairs = [(words_[i], words_[i + 1]) for words_ in titles[:60] for i in [rng.randrange(len(words_) - 1)]]
    queries[("a title's", "two words")] = [f"{a} {b}" for a, b in pairs]
    queries[("a title's", "phrase")] = [f'"{a} {b}"' for a, b in pairs]
    latency = {}
    for (band, kind), texts in queries.items():
        times, found = [], []
        for query in texts:
            t = time.perf_counter()
            found.append(len(store.search(query, limit=20)))
            times.append((time.perf_counter() - t) * 1000)
        latency[(band, kind)] = (statistics.median(times), _percentile(times, 0.95), statistics.mean(found))

    # The write: 1,000 new articles at a time, with the index kept up to date and without (side by side).
    per_article = {"on": [], "off": []}
    keep = type(store).index_article
    for round_ in range(5):
        for mode in ("on", "off"):
            if mode == "off":
                type(store).index_article = lambda self, conn, article_id, row=None: None
            batch = list(articles(1000, words, start=n + 10_000 * (2 * round_ + (mode == "off"))))
            t = time.process_time()
            for chunk in range(0, 1000, 100):
                store.write(batch[chunk : chunk + 100])
            per_article[mode].append((time.process_time() - t) * 1000 / 1000)
            type(store).index_article = keep
    store.close()
    shutil.rmtree(work, ignore_errors=True)  # (600 MB)
    return {"n": n, "build": build, "latency": latency, "size_with": size_with, "size_without": size_without,
            "write_on": statistics.median(per_article["on"]), "write_off": statistics.median(per_article["off"])}


def crawl_cost(n: int, repeats: int = 5) -> dict[str, float]:
    """CPU per article of `scrapy crawl lopinion` with the search index and without, alternating."""
    from bench.crawl import PYTHON, ours
    from tests.support.fixtureserver import FixtureServer
    from tests.support.mirror import generate

    work = Path(tempfile.mkdtemp(prefix="bench-search-crawl-"))
    generate(work / "mirror", n)
    cpu: dict[str, list[float]] = {"on": [], "off": []}

    def without(command: list[str]) -> list[str]:
        return [PYTHON, "-m", "bench.without_search_index", *command[3:]]  # (command: python -m scrapy …)

    with FixtureServer(work / "mirror", cache=True) as server:
        for round_ in range(repeats):
            for mode in (("on", "off") if round_ % 2 == 0 else ("off", "on")):
                db = work / f"{mode}-{round_}.db"
                result = ours(server.origin, work, f"{mode}-{round_}", server, db,
                              wrap=without if mode == "off" else (lambda command: command))
                stored = result["stats"].get("newscrawl/store/rows_total", 0)
                assert stored == n, (mode, stored)
                cpu[mode].append(result["cpu"] * 1000 / n)
    shutil.rmtree(work, ignore_errors=True)
    return {mode: statistics.median(values) for mode, values in cpu.items()}


def _insert(conn, rows: list[dict]) -> None:
    from newscrawl.store.schema import articles

    conn.execute(articles.insert(), rows)


def _size(store, work: Path) -> int:
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(p.stat().st_size for p in work.glob("archive.db*"))


def main() -> None:
    n = int(os.environ.get("SEARCH_N", "100000"))
    crawl_n = int(os.environ.get("SEARCH_CRAWL_N", "1000"))
    result = run(n)
    crawl = crawl_cost(crawl_n)
    from newscrawl.store.search import RANKED_AT_MOST

    rows = "\n".join(f"| {band} | {kind} | {p50:.1f} | {p95:.1f} | {found:.1f} |"
                     for (band, kind), (p50, p95, found) in result["latency"].items())
    extra = result["write_on"] - result["write_off"]
    markdown = f"""## Search (bench.search)

{result['n']:,} generated articles (5 paragraphs of 60 words, 8-word titles; 50,000 words, the demo site's
and made-up ones, drawn with Zipf's frequencies), SQLite, `Store.search` (20 results with their snippets).
Ranking in two tiers: the articles with every word in their title, then the others, among the
{RANKED_AT_MOST:,} most recently stored matches when more match (docs/usage.md). Target: p95 < 50 ms.

| words | query | p50 ms | p95 ms | articles found (of at most 20) |
| --- | --- | --- | --- | --- |
{rows}

- Index build for the rows already stored (the migration to schema version 5): {result['build']:.1f} s
  ({result['build'] / result['n'] * 1e6:.0f} µs per article).
- The store's write per article, CPU, median of 5 × 1,000 articles: {result['write_on']:.2f} ms with the
  index kept up to date, {result['write_off']:.2f} ms without (+{extra:.2f} ms).
- A crawl's CPU per article (`scrapy crawl lopinion`, {crawl_n:,}-article mirror, alternating, median of 5):
  {crawl['on']:.2f} ms with the index, {crawl['off']:.2f} ms without: {crawl['on'] / crawl['off'] - 1:+.1%}
  (target: under +10 %).
- Database size: {result['size_with'] / 2**20:.0f} MiB with the index, {result['size_without'] / 2**20:.0f} MiB
  without ({result['size_with'] / result['size_without'] - 1:+.0%}).
"""
    print(markdown)
    if "--no-write" not in sys.argv:
        from bench.report import write_section

        write_section("search", markdown)


if __name__ == "__main__":
    main()
