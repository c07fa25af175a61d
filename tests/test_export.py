"""CSV and JSON Lines out of the store: `newscrawl export`, and the exporters the feeds use."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

from newscrawl.store.exporters import ArticleCsvItemExporter, neutralise_formula
from newscrawl.items import ARTICLE_FIELDS, Article
from newscrawl.store import Store

from .conftest import REPO

HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"clic\")", "+33 612", "-2+3", "@SUM(A1)", "\tTab", "\rCR",
           # Full-width forms, which spreadsheets take for = + - @.
           "\uff1dHYPERLINK(\"http://evil.example\")", "\uff0b1+1", "\uff0d1+1", "\uff20SUM(A1)"]


def test_neutralise_formula():
    for value in HOSTILE:
        assert neutralise_formula(value) == "'" + value
    assert neutralise_formula("Bourse : +3%") == "Bourse : +3%"


def test_feed_exporter_writes_our_columns_authors_joined_and_formulas_neutralised():
    out = io.BytesIO()
    exporter = ArticleCsvItemExporter(out, encoding="utf-8")
    exporter.start_exporting()
    exporter.export_item(Article(url="u", title=HOSTILE[0], authors=["A. Naji", "S. Ksaani"], maghress_id=7))
    exporter.finish_exporting()
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8"))))
    assert tuple(rows[0]) == ARTICLE_FIELDS
    row = dict(zip(rows[0], rows[1]))
    assert row["title"] == "'" + HOSTILE[0] and row["authors"] == "A. Naji; S. Ksaani" and row["maghress_id"] == "7"


def _store(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    Store(url).write([
        {"url": f"https://www.maghress.com/fr/lopinion/{i}", "maghress_id": i, "source": "lopinion", "title": title,
         "published_date": day, "language": lang, "authors": ["X"], "body": f"corps {i}"}
        for i, title, day, lang in [(1, HOSTILE[0], "2025-01-02", "fr"), (2, "Second", "2025-06-01", "en"),
                                    (3, "Troisième", "2025-12-01", "fr")]
    ])
    return url


def _export(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newscrawl.ops.cli", "export", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=60)


def test_export_csv_with_filters(tmp_path):
    url = _store(tmp_path)
    out = tmp_path / "out.csv"
    result = _export("--database", url, "-o", str(out), "--since", "2025-01-01", "--until", "2025-11-30", "--language", "fr")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["maghress_id"] for r in rows] == ["1"]
    assert rows[0]["title"] == "'" + HOSTILE[0]  # neutralised in the CSV...
    assert next(Store(url).iter_articles())["title"] == HOSTILE[0]  # ...kept as is in the database
    assert "Exported 1 articles" in result.stderr


def test_export_jsonl_to_stdout(tmp_path):
    url = _store(tmp_path)
    result = _export("--database", url, "--format", "jsonl", "--source", "lopinion")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["maghress_id"] for r in rows] == [1, 2, 3]
    assert list(rows[0]) == list(ARTICLE_FIELDS) and rows[0]["authors"] == ["X"]


def test_export_rejects_a_bad_date(tmp_path):
    result = _export("--database", _store(tmp_path), "--since", "01/02/2025")
    assert result.returncode == 2 and "YYYY-MM-DD" in result.stderr


TEXT_COLUMNS = ("url", "source", "source_name", "source_url", "title", "lead", "body", "authors", "published_date",
                "published_at", "language", "image_url", "scraped_at", "extractor", "generic_fields")


def test_every_text_column_of_the_csv_is_neutralised():
    out = io.BytesIO()
    exporter = ArticleCsvItemExporter(out, encoding="utf-8")
    exporter.start_exporting()
    exporter.export_item(Article(**{f: ([HOSTILE[0]] if f == "authors" else HOSTILE[0]) for f in TEXT_COLUMNS},
                                 maghress_id=7))
    exporter.finish_exporting()
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8"))))
    row = dict(zip(rows[0], rows[1]))
    assert {f: row[f] for f in TEXT_COLUMNS} == {f: "'" + HOSTILE[0] for f in TEXT_COLUMNS}


def test_export_refuses_a_database_that_does_not_exist(tmp_path):
    typo = tmp_path / "newscrawl-typo.db"
    result = _export("--database", f"sqlite:///{typo}", "-o", str(tmp_path / "out.csv"))
    assert result.returncode == 2 and "no database at" in result.stderr and str(typo) in result.stderr
    assert not typo.exists()  # no empty archive created in its place


def test_status_masks_every_form_of_password(postgresql_admin_url):
    from .servers import create_database

    url = create_database(postgresql_admin_url, "masked_status")
    # (The test server trusts local connections: the passwords are ignored, and must never be printed.)
    user, host = url.split("://", 1)[1].split("@", 1)
    with_secrets = f"postgresql://{user}:userinfo-secret@{host}?password=query-secret&sslpassword=ssl-secret"
    result = subprocess.run([sys.executable, "-m", "newscrawl.ops.cli", "status", "--database", with_secrets],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    assert "secret" not in output, output
    assert "password=***" in output and "sslpassword=***" in output
