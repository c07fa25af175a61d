"""Edit history: an article whose text changes keeps its earlier versions (store/versions.py)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from newscrawl.ops.find import word_diff
from newscrawl.store import Store
from newscrawl.store.schema import SCHEMA_VERSION

BODY = "Le Parlement a adopté le budget.\n\nLe texte passe au Sénat."


def article(**changes) -> dict:
    return {"url": "https://www.maghress.com/fr/lopinion/5010001", "maghress_id": 5010001, "source": "lopinion",
            "title": "Le budget adopté", "published_date": "2025-12-09", "body": BODY, "authors": ["A. Naji"],
            **changes}


@pytest.fixture
def store(database_url):
    store = Store(database_url)
    yield store
    store.close()


def versions(store) -> list[tuple[int, str, str]]:
    return [(v["version_number"], v["title"], v["body"]) for v in store.history("lopinion/5010001")]


def test_a_changed_article_keeps_each_earlier_version(store):
    rows = [article()]
    store.write(rows)
    assert rows[0]["version"] == 1 and not rows[0]["new_version"]
    # Whitespace only, or a field that is not its text (the image): the same version, updated in place.
    store.write([article(body=BODY.replace(" le budget", "  le\nbudget"), image_url="https://example.org/i.jpg")])
    assert [v[0] for v in versions(store)] == [1]
    # A headline rewritten, a paragraph added, a correction appended, a date fixed: one version each.
    edits = [article(title="Le budget 2026 adopté"),
             article(title="Le budget 2026 adopté", body=BODY + "\n\nLes députés ont voté à 165 voix."),
             article(title="Le budget 2026 adopté", body=BODY + "\n\nLes députés ont voté à 165 voix.\n\n"
                     "Rectificatif : 166 voix, et non 165."),
             article(title="Le budget 2026 adopté", body=BODY + "\n\nLes députés ont voté à 165 voix.\n\n"
                     "Rectificatif : 166 voix, et non 165.", published_date="2025-12-10")]
    for n, edit in enumerate(edits, start=2):
        rows = [edit]
        assert store.write(rows) == {"inserted": 0, "updated": 1, "aliased": 0}
        assert rows[0]["version"] == n and rows[0]["new_version"] and rows[0]["changed_at"]
    history = store.history("lopinion/5010001")
    assert [v["version_number"] for v in history] == [1, 2, 3, 4, 5]
    assert history[0]["title"] == "Le budget adopté" and history[1]["title"] == "Le budget 2026 adopté"
    assert history[2]["body"].endswith("165 voix.") and history[3]["body"].endswith("et non 165.")
    assert history[3]["published_date"] == "2025-12-09" and history[4]["published_date"] == "2025-12-10"
    assert history[0]["authors"] == ["A. Naji"]
    assert [v["stored_at"] for v in history] == sorted(v["stored_at"] for v in history)
    assert store.count() == 1  # versions are not articles
    # Exports: every article with its version; --changed-since only those that changed.
    (row,) = store.iter_articles()
    assert row["version"] == 5 and row["changed_at"] == history[-1]["stored_at"]
    assert [r["version"] for r in store.iter_articles(changed_since=date(2000, 1, 1))] == [5]
    assert list(store.iter_articles(changed_since=date(2999, 1, 1))) == []


def test_an_article_never_changed_is_version_1_and_not_exported_as_changed(store):
    store.write([article()])
    store.write([article()])
    assert versions(store) == [(1, "Le budget adopté", BODY)]
    assert list(store.iter_articles(changed_since=date(2000, 1, 1))) == []


def test_a_database_of_version_5_gets_versions_and_its_articles_are_version_1(database_url):
    store = Store(database_url)
    store.write([article()])
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE article_versions"))
        conn.execute(text("ALTER TABLE articles DROP COLUMN changed_at"))
        conn.execute(text("ALTER TABLE articles DROP COLUMN version"))
        conn.execute(text("UPDATE newscrawl_schema SET version = 5"))
    store.close()
    store = Store(database_url)
    assert store.schema_version() == SCHEMA_VERSION
    assert [r["version"] for r in store.iter_articles()] == [1]
    store.write([article(title="Le budget 2026 adopté")])
    assert [v[0] for v in versions(store)] == [1, 2]


def test_the_word_diff_marks_what_was_removed_and_added():
    assert word_diff("Le budget adopté hier", "Le budget 2026 adopté") == "Le budget {+2026+} adopté [-hier-]"
    long = " ".join(f"mot{i}" for i in range(40))
    assert "…" in word_diff(long + " fin", long + " suite")
