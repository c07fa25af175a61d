"""`clean_title`, `title_key`, bodies, authors, languages, URL keys."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newscrawl.normalize import (
    canonical_key,
    clean_authors,
    clean_body,
    clean_language,
    clean_source_url,
    clean_title,
    detect_language,
    title_key,
)

NBSP, NNBSP, THIN = "\u00a0", "\u202f", "\u2009"

# Real titles (SITE.md §3, the reference page's ticker) that must come out exactly as they are.
UNCHANGED = [
    "Interview avec Haitam Nkita : « Le silence amplifie la détresse des étudiants marocains de Chypre du Nord »",
    "«Khamssa w Khmiss» : Jaylann, le retour manifeste",
    "Winners…et losers",
    "CA FIFA 25 : Retour en vidéo et images sur la qualification des Lions pour le quart",
    "Dialogue Stratégique Maroc-USA : la coopération dans la lutte contre la prolifération nucléaire à l'ordre du jour",
    "Bourse de Casablanca : ouverture dans le vert",
    "Nasser Zefzafi entame une grève de la faim et de la soif",
    "Investissement étranger en instruments financiers: quatre secteurs s'accaparent 66% des volumes échangés en 2024",
    "Cours des devises du mardi 9 décembre 2025",
    "Immigration : L'UE donne un tour de vis à sa politique",
    "USA-Corée : Washington veut dénucléariser complètement Pyongyang",
    "Education : Au cœur des classes préscolaires d'éveil de la FMPS",
    "Basket / DEX (J8) : Le FUS signe un retentissant 102-60, le MAS toujours en tête",
    "GST, ANP, coopération douanière... au menu du prochain Conseil de gouvernement",
    "Agroalimentaire : le Maroc ouvre un pop-up «Kingdom of taste» à Paris",
    "2500 ans de Naples célébrés au Maroc",
    "Interview avec Meryem Benm'Barek et Nadia Kounda : «Derrière les palmiers» montre à quel point l'amour est politique",
    "Sekkouri: Hausse de 17,5% du nombre d'entreprises créées à fin août 2025",
    "SM le Roi donne Sa Haute Approbation pour instituer le 9 décembre de chaque année comme journée nationale de la médiation de service public (Communiqué)",
    "Controverse autour d'un café à Taza : droits d'auteur ou approche punitive ?",
    "UNESCO : Le secrétariat général déjoue une manœuvre algérienne sur le caftan",
    "France: quatre morts dans le crash d'un petit avion dans l'Ariège",
    "Meknès: Lalla Asmaa inaugura un centro de excelencia para niños sordos",
    "Sahara autonomy discussions revive appeals for the release of Gdim Izik prisoners",
    "L'ambassadeur du Maroc au Mexique plaide pour le renforcement du partenariat ente Rabat et Mexico",
    "Ligue Europa: Igamane incertain pour le déplacement de Lille face aux Young Boys",
    "Cinéma : Clôture de la 2e édition du programme Tamayouz Atelier Pro",
    "Le Maroc accueille un séminaire international sur la lutte contre le piratage audiovisuel à l'approche de la CAN 2025",
    "¿Qué futuro para el turismo en Marrakech?",
    "Morocco's tourism revenues hit record high in 2025",
]

RULES = [
    # Trailing [INTEGRAL] / [INTÉGRAL] marker, any case
    ("Effets post-Covid : Sommes-nous devenus plus vulnérables face à la grippe ? [INTEGRAL]",
     "Effets post-Covid : Sommes-nous devenus plus vulnérables face à la grippe ?"),
    ("Agriculture : Ces ravageurs qui grignotent notre souveraineté alimentaire [INTÉGRAL]",
     "Agriculture : Ces ravageurs qui grignotent notre souveraineté alimentaire"),
    ("Titre [intégral]", "Titre"),
    ("Titre [Integral] ", "Titre"),
    ("Titre [ INTEGRAL ]", "Titre"),
    ("[INTEGRAL] au début reste", "[INTEGRAL] au début reste"),
    # " - Maghress" suffix
    ("Bourse de Casablanca : ouverture dans le vert - Maghress", "Bourse de Casablanca : ouverture dans le vert"),
    ("Titre | Maghress", "Titre"),
    ("Titre – Maghress", "Titre"),
    ("Titre [INTEGRAL] - Maghress", "Titre"),
    ("Maghress publie un rapport", "Maghress publie un rapport"),
    # Entities
    ("Dialogue Strat&eacute;gique Maroc-USA", "Dialogue Stratégique Maroc-USA"),
    ("L&#39;opinion &amp; vous", "L'opinion & vous"),
    ("&laquo;Khamssa w Khmiss&raquo;", "«Khamssa w Khmiss»"),
    ("Caf&#233; &#x26; th&eacute;", "Café & thé"),
    # Tags
    ("Le <em>retour</em> manifeste", "Le retour manifeste"),
    ("Ligne<br>coupée", "Ligne coupée"),
    ("<span class='x'>Titre</span> <b>gras</b>", "Titre gras"),
    # Unicode NFC
    ("Me\u0301kne\u0300s", "Méknès"),
    ("Cafe\u0301", "Café"),
    # Whitespace of every kind
    (f"Effets post-Covid{NBSP}: grippe{NNBSP}?", "Effets post-Covid : grippe ?"),
    (f"«{NNBSP}Le silence{NNBSP}»", "« Le silence »"),
    (f"Titre{THIN}:{THIN}suite", "Titre : suite"),
    ("Titre\ttabulé", "Titre tabulé"),
    ("Titre\nsur deux\r\nlignes", "Titre sur deux lignes"),
    ("  espaces   multiples  ", "espaces multiples"),
    # Invisible characters
    ("Zero\u200bwidth", "Zerowidth"),
    ("Soft\u00adhyphen", "Softhyphen"),
    ("\ufeffBOM", "BOM"),
    ("Word\u2060joiner", "Wordjoiner"),
    # Apostrophes and single quotes
    ("L’«émanation» du peuple, contre le peuple", "L'«émanation» du peuple, contre le peuple"),
    ("Aujourd‘hui", "Aujourd'hui"),
    ("l\u02bcarbre", "l'arbre"),
    ("Benm’Barek", "Benm'Barek"),
]


def test_tables_are_large():
    assert len(UNCHANGED) + len(RULES) >= 60


@pytest.mark.parametrize("title", UNCHANGED)
def test_real_titles_come_out_unchanged(title):
    assert clean_title(title) == title


@pytest.mark.parametrize("raw, expected", RULES)
def test_title_rules(raw, expected):
    assert clean_title(raw) == expected


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_clean_title_is_idempotent(text):
    once = clean_title(text)
    assert clean_title(once) == once


@pytest.mark.parametrize(
    "a, b",
    [
        ("L’«émanation»", "L'« émanation »"),
        ("«Khamssa w Khmiss» : Jaylann, le retour manifeste", "« Khamssa w Khmiss » : Jaylann, le retour manifeste"),
        ("Effets post-Covid : la grippe ? [INTEGRAL]", "effets post covid la grippe"),
        ("MEKNÈS : Lalla Asmaa", "Meknès: Lalla Asmaa"),
        (f"Bourse{NBSP}: ouverture", "Bourse : ouverture - Maghress"),
    ],
)
def test_title_key_matches_spellings_of_one_headline(a, b):
    assert title_key(a) == title_key(b) != ""


def test_title_key_tells_different_headlines_apart():
    assert title_key("Le Maroc accueille un séminaire") != title_key("Le Maroc accueille un sommet")


def test_clean_body_joins_paragraphs_with_a_blank_line():
    assert clean_body(["  Premier&nbsp;paragraphe. ", "", "<em>Second</em>\nparagraphe."]) == (
        "Premier paragraphe.\n\nSecond paragraphe."
    )
    assert clean_body(None) == "" and clean_body("Un seul") == "Un seul"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Omar ASSIF", ["Omar ASSIF"]),
        ("Par Omar ASSIF", ["Omar ASSIF"]),
        ("Bilal OUHAMMOU et Sara ZAIRI", ["Bilal OUHAMMOU", "Sara ZAIRI"]),
        (["A. Naji", "A. Naji", "S. Ksaani"], ["A. Naji", "S. Ksaani"]),
        ("by John Smith and Jane Doe", ["John Smith", "Jane Doe"]),
        ("", []),
    ],
)
def test_clean_authors(raw, expected):
    assert clean_authors(raw) == expected


@pytest.mark.parametrize(
    "declared, expected",
    [("fr", "fr"), ("fr-FR", "fr"), ("fr_MA", "fr"), ("EN-us", "en"), ("es", "es"), ("ar", ""), ("", ""), (None, "")],
)
def test_clean_language(declared, expected):
    assert clean_language(declared) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Bourse de Casablanca : ouverture dans le vert, les valeurs bancaires en tête", "fr"),
        ("Interview avec Haitam Nkita : « Le silence amplifie la détresse des étudiants marocains de Chypre du Nord »", "fr"),
        ("Meknès: Lalla Asmaa inaugura un centro de excelencia para niños sordos", "es"),
        ("Sahara autonomy discussions revive appeals for the release of Gdim Izik prisoners", "en"),
        ("Ok", ""),
    ],
)
def test_detect_language(text, expected):
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    "a, b",
    [
        ("https://www.lopinion.ma/X_a1.html", "http://lopinion.ma/X_a1.html"),
        ("https://www.lopinion.ma/X_a1.html?utm_source=maghress&utm_medium=x", "https://www.lopinion.ma/X_a1.html"),
        ("https://www.lopinion.ma/X_a1.html#comments", "https://www.lopinion.ma/X_a1.html"),
        ("https://www.lopinion.ma/def.asp?info=1081&codelangue=23", "https://lopinion.ma/def.asp?codelangue=23&info=1081"),
    ],
)
def test_canonical_key_names_one_article_whatever_the_spelling(a, b):
    assert canonical_key(a) == canonical_key(b) != ""


def test_clean_source_url_keeps_the_article_and_drops_tracking():
    assert clean_source_url("https://www.lopinion.ma/X_a1.html?utm_source=m&id=3#top") == "https://www.lopinion.ma/X_a1.html?id=3"
    assert clean_source_url("javascript:alert(1)") == ""


# --- markup before entities, control characters ----------------------------------------------


@pytest.mark.parametrize("raw, clean", [
    # "<<" and ">>" written as entities are text once decoded: never taken for a tag, however often cleaned.
    ("des &lt;&lt; étudiants &gt;&gt; marocains", "des << étudiants >> marocains"),
    ("des << étudiants >> marocains", "des << étudiants >> marocains"),
    ("Inflation &lt; 2 % et croissance &gt; 3 %", "Inflation < 2 % et croissance > 3 %"),
    # Real markup goes, then entities are decoded: "&lt;b&gt;" written in the page is text.
    ("<em>Winners</em>…et <b>losers</b>", "Winners…et losers"),
    ("Le tag &lt;b&gt; en HTML", "Le tag <b> en HTML"),
    ("Titre<!-- commentaire --> propre", "Titre propre"),
])
def test_markup_is_removed_before_entities_are_decoded(raw, clean):
    assert clean_title(raw) == clean
    # The loader's pass over the parser's text changes nothing.
    assert clean_title(clean_title(raw), markup=False) == clean


def test_control_characters_never_reach_a_field():
    assert clean_title("Le tramway\x00 prolongé\x1b") == "Le tramway prolongé"
    assert clean_authors(["Omar\x00 ASSIF", "Sara\u0085ZAIRI"]) == ["Omar ASSIF", "Sara ZAIRI"]
    assert clean_body(["Premier\x00 paragraphe\x07.", "Second\x9f."]) == "Premier paragraphe.\n\nSecond."
    assert clean_source_url("https://www.lopinion.ma/A\x00rticle_a1.html") == "https://www.lopinion.ma/Article_a1.html"


@given(st.text())
@settings(max_examples=300, deadline=None)
def test_no_control_character_survives_cleaning(text):
    cleaned = clean_title(text)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in cleaned)


# Text that is clean or nearly so (the shortcut's territory), and text that is not.
_NEAR_CLEAN = st.lists(
    st.sampled_from(["Le", "tramway", "é", "e\u0301", "Ω", "«", "»", " ", "  ", NBSP, NNBSP, "\n", "\t", "\x00",
                     "\x85", "\u200b", "\u00ad", "\ufeff", "<b>", "</p>", "&amp;", "&", "<", "ﬁ", "\u2028", "İ"]),
    min_size=1, max_size=12,
).map("".join)


@given(st.text(min_size=1) | _NEAR_CLEAN, st.booleans())
@settings(max_examples=500, deadline=None)
def test_text_found_clean_is_returned_as_the_full_cleaning_would_return_it(text, markup):
    """clean_text returns a text it finds clean without cleaning it: whatever the text, the result is the
    one the full cleaning gives."""
    from newscrawl.normalize.text import _clean, clean_text

    assert clean_text(text, markup) == _clean(text, markup)
