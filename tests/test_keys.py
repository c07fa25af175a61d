"""Story keys (``newscrawl.identity.keys``): what makes two URLs one article, and two pages one story."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newscrawl.identity.keys import (
    ArticleKey, article_key, body_words, maghress_url, names_one_article, publisher_key, story_keys, titles_agree,
)


@pytest.mark.parametrize("url", [
    "https://www.maghress.com/fr/lopinion/5010004",
    "http://maghress.com/fr/lopinion/5010004",
    "https://maghress.com/fr/LOPINION/05010004/",
    "https://www.maghress.com/fr/lopinion/5010004-interview-avec-haitam-nkita",
    "https://www.maghress.com/fr/lopinion/5010004/interview-avec-haitam-nkita",
    "https://www.maghress.com/fr/lopinion/5010004.html",
    "https://www.maghress.com/fr/lopinion/5010004?utm_source=facebook&page=2#comments",
    "http://127.0.0.1:8000/fr/lopinion/5010004",
    "http://mirror.example/archive/maghress/fr/lopinion/5010004",  # a mirror under a path
    "/fr/lopinion/5010004",
])
def test_every_form_of_an_article_url_is_one_key(url):
    assert article_key(url) == ArticleKey("lopinion", 5010004)
    assert str(article_key(url)) == "lopinion/5010004"


@pytest.mark.parametrize("url", [
    "https://www.maghress.com/fr/lopinion",  # a listing
    "https://www.maghress.com/fr/lopinion?page=2",
    "https://www.maghress.com/alittihad/2082123",  # an Arabic section
    "https://www.maghress.com/fr/lopinion/abc",
    "https://www.maghress.com/fr/lopinion/1234567890123456789012",  # not an id: would not fit a BIGINT
    "ftp://www.maghress.com/fr/lopinion/1",
    "",
    None,
])
def test_other_urls_have_no_key(url):
    assert article_key(url) is None


def test_the_url_kept_is_one_form_per_host():
    key = ArticleKey("lopinion", 5010004)
    assert maghress_url(key, "http://maghress.com/fr/lopinion/5010004?x=1") == "https://www.maghress.com/fr/lopinion/5010004"
    assert maghress_url(key, "http://127.0.0.1:8000/fr/lopinion/5010004/slug") == "http://127.0.0.1:8000/fr/lopinion/5010004"
    assert maghress_url(key, "http://m.example/mirror/fr/lopinion/5010004") == "http://m.example/mirror/fr/lopinion/5010004"
    assert ArticleKey.parse("lopinion/5010004") == key and key.url_on("http://m.example/") == "http://m.example/fr/lopinion/5010004"


@pytest.mark.parametrize("canonical, page, names_one", [
    ("https://www.lopinion.ma/Etudes-a-l-etranger_a22930.html", None, True),
    ("https://www.lopinion.ma/", None, False),  # the home page
    ("https://www.lopinion.ma", None, False),
    ("https://www.lopinion.ma/fr/", None, False),  # a language root
    ("https://www.lopinion.ma/index.html", None, False),
    ("https://lematin.ma/category/economie/", None, False),  # listings
    ("https://lematin.ma/tag/budget", None, False),
    ("https://lematin.ma/economie/page/2", None, False),
    ("https://lematin.ma/economie?page=3", None, False),
    ("https://www.example.ma/societe", "https://www.example.ma/societe/la-rentree.html", False),  # its section
    ("https://example.ma/societe", "https://www.example.ma/societe/la-rentree.html", False),  # www. or not
    ("https://www.example.ma/societe/la-rentree.html", "https://www.example.ma/societe/la-rentree.html", True),
    ("https://www.example.ma/politics/archive/2024/01/the-vote/677123/", None, True),
    ("https://www.tag-heuer-news.com/tag-heuer-launches-a-watch.html", None, True),
    ("mailto:redaction@lopinion.ma", None, False),
])
def test_a_publisher_url_names_one_article_unless_it_is_a_home_section_or_listing(canonical, page, names_one):
    assert names_one_article(canonical, page) is names_one
    assert bool(publisher_key(canonical, page)) is names_one


@pytest.mark.parametrize("a, b, agree", [
    ("«Khamssa w Khmiss» : Jaylann, le retour manifeste", "« Khamssa w Khmiss » : Jaylann, le retour manifeste", True),
    ("Agriculture : Ces ravageurs qui grignotent notre souveraineté alimentaire [INTÉGRAL]",
     "Agriculture : Ces ravageurs qui grignotent notre souveraineté alimentaire", True),
    ("Le budget 2026 adopté par la Chambre", "Le budget 2026 adopté par la Chambre des représentants", True),
    ("Le budget 2026 adopté par la Chambre", "Les Lions qualifiés pour le quart de finale", False),
    ("La Bourse ouvre en hausse", "Le Raja remporte le derby", False),
    ("", "Un titre", True),  # nothing to compare: no evidence against
])
def test_titles_agree_on_one_story_only(a, b, agree):
    assert titles_agree(a, b) is agree


def test_body_keys_only_for_bodies_long_enough_to_be_evidence():
    short = story_keys({"url": "https://www.maghress.com/fr/lopinion/1", "body": "Réservé aux abonnés."})
    assert short.body is None and short.signature() is None
    words = " ".join(f"mot{i}" for i in range(40))
    long = story_keys({"url": "https://www.maghress.com/fr/lopinion/2", "body": words})
    assert long.body and long.signature() is not None
    assert story_keys({"body": words}, min_body_words=41).body is None


@pytest.mark.parametrize("seed", range(5))
def test_body_signatures_are_datasketchs_minhash_bit_for_bit(seed):
    """Stored signatures are compared with new ones for years: they must stay datasketch's MinHash (scheme
    "affine32", seed 1, crc32 of each word 3-gram), which ``similarity`` computes without importing it."""
    import random
    import zlib

    from datasketch import MinHash

    from newscrawl.identity import similarity
    from newscrawl.identity.keys import body_words

    rng = random.Random(seed)
    vocabulary = [f"mot{i}" for i in range(300)] + ["l'opinion", "Été", "İstanbul", "Straße", "2025", "ﬁn"]
    for _ in range(40):
        body = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(5, 900)))
        words = body_words(body)
        shingles = {f"{a} {b} {c}".encode("utf-8") for a, b, c in zip(words, words[1:], words[2:])}
        ours = similarity.signature(body)
        if len(shingles) < similarity.MIN_SHINGLES:
            assert ours is None
            continue
        reference = MinHash(num_perm=similarity.NUM_PERM, seed=1, hashfunc=zlib.crc32, scheme="affine32")
        reference.update_batch(list(shingles))
        assert similarity.to_bytes(ours) == similarity.to_bytes(reference.hashvalues.astype("uint32"))


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
       | st.lists(st.sampled_from(["l'opinion", "mot_clé", "Été", "ﬁn", "2025", "İ", "a\u0301", "—", "\u00a0",
                                   "x\u200by", "«", "ß", "\n", "١٢"]), max_size=20).map(" ".join))
def test_body_words_are_the_regex_words_of_the_casefolded_body(text):
    """Signatures stored by earlier runs are recomputed from these words: their tokenisation must stay
    ``\\w+`` on the case-folded body, whatever shortcut finds them."""
    import re

    assert body_words(text) == re.findall(r"\w+", text.casefold())


def test_story_keys_of_an_item():
    keys = story_keys({
        "url": "http://127.0.0.1:8000/fr/lopinion/5010004", "source": "lopinion", "title": "L’«émanation» du peuple",
        "maghress_title": "L'« émanation » du peuple [INTEGRAL]", "published_date": "2025-11-14",
        "source_url": "http://lopinion.ma/L-emanation_a22948.html?utm_source=maghress",
    })
    assert keys.article == "lopinion/5010004"
    assert keys.publisher == "lopinion.ma/L-emanation_a22948.html"
    assert keys.title_and_day == ("l emanation du peuple", keys.day, "lopinion") and str(keys.day) == "2025-11-14"
    assert keys.headline == "l emanation du peuple"
    assert story_keys({"source_url": "https://www.lopinion.ma/"}).publisher is None  # the home page: no identity
