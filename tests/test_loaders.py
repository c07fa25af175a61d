"""The item loader: normalisation, and which page wins when both have a field.

The site parsers hand over text (markup removed, entities decoded, once, on the page): the loader
normalises it as text.
"""

from __future__ import annotations

from dataclasses import replace

from newscrawl.extract.assemble import MaghressPage, PublisherPage, build_article

MAGHRESS = MaghressPage(
    url="https://www.maghress.com/fr/lopinion/5010001",
    maghress_id=5010001,
    source="lopinion",
    source_name="L'Opinion",
    title="Titre\u00a0Maghress [INTEGRAL]",
    body=("L'intense activité diplomatique entre Rabat\u202fet Washington se poursuit.", "La réunion se tient à distance."),
    dates=("26 - 01 - 2021",),
    publisher_url="https://www.lopinion.ma/x_a1.html?utm_source=maghress",
)


def read_at_publisher(**fields) -> PublisherPage:
    """A publisher page as L'Opinion's parser reads it, at the article's URL."""
    return PublisherPage(extractor="lopinion", page_url="https://www.lopinion.ma/x_a1.html", **fields)


def test_maghress_alone():
    article = build_article(MAGHRESS)
    assert article["title"] == "Titre Maghress"
    assert article["body"] == "L'intense activité diplomatique entre Rabat et Washington se poursuit.\n\nLa réunion se tient à distance."
    assert article["published_date"] == "2021-01-26" and "published_at" not in article
    assert article["source_url"] == "https://www.lopinion.ma/x_a1.html"
    assert article["authors"] == [] and article["language"] == "fr"
    assert article["scraped_at"].endswith("+00:00")


def test_publisher_wins_where_it_has_a_field_and_maghress_stands_elsewhere():
    publisher = read_at_publisher(
        source_url="https://www.lopinion.ma/x_a1.html",
        title="Titre de l’éditeur",
        lead="Chapeau.",
        body=(),
        authors=("Omar ASSIF",),
        dates=("2021-01-26T18:30:00+01:00",),
        language="fr-FR",
        image_url="https://www.lopinion.ma/photo/art/grande/1-2.jpg?v=3",
    )
    article = build_article(MAGHRESS, publisher)
    assert article["title"] == "Titre de l'éditeur"
    assert article["body"] == "L'intense activité diplomatique entre Rabat et Washington se poursuit.\n\nLa réunion se tient à distance."  # publisher body empty: Maghress stands
    assert article["lead"] == "Chapeau." and article["authors"] == ["Omar ASSIF"]
    assert article["published_at"] == "2021-01-26T18:30:00+01:00"
    assert article["language"] == "fr"


def test_publisher_time_of_another_day_does_not_override_its_own_date():
    # The publisher's first readable date is a bare day; a later candidate's time of another day is not taken.
    publisher = read_at_publisher(dates=("Dimanche 8 Juin 2025", "2025-06-09T10:00:00+01:00"))
    article = build_article(MAGHRESS, publisher)
    assert article["published_date"] == "2025-06-08" and "published_at" not in article


def test_a_utc_time_late_in_the_day_is_the_next_moroccan_day():
    article = build_article(MAGHRESS, read_at_publisher(dates=("2025-06-08T23:30:00Z",)))
    assert article["published_date"] == "2025-06-09"
    assert article["published_at"] == "2025-06-08T23:30:00+00:00"


def test_text_that_looks_like_markup_is_kept_as_text():
    # A parser decoded "&lt;b&gt;" and "&lt;&lt;" on the page: the loader must not take them for tags.
    article = build_article(replace(MAGHRESS, title="Le tag <b> et les << guillemets >>", body=("a < b et c > d",)))
    assert article["title"] == "Le tag <b> et les << guillemets >>"
    assert article["body"] == "a < b et c > d"


def test_a_publisher_value_that_cleans_to_nothing_does_not_hide_the_maghress_one():
    # Invisible characters and stray whitespace clean to "": no value, so the Maghress page's title and
    # body stand, and a lead of only spaces is absent, not an empty cell.
    publisher = read_at_publisher(title="\u200b \u00a0", lead="   ", body=("\u200b", " "), authors=("Omar ASSIF", "Omar ASSIF"),
                                  dates=("pas une date", "2021-01-26T18:30:00+01:00"), source_url="https://www.lopinion.ma/x_a1.html")
    article = build_article(MAGHRESS, publisher)
    assert article["title"] == "Titre Maghress"
    assert article["body"].startswith("L'intense activité diplomatique")
    assert "lead" not in article
    assert article["authors"] == ["Omar ASSIF"]
    # The unreadable date is skipped; the same string read for both date fields gives one moment.
    assert article["published_at"] == "2021-01-26T18:30:00+01:00" and article["published_date"] == "2021-01-26"
    assert article["maghress_id"] == 5010001 and article["generic_fields"] == ""
