"""The article store, the same suite on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import json
import random
import multiprocessing
import time
from datetime import date

import pytest
from sqlalchemy import text

from newscrawl.ops.status import store_status
from newscrawl.identity.keys import ArticleKey, story_keys
from newscrawl.store import Store
from newscrawl.identity.matching import Verdict
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
    time.sleep(1.05)  # the times are kept to the second
    store.write([article(1)])
    with store.engine.connect() as conn:
        first_seen2, last_seen2 = conn.execute(text("SELECT first_seen, last_seen FROM articles")).one()
    assert first_seen2 == first_seen and last_seen2 > last_seen


@pytest.mark.parametrize(
    "republished, reason",
    [
        # Same publisher URL, spelled differently (scheme, www., tracking, fragment).
        ({"source_url": "http://lopinion.ma/Article-1_a1.html?utm_source=fb#top", "title": "Titre numéro 1, mis à jour",
          "published_date": "2025-12-10"}, "source_url"),
        # Same headline (other spelling) and day, no publisher URL.
        ({"source_url": None, "title": "TITRE   numéro 1", "body": "Autre corps"}, "title_and_date"),
        # Same body (long enough to be evidence), other headline and day.
        ({"source_url": None, "title": "Titre édité", "published_date": "2025-12-10", "body": "LONG"}, "body"),
    ],
)
def test_republished_story_becomes_an_alias(store, republished, reason):
    store.write([article(1, body=LONG_BODY)])
    copy = article(99, **{k: (LONG_BODY if v == "LONG" else v) for k, v in republished.items()})
    assert store.find_match(copy).reason == reason
    assert store.write([copy]) == {"inserted": 0, "updated": 0, "aliased": 1}
    assert store.count() == 1
    assert store.aliases_of(article(1)["url"]) == [copy["url"]]
    assert set(store.known_keys(["lopinion/5010099", "lopinion/5010001", "lopinion/1"])) == {
        "lopinion/5010099", "lopinion/5010001"
    }
    # The alias's key now leads to the article.
    assert store.find_match(copy).url == article(1)["url"]


def _with_verdict(item: dict, **verdict) -> dict:
    """An item as the deduplication pipeline hands it to the store."""
    return {**item, "story": Verdict(story_keys(item), **verdict)}


def test_an_item_that_repeats_an_article_of_its_batch_is_written_as_its_alias(store):
    copy = _with_verdict(article(42, title="Titre numéro 1"), alias_of="lopinion/5010001", reason="title_and_date")
    assert store.write([article(1), copy]) == {"inserted": 1, "updated": 0, "aliased": 1}
    assert store.aliases_of(article(1)["url"]) == [article(42)["url"]]


def test_an_alias_whose_article_was_never_written_is_stored_as_an_article(store):
    orphan = _with_verdict(article(42), alias_of="lopinion/5010001", reason="title_and_date")
    assert store.write([orphan]) == {"inserted": 1, "updated": 0, "aliased": 0}


def test_known_keys_is_one_query_over_articles_and_aliases(store):
    store.write([article(n) for n in range(1, 6)])
    assert store.known_keys(["lopinion/5010002", "lopinion/5010007"]) == {"lopinion/5010002": "titre numero 2"}
    assert store.known_keys([]) == {}


@pytest.mark.parametrize("url", [
    "http://maghress.com/fr/lopinion/5010001",  # other scheme, no www.
    "https://www.maghress.com/fr/lopinion/5010001-dialogue-strategique?utm_source=x",  # slug and query
    "http://127.0.0.1:8000/fr/lopinion/5010001",  # a mirror
])
def test_one_article_whatever_the_host_or_form_of_its_url(store, url):
    store.write([article(1)])
    assert store.find_match(article(1, url=url)).reason == "article"
    assert store.write([article(1, url=url, title="Titre numéro 1, corrigé")])["updated"] == 1
    assert store.count() == 1


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
    import newscrawl.store.engine as engine

    monkeypatch.setattr(engine, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    store = Store(database_url)
    assert store.schema_version() == SCHEMA_VERSION + 1
    with store.engine.connect() as conn:
        conn.execute(text("SELECT count(*) FROM migrated_marker"))
    Store(database_url)  # reopening applies nothing twice


def _version_2_database(url: str) -> None:
    """A real database as version 2 made it: its schema, rows as it wrote them (a mirror's URL and the
    production URL of one article among them), an alias, and a back-catalogue id not found."""
    from sqlalchemy import create_engine

    from newscrawl.store.database import engine_url

    from .support import schema_v2 as v2

    engine = create_engine(engine_url(url))
    now = "2026-06-01T00:00:00+00:00"
    row = {"source": "lopinion", "source_name": "L'Opinion", "title": "Titre", "authors": "[]", "first_seen": now,
           "last_seen": now}
    with engine.begin() as conn:
        v2.metadata.create_all(conn)
        conn.execute(v2.schema_info.insert(), [{"version": 1, "applied_at": now}, {"version": 2, "applied_at": now}])
        conn.execute(v2.articles.insert(), [
            {**row, "url": "https://www.maghress.com/fr/lopinion/5010001", "maghress_id": 5010001, "headline_key": "a"},
            {**row, "url": "http://127.0.0.1:8000/fr/lopinion/5010002", "maghress_id": 5010002, "headline_key": "b"},
            # Version 2 stored a mirror copy and the production page of one article as two rows.
            {**row, "url": "https://www.maghress.com/fr/lopinion/5010002", "maghress_id": 5010002, "headline_key": "c"},
        ])
        conn.execute(v2.aliases.insert(), {"url": "https://www.maghress.com/fr/lopinion/5010003", "article_id": 1,
                                           "reason": "source_url", "first_seen": now})
        conn.execute(v2.missing_articles.insert(), {"url": "https://www.maghress.com/fr/lopinion/5019999",
                                                    "source": "lopinion", "maghress_id": 5019999, "status": 404,
                                                    "first_seen": now, "last_checked": now})
    engine.dispose()


def test_a_version_2_database_is_migrated_and_keeps_every_row(database_url):
    _version_2_database(database_url)
    store = Store(database_url)
    assert store.schema_version() == SCHEMA_VERSION == 7
    assert store.count() == 3  # nothing lost, the duplicate row included
    # Version 5: the rows stored before it are in the search index.
    assert len(store.search("titres")) == 3
    # Keys from the URLs, whatever their host; the older of two rows of one article keeps the key.
    with store.engine.connect() as conn:
        keys = dict(conn.execute(text("SELECT url, article_key FROM articles")).all())
    assert keys == {"https://www.maghress.com/fr/lopinion/5010001": "lopinion/5010001",
                    "http://127.0.0.1:8000/fr/lopinion/5010002": "lopinion/5010002",
                    "https://www.maghress.com/fr/lopinion/5010002": None}
    assert store.known_keys(["lopinion/5010001", "lopinion/5010002", "lopinion/5010003"]) == {
        "lopinion/5010001": "a", "lopinion/5010002": "b", "lopinion/5010003": None}
    # The back-catalogue's "not found" is the frontier's "gone".
    assert store.gone_keys(["lopinion/5019999", "lopinion/5010001"]) == {"lopinion/5019999"}
    # And it works as a version 3 database: article 5010002 seen again updates the keyed row.
    assert store.write([article(2)])["updated"] == 1
    Store(database_url).close()  # reopening migrates nothing twice


def test_the_frontier_keeps_what_was_seen_and_not_stored(store):
    keys = [ArticleKey("lopinion", i) for i in (5010001, 5010002, 5010003, 5010004)]
    store.frontier_seen((k, k.url_on("http://127.0.0.1:8000")) for k in keys)
    store.frontier_seen([(keys[0], "https://www.maghress.com/fr/lopinion/5010001")])  # seen again: one entry
    assert [d.key for d in store.frontier_due(["lopinion"], 5)] == keys
    assert store.frontier_failed(keys[1], "u", "HTTP 503") == 1
    assert store.frontier_failed(keys[1], "u", "HTTP 503") == 2
    store.frontier_gone(keys[2], "u", 404)
    store.write([article(4)])  # stored: it leaves the frontier
    due = {str(d.key): (d.state, d.attempts) for d in store.frontier_due(["lopinion"], 5)}
    assert due == {"lopinion/5010001": ("pending", 0), "lopinion/5010002": ("failed", 2)}
    # After max_attempts failures an article is reported, not fetched.
    assert [str(d.key) for d in store.frontier_due(["lopinion"], 2)] == ["lopinion/5010001"]
    assert store.frontier_given_up(["lopinion"], 2) == 1
    assert store.frontier_due(["lematin"], 5) == []
    status = store_status(store, max_attempts=2)["lopinion"]
    assert {k: status[k] for k in ("stored", "pending", "failed", "given_up", "gone")} == {
        "stored": 1, "pending": 1, "failed": 1, "given_up": 1, "gone": 1}
    assert status["reasons"][0]["last_error"] == "HTTP 503"


def test_a_refused_row_is_kept_with_its_error_and_its_article_stays_in_the_frontier(store):
    item = article(7)
    store.reject(item, ValueError("index row size 9000 exceeds maximum 2712"))
    with store.engine.connect() as conn:
        kept = conn.execute(text("SELECT article_key, url, item, error FROM rejected_articles")).one()
    assert kept.article_key == "lopinion/5010007" and kept.url == item["url"]
    assert json.loads(kept.item)["title"] == item["title"] and "index row size" in kept.error
    assert [(str(d.key), d.state) for d in store.frontier_due(["lopinion"], 5)] == [("lopinion/5010007", "failed")]
    assert store_status(store, 5)["lopinion"]["rejected"] == 1


def test_a_stock_body_is_no_evidence_of_one_story(store):
    stock = "Réservé aux abonnés."
    store.write([article(1, body=stock, source_url=None)])
    other = article(2, title="Une tout autre affaire", body=stock, source_url=None)
    assert store.find_match(other) is None
    assert store.write([other])["inserted"] == 1 and store.count() == 2


def test_one_publisher_url_under_two_different_headlines_is_not_one_story(store):
    shared = "https://www.example-news.ma/actualite/page-unique.html"
    store.write([article(1, source_url=shared, title="Le budget 2026 adopté par la Chambre")])
    other = article(2, source_url=shared, title="Les Lions qualifiés pour le quart de finale")
    assert store.find_match(other) is None
    assert store.write([other])["inserted"] == 1 and store.count() == 2
    # Retouched, the same headline is the same story.
    again = article(3, source_url=shared, title="Le budget 2026 adopté par la Chambre des représentants")
    assert store.find_match(again).reason == "source_url"


def test_same_headline_and_day_is_one_story_within_a_source_only(store):
    store.write([article(1, title="Cours des devises du mardi 9 décembre 2025", body="Texte A.")])
    other_paper = article(2, title="Cours des devises du mardi 9 décembre 2025", body="Texte B.", source="lematin",
                          source_url="https://lematin.ma/economie/cours/1")
    assert store.find_match(other_paper) is None
    same_paper = article(3, title="Cours des devises du mardi 9 décembre 2025", body="Texte C.",
                         source_url="https://www.lopinion.ma/Autre_a3.html")
    assert store.find_match(same_paper).reason == "title_and_date"


def test_an_article_with_a_very_long_headline_is_stored_and_found_again(database_url):
    # Its key was over PostgreSQL's btree entry limit (2704 bytes): that article was refused on every run.
    rng = random.Random(3)
    title = "".join(chr(0x4E00 + rng.randrange(20_000)) for _ in range(3000))  # 9 KB in UTF-8, incompressible
    store = Store(database_url)
    long = {**article(77), "title": title}
    assert store.write([long])["inserted"] == 1
    # The same headline and day from the same source under another key is found through the bounded index.
    again = {**article(78), "title": title, "body": "Un autre texte, court."}
    assert store.write([again]) == {"inserted": 0, "updated": 0, "aliased": 1}


def test_a_version_3_title_index_is_replaced_by_the_bounded_one(database_url):
    store = Store(database_url)
    with store.engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_articles_title_key_date"))
        conn.execute(text("CREATE INDEX ix_articles_title_key_date ON articles (title_key, published_date)"))
        conn.execute(text("UPDATE newscrawl_schema SET version = 3"))
    store.close()
    store = Store(database_url)
    assert store.schema_version() == SCHEMA_VERSION
    assert store.write([{**article(79), "title": "x" * 9000}])["inserted"] == 1
