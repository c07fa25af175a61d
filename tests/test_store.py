"""The article store, the same suite on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import multiprocessing
from datetime import date

import pytest
from sqlalchemy import text

from newscrawl.store import Store
from newscrawl.store.database import safe_url
from newscrawl.store.schema import SCHEMA_VERSION


def article(n: int, **fields) -> dict:
    base = {
        "url": f"https://www.maghress.com/fr/lopinion/{5010000 + n}",
        "maghress_id": 5010000 + n,
        "source": "lopinion",
        "source_name": "L'Opinion",
        "source_url": f"https://www.lopinion.ma/Article-{n}_a{n}.html",
        "title": f"Titre numéro {n}",
        "body": f"Corps de l'article {n}.\n\nSecond paragraphe {n}.",
        "authors": ["Omar ASSIF"],
        "published_date": "2025-12-09",
        "language": "fr",
    }
    return {**base, **fields}


@pytest.fixture
def store(database_url):
    s = Store(database_url)
    yield s
    s.close()


def test_schema_is_created_with_its_version_and_reopening_keeps_data(store, database_url):
    assert store.schema_version() == SCHEMA_VERSION
    store.write([article(1)])
    again = Store(database_url)
    assert again.schema_version() == SCHEMA_VERSION and again.count() == 1


def test_insert_then_recrawl_updates_the_row_and_never_adds_one(store):
    assert store.write([article(1), article(2)]) == {"inserted": 2, "updated": 0, "aliased": 0}
    first = {a["url"]: a for a in store.iter_articles()}
    counts = store.write([article(1, title="Titre numéro 1, corrigé", body="Nouveau corps.")])
    assert counts == {"inserted": 0, "updated": 1, "aliased": 0}
    rows = {a["url"]: a for a in store.iter_articles()}
    assert len(rows) == 2
    updated = rows[article(1)["url"]]
    assert updated["title"] == "Titre numéro 1, corrigé" and updated["body"] == "Nouveau corps."
    assert updated["authors"] == ["Omar ASSIF"]  # an update without a value keeps the stored one
    assert first[article(1)["url"]]["published_date"] == updated["published_date"] == "2025-12-09"


def test_first_and_last_seen(store):
    store.write([article(1)])
    with store.engine.connect() as conn:
        first_seen, last_seen = conn.execute(text("SELECT first_seen, last_seen FROM articles")).one()
    assert first_seen == last_seen
    store.write([article(1)])
    with store.engine.connect() as conn:
        first_seen2, last_seen2 = conn.execute(text("SELECT first_seen, last_seen FROM articles")).one()
    assert first_seen2 == first_seen and last_seen2 >= last_seen


@pytest.mark.parametrize(
    "republished, reason",
    [
        # Same publisher URL, spelled differently (scheme, www., tracking, fragment).
        ({"source_url": "http://lopinion.ma/Article-1_a1.html?utm_source=fb#top", "title": "Autre titre"}, "source_url"),
        # Same headline (other spelling) and day, no publisher URL.
        ({"source_url": None, "title": "TITRE   numéro 1", "body": "Autre corps"}, "title_and_date"),
        # Same body, other headline and day.
        ({"source_url": None, "title": "Titre édité", "published_date": "2025-12-10",
          "body": "Corps de l'article 1.\n\nSecond paragraphe 1."}, "body"),
    ],
)
def test_republished_story_becomes_an_alias(store, republished, reason):
    store.write([article(1)])
    copy = article(99, **republished)
    assert store.find_match(copy).reason == reason
    assert store.write([copy]) == {"inserted": 0, "updated": 0, "aliased": 1}
    assert store.count() == 1
    assert store.aliases_of(article(1)["url"]) == [copy["url"]]
    assert set(store.known_urls([copy["url"], article(1)["url"], "https://www.maghress.com/fr/lopinion/1"])) == {
        copy["url"], article(1)["url"]
    }
    # The alias's URL now leads to the article.
    assert store.find_match(copy).url == article(1)["url"]


def test_queued_aliases_are_written_with_the_next_batch(store):
    store.queue_alias("https://www.maghress.com/fr/lopinion/42", article(1)["url"], "title_and_date")
    assert store.write([article(1)]) == {"inserted": 1, "updated": 0, "aliased": 1}
    assert store.aliases_of(article(1)["url"]) == ["https://www.maghress.com/fr/lopinion/42"]


def test_known_urls_is_one_query_over_articles_and_aliases(store):
    store.write([article(n) for n in range(1, 6)])
    assert store.known_urls([article(2)["url"], article(7)["url"]]) == {article(2)["url"]: "titre numero 2"}
    assert store.known_urls([]) == {}


def test_a_failing_batch_is_rolled_back_whole_and_committed_rows_stay(store):
    store.write([article(1)])
    with pytest.raises(Exception):
        store.write([article(2), article(3, title=None)])  # title is NOT NULL
    assert [a["url"] for a in store.iter_articles()] == [article(1)["url"]]


def test_iter_articles_filters(store):
    store.write([
        article(1, published_date="2025-01-01", language="fr"),
        article(2, published_date="2025-06-01", language="en"),
        article(3, published_date="2025-12-01", language="fr", source="lematin"),
    ])
    ids = lambda **f: [a["maghress_id"] for a in store.iter_articles(**f)]  # noqa: E731
    assert ids() == [5010001, 5010002, 5010003]
    assert ids(since=date(2025, 6, 1)) == [5010002, 5010003]
    assert ids(until=date(2025, 6, 1)) == [5010001, 5010002]
    assert ids(language="fr") == [5010001, 5010003]
    assert ids(source="lematin") == [5010003]


def test_values_are_bound_parameters_not_sql(store):
    hostile = article(1, title="Robert'); DROP TABLE articles;--", body="'; DELETE FROM articles; --")
    store.write([hostile])
    assert [a["title"] for a in store.iter_articles()] == [hostile["title"]]


def test_password_is_hidden_in_the_printed_url():
    assert safe_url("postgresql://crawler:s3cret@db.example/news") == "postgresql://crawler:***@db.example/news"
    unopened = Store("postgresql://crawler:s3cret@127.0.0.1:1/news", create=False)  # no connection made
    assert "s3cret" not in repr(unopened) and "***" in repr(unopened)


def _writer(url: str, start: int, n: int, batch: int) -> None:
    store = Store(url)
    for offset in range(0, n, batch):
        store.write([article(start + i) for i in range(offset, min(offset + batch, n))])


def test_two_crawls_writing_at_once_store_each_article_once(database_url):
    Store(database_url).close()  # schema first, as the first crawl would
    ctx = multiprocessing.get_context("spawn")
    # Overlapping ranges: articles 50..149 are written by both processes at the same time.
    workers = [ctx.Process(target=_writer, args=(database_url, 0, 150, 10)),
               ctx.Process(target=_writer, args=(database_url, 50, 150, 7))]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0]
    store = Store(database_url)
    assert store.count() == 200
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(DISTINCT url) FROM articles")).scalar() == 200


LONG_BODY = (
    "Le rappeur Jaylann revient avec un nouvel album intitulé Khamssa w Khmiss, plus personnel que jamais. "
    "Douze titres entre rap et chaâbi, enregistrés entre Casablanca et Paris, avec des invités de marque. "
    "L'artiste y raconte son enfance à Derb Sultan, ses doutes et sa revanche sur une industrie qui l'avait oublié."
)


def test_near_identical_body_is_the_same_story(store):
    store.write([article(1, body=LONG_BODY, source_url=None)])
    retouched = LONG_BODY.replace("plus personnel que jamais", "plus intime que jamais").replace("Paris", "Paris.")
    copy = article(2, title="Autre titre", published_date="2025-12-11", source_url=None, body=retouched)
    match = store.find_match(copy)
    assert match is not None and match.reason == "similar_body"
    assert store.write([copy])["aliased"] == 1 and store.count() == 1


def test_a_different_story_is_not_a_near_duplicate(store):
    store.write([article(1, body=LONG_BODY, source_url=None)])
    other = article(2, title="Autre", source_url=None, published_date="2025-12-11",
                    body="La Bourse de Casablanca a ouvert dans le vert ce mardi, portée par les valeurs bancaires et "
                         "immobilières, dans un marché où les volumes restent faibles avant la fin de l'année et les fêtes.")
    assert store.find_match(other) is None
    assert store.write([other])["inserted"] == 1


def test_pending_migrations_are_applied_in_order(database_url, monkeypatch):
    from newscrawl.store import schema

    Store(database_url).close()
    monkeypatch.setattr(schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(schema.MIGRATIONS, SCHEMA_VERSION + 1, ["CREATE TABLE migrated_marker (x INTEGER)"])
    import newscrawl.store.database as database

    monkeypatch.setattr(database, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    store = Store(database_url)
    assert store.schema_version() == SCHEMA_VERSION + 1
    with store.engine.connect() as conn:
        conn.execute(text("SELECT count(*) FROM migrated_marker"))
    Store(database_url)  # reopening applies nothing twice


def test_a_version_1_database_is_migrated_and_keeps_its_articles(database_url):
    # Make a database as version 1 left it: no extractor columns, no missing_articles table.
    Store(database_url).write([article(1)])
    old = Store(database_url, create=False)
    with old.engine.begin() as conn:
        conn.execute(text("ALTER TABLE articles DROP COLUMN extractor"))
        conn.execute(text("ALTER TABLE articles DROP COLUMN generic_fields"))
        conn.execute(text("DROP TABLE missing_articles"))
        conn.execute(text("DELETE FROM newscrawl_schema"))
        conn.execute(text("INSERT INTO newscrawl_schema (version, applied_at) VALUES (1, '2026-01-01T00:00:00+00:00')"))
    old.close()
    store = Store(database_url)
    assert store.schema_version() == SCHEMA_VERSION == 2
    assert store.count() == 1
    store.write([article(2, extractor="generic", generic_fields="title, body")])
    rows = {a["maghress_id"]: a for a in store.iter_articles()}
    assert rows[5010001]["extractor"] is None and rows[5010002]["generic_fields"] == "title, body"
    store.record_missing("https://www.maghress.com/fr/lopinion/5019999", "lopinion", 5019999, 404)
    assert store.missing_urls(["https://www.maghress.com/fr/lopinion/5019999"])


def test_missing_ids_are_recorded_once_and_answered_in_one_query(store):
    urls = [f"https://www.maghress.com/fr/lopinion/{i}" for i in (5019998, 5019999)]
    store.record_missing(urls[0], "lopinion", 5019998, 404)
    store.record_missing(urls[0], "lopinion", 5019998, 410)  # checked again: updated, not duplicated
    assert store.missing_urls([*urls, urls[0]]) == {urls[0]}
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM missing_articles")).scalars().all() == [410]


def test_same_headline_and_day_is_one_story_within_a_source_only(store):
    store.write([article(1, title="Cours des devises du mardi 9 décembre 2025", body="Texte A.")])
    other_paper = article(2, title="Cours des devises du mardi 9 décembre 2025", body="Texte B.", source="lematin",
                          source_url="https://lematin.ma/economie/cours/1")
    assert store.find_match(other_paper) is None
    same_paper = article(3, title="Cours des devises du mardi 9 décembre 2025", body="Texte C.",
                         source_url="https://www.lopinion.ma/Autre_a3.html")
    assert store.find_match(same_paper).reason == "title_and_date"
