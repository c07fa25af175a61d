"""French full-text search: the store's index (SQLite FTS5, PostgreSQL tsvector) and `newscrawl search`."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest
from sqlalchemy import text

from newscrawl.store import Store
from newscrawl.store.schema import SCHEMA_VERSION
from newscrawl.store import search
from newscrawl.store.search import QueryError

from .conftest import REPO

DROUGHT = "Les agriculteurs du Souss font face à une sécheresse sans précédent, disent les coopératives."


def article(n: int, title: str, body: str, source: str = "lopinion", day: str = "2025-05-01", **more) -> dict:
    return {"url": f"https://www.maghress.com/fr/{source}/{5010000 + n}", "maghress_id": 5010000 + n,
            "source": source, "title": title, "published_date": day, "body": body, **more}


@pytest.fixture
def archive(database_url):
    store = Store(database_url)
    store.write([
        article(1, "Le Souss face au manque d'eau", DROUGHT),
        article(2, "Budget 2026 adopté", "Le Parlement a adopté le budget. La secheresse pèse sur les recettes.",
                source="lematin", day="2025-06-01"),
        article(3, "Les sécheresses se succèdent", "Un dossier sur l'eau.", source="lematin", day="2025-07-01"),
        article(4, "Précédent historique au Parlement", "Une séance sans débat, une première."),
    ])
    yield store
    store.close()


def urls(hits) -> list[str]:
    return [h.url.rsplit("/", 1)[1] for h in hits]


def test_french_stems_and_accents_find_every_spelling(archive):
    # "sécheresses" finds "sécheresse" (a body), "secheresse" (no accents) and "sécheresses" (a title).
    assert set(urls(archive.search("sécheresses"))) == {"5010001", "5010002", "5010003"}
    assert set(urls(archive.search("SECHERESSE"))) == {"5010001", "5010002", "5010003"}
    assert urls(archive.search("coopérative")) == ["5010001"]  # plural in the text, singular asked


def test_a_title_hit_ranks_above_a_body_only_hit(archive):
    assert urls(archive.search("sécheresse"))[0] == "5010003"  # the only one with it in its title


def test_articles_with_every_word_in_their_title_come_first_then_the_best_of_the_rest(archive, monkeypatch):
    # Article 5 says "eau" and "Souss" many times in its body, article 1 has both words in its title.
    archive.write([article(5, "Rapport annuel", "Souss eau " * 30 + "Le Souss et son eau.")])
    assert urls(archive.search("eau Souss"))[:2] == ["5010001", "5010005"]
    if archive.dialect != "sqlite":
        return  # (PostgreSQL ranks every match)
    # When more articles match than SQLite's second tier ranks, it ranks the most recently stored of them.
    monkeypatch.setattr(search, "RANKED_AT_MOST", 1)
    archive.write([article(6, "Chronique", "De l'eau, peu.")])
    assert urls(archive.search("eau")) == ["5010001", "5010006"]  # (article 5 and 3 were stored earlier)


def test_phrases_exclusions_and_or(archive):
    assert urls(archive.search('"sans précédent"')) == ["5010001"]  # the words apart (5010004) do not count
    assert set(urls(archive.search("précédent"))) == {"5010001", "5010004"}
    assert set(urls(archive.search("sécheresse -Souss"))) == {"5010002", "5010003"}
    assert set(urls(archive.search("budget OR Souss"))) == {"5010001", "5010002"}


def test_filters_by_source_and_dates(archive):
    assert set(urls(archive.search("sécheresse", source="lematin"))) == {"5010002", "5010003"}
    assert urls(archive.search("sécheresse", since=date(2025, 6, 15))) == ["5010003"]
    assert urls(archive.search("sécheresse", until=date(2025, 5, 31))) == ["5010001"]
    assert len(archive.search("sécheresse", limit=1)) == 1


def test_a_query_that_asks_for_nothing_is_refused_plainly(archive):
    for query in ("", "   ", "-Souss", '""', "!!"):
        with pytest.raises(QueryError):
            archive.search(query)
    # What looks like syntax is only words: no SQL, no FTS error.
    assert archive.search('NOT AND ( "* ^') == []


def test_the_snippet_marks_the_words_found(archive):
    (hit,) = archive.search('"sans précédent"')
    assert "[sans] [précédent,]" in hit.snippet
    (hit,) = [h for h in archive.search("sécheresses") if h.url.endswith("5010002")]
    assert "[secheresse]" in hit.snippet


def test_the_index_follows_updates_and_new_rows_and_aliases_come_once(archive):
    # A re-crawl: article 1's headline and body rewritten (same key: its row updated), one article added.
    archive.write([article(1, "Le Souss sous la canicule", "Des températures record cet été dans la plaine."),
                   article(5, "La sécheresse, encore", DROUGHT.replace("Souss", "Haouz") + " Suite.")])
    assert set(urls(archive.search("sécheresse"))) == {"5010002", "5010003", "5010005"}
    assert urls(archive.search("canicule")) == ["5010001"]
    assert archive.search("coopératives Souss") == []
    # The same story under another key is an alias: the search finds the article once.
    copy = article(6, "La sécheresse, encore", DROUGHT.replace("Souss", "Haouz") + " Suite.", day="2025-05-01")
    assert archive.write([copy])["aliased"] == 1
    assert urls(archive.search("Haouz")) == ["5010005"]


def test_a_database_without_the_index_is_indexed_when_opened(database_url):
    """A version 4 database (this one, less its version 5 index) is brought up to date and searches."""
    store = Store(database_url)
    store.write([article(1, "Le Souss face au manque d'eau", DROUGHT)])
    with store.engine.begin() as conn:
        if store.dialect == "sqlite":
            conn.execute(text("DROP TABLE articles_search"))
        else:
            conn.execute(text("ALTER TABLE articles DROP COLUMN search"))
        conn.execute(text("UPDATE newscrawl_schema SET version = 4"))
    store.close()
    store = Store(database_url)
    assert store.schema_version() == SCHEMA_VERSION
    assert urls(store.search("sécheresses")) == ["5010001"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newscrawl.ops.cli", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60)


def test_newscrawl_search_prints_ranked_articles_with_snippets(archive, database_url):
    shown = _cli("search", "sécheresse", "--database", database_url, "--format", "json")
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(shown.stdout)
    assert [r["rank"] for r in rows] == [1, 2, 3] and rows[0]["title"] == "Les sécheresses se succèdent"
    table = _cli("search", "sans précédent", "--database", database_url, "--source", "lopinion")
    assert table.returncode == 0 and "Le Souss face au manque d'eau" in table.stdout
    assert "[sans] [précédent,]" in table.stdout
    none = _cli("search", "introuvable", "--database", database_url)
    assert none.returncode == 0 and none.stdout == "" and "No article matches 'introuvable'" in none.stderr
    bad = _cli("search", "--database", database_url, "--", "-Souss")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    assert "only words to leave out" in bad.stderr
