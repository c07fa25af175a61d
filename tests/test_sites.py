"""Site parsers, field by field, on the fixture pages and on variations built from them."""

from __future__ import annotations

from parsel import Selector

from newscrawl.extract.sites import lopinion, maghress

from .conftest import ORIGIN, fixture_page

DIALOGUE = "/Dialogue-Strategique-Maroc-USA-la-cooperation-dans-la-lutte-contre-la-proliferation-nucleaire_a12345.html"


def sel(html: str) -> Selector:
    return Selector(text=html)


# --- Maghress: URLs ---------------------------------------------------------------


def test_article_ref_canonicalises_maghress_urls():
    for url in (
        "https://www.maghress.com/fr/lopinion/5010001",
        "http://maghress.com/fr/lopinion/5010001/",
        "https://maghress.com/fr/LOPINION/05010001?utm_source=x#top",
    ):
        ref = maghress.article_ref(url)
        assert ref.url == "https://www.maghress.com/fr/lopinion/5010001"
        assert (ref.source, ref.maghress_id) == ("lopinion", 5010001)


def test_article_ref_rejects_other_pages():
    for url in ("https://www.maghress.com/fr/lopinion", "https://www.maghress.com/alittihad/2082123",
                "https://www.maghress.com/fr/lopinion/abc", "ftp://www.maghress.com/fr/lopinion/1"):
        assert maghress.article_ref(url) is None


def test_mirror_urls_keep_their_host():
    assert maghress.article_ref("http://127.0.0.1:8000/fr/lopinion/7").url == "http://127.0.0.1:8000/fr/lopinion/7"


# --- Maghress: listing and ticker ----------------------------------------------------


def test_listing_entries_are_the_sources_own_links_with_their_dates():
    page = fixture_page("/fr/lopinion")
    entries = maghress.listing_entries(page, page.url, "lopinion")
    assert [e.ref.maghress_id for e in entries] == [5010001, 5010002, 5010003, 5010004, 5010005]
    assert entries[1].headline.startswith("Effets post-Covid")
    assert "05 - 12 - 2025" in entries[1].date_text


def test_listing_with_absolute_links_and_a_text_pager():
    page = fixture_page("/fr/lopinion", "page=2")
    assert [e.ref.maghress_id for e in maghress.listing_entries(page, page.url, "lopinion")] == [5010006, 5010007, 5010008, 5010010]
    assert maghress.next_page(page, page.url) == f"{ORIGIN}/fr/lopinion?page=3"


def test_next_page_by_rel_next_and_none_on_the_last_page():
    first = fixture_page("/fr/lopinion")
    assert maghress.next_page(first, first.url) == f"{ORIGIN}/fr/lopinion?page=2"
    last = fixture_page("/fr/lopinion", "page=3")
    assert maghress.next_page(last, last.url) is None


def test_ticker_holds_every_source_relative_and_absolute():
    page = fixture_page("/fr/lopinion/5010002")
    refs = [e.ref for e in maghress.ticker_links(page, page.url)]
    assert [(r.source, r.maghress_id) for r in refs] == [
        ("lematin", 1234567), ("lopinion", 5010009), ("lopinion", 5010001), ("libe", 998877), ("lematin", 1234568)
    ]


def test_ticker_found_by_marquee_or_defil_container():
    for container in ('<marquee>{}</marquee>', '<div id="defilement">{}</div>', '<section class="news-marquee">{}</section>'):
        html = container.format('<a href="/fr/lopinion/42">x</a>')
        assert [(e.ref.maghress_id, e.headline) for e in maghress.ticker_links(sel(html), ORIGIN)] == [(42, "x")]


# --- Maghress: article fields ------------------------------------------------------------


def test_article_fields():
    page = fixture_page("/fr/lopinion/5010001")
    raw = maghress.parse_article(page, page.url)
    assert raw["url"] == f"{ORIGIN}/fr/lopinion/5010001"
    assert raw["maghress_id"] == 5010001 and raw["source"] == "lopinion"
    assert raw["title"].startswith("Dialogue Stratégique Maroc-USA : la coopération")
    assert raw["source_name"] == "L'opinion"
    assert raw["dates"] == ["26 - 01 - 2021"]
    assert raw["body"] == [
        "Nouvelle étape du Dialogue Stratégique entre le Maroc et les USA, celle-ci couvre cette fois la lutte contre la prolifération nucléaire et d'armes de destruction massive.",
        "L'intense activité diplomatique entre Rabat et Washington se poursuit.",
    ]
    assert raw["source_link"].startswith(f"{ORIGIN}{DIALOGUE}?utm_source=maghress")
    assert raw["_via"] == {"title": "span.articletitle", "body": "span.articlecontent"}


def test_article_without_source_link_and_byline_without_link():
    page = fixture_page("/fr/lopinion/5010002")
    raw = maghress.parse_article(page, page.url)
    assert raw["source_link"] == ""
    assert raw["source_name"] == "L'opinion" and raw["dates"] == ["05 - 12 - 2025"]
    assert len(raw["body"]) == 3  # <br><br> and <br> both split paragraphs


def test_title_falls_back_to_og_title_then_title_tag():
    page = fixture_page("/fr/lopinion/5010008")
    assert maghress.title(page) == ("L’«émanation» du peuple, contre le peuple - Maghress", "og:title")
    assert maghress.title(sel("<html><head><title>Un titre</title></head></html>")) == ("Un titre", "<title>")


def test_report_widget_is_never_body():
    html = '<span class="articlecontent"><p>Merci d\'avoir signalé!</p><p>Le vrai texte.</p></span>'
    assert maghress.body(sel(html))[0] == ["Le vrai texte."]


def test_source_link_found_by_attributes_when_its_text_changes():
    html = ('<span class="articlecontent"><p>x</p></span>'
            '<a href="https://www.lopinion.ma/a_a1.html" target="_blank" rel="nofollow">Lire la suite</a>')
    assert maghress.source_link(sel(html), ORIGIN) == "https://www.lopinion.ma/a_a1.html"


def test_source_link_ignores_non_http_schemes():
    html = '<a href="javascript:alert(1)">Cliquez ici pour lire l\'article depuis sa source.</a>'
    assert maghress.source_link(sel(html), ORIGIN) == ""


# --- lopinion.ma --------------------------------------------------------------------------


def test_publisher_fields_from_full_markup():
    page = fixture_page(DIALOGUE)
    raw = lopinion.PARSER.parse_article(page, page.url)
    assert raw["source_url"] == f"{ORIGIN}{DIALOGUE}"
    assert raw["title"].startswith("Dialogue Stratégique Maroc-USA")
    assert raw["lead"].startswith("Nouvelle étape du Dialogue Stratégique")
    assert len(raw["body"]) == 3 and "Légende" not in " ".join(raw["body"])
    assert raw["authors"] == ["Omar ASSIF"]
    assert raw["dates"][0] == "2021-01-26T18:30:00+01:00"
    assert raw["language"] == "fr"
    assert raw["image_url"] == f"{ORIGIN}/photo/art/grande/53871234-40512345.jpg?v=1611681000"


def test_publisher_body_leaves_out_read_also_links_whatever_the_parser():
    page = fixture_page(DIALOGUE)
    teaser = ('<p><strong>Lire aussi : <a href="/Le-Maroc-et-l-AIEA-renforcent-leur-cooperation_a12001.html">'
              "Le Maroc et l'AIEA renforcent leur coopération</a></strong></p>")
    html = page.text.replace('<div class="texte"><p>', f'<div class="texte">{teaser}<p>', 1)
    assert teaser in html
    raw = lopinion.PARSER.parse_article(page.replace(body=html.encode("utf-8")), page.url)
    assert len(raw["body"]) == 3 and not any("Lire aussi" in p for p in raw["body"])
    # A paragraph that only begins like one stays: the rest is not the text of a link.
    html = html.replace(teaser, "<p>Lire aussi : le communiqué conjoint des deux pays, publié ce matin.</p>")
    raw = lopinion.PARSER.parse_article(page.replace(body=html.encode("utf-8")), page.url)
    assert len(raw["body"]) == 4 and raw["body"][0].startswith("Lire aussi : le communiqué")


def test_publisher_body_paragraphs_split_where_blocks_start_and_end():
    page = fixture_page(DIALOGUE)
    # Text before an unclosed <p> (editors' markup) is a paragraph of its own; a tag that only begins with the
    # letters of one (<pre>, <link>) or a word between inline tags splits nothing.
    body = ('<div class="texte">Rabat, 26 janvier.<p>Premier paragraphe avec <em>un mot</em>.'
            "<p>Second paragraphe.<br>Une ligne.</p><pre>Ligne de code</pre> suite.<li>Un point</div>")
    html = page.text.split('<div class="texte">', 1)
    html = html[0] + body + html[1].split("</div>", 1)[1]
    raw = lopinion.PARSER.parse_article(page.replace(body=html.encode("utf-8")), page.url)
    assert raw["body"] == ["Rabat, 26 janvier.", "Premier paragraphe avec un mot.", "Second paragraphe.",
                           "Une ligne.", "Ligne de code suite.", "Un point"]


def test_publisher_byline_gives_authors_and_date():
    page = fixture_page("/Agriculture-Ces-ravageurs-qui-grignotent-notre-souverainete-alimentaire_a22931.html")
    assert lopinion.PARSER.field("authors", page) == (["Bilal OUHAMMOU et Sara ZAIRI"], lopinion.BYLINE_AUTHORS[0])
    assert lopinion.PARSER.field("dates", page) == ["2024-03-27T09:15:00", "Mercredi 27 Mars 2024"]


def test_publisher_json_ld_graph_and_image_object():
    page = fixture_page("/Khamssa-w-Khmiss-Jaylann-le-retour-manifeste_a22940.html")
    raw = lopinion.PARSER.parse_article(page, page.url)
    assert raw["authors"] == ["Safaa KSAANI"] and raw["dates"] == ["2025-12-10T11:00:00Z"]
    assert raw["image_url"] == f"{ORIGIN}/photo/art/grande/9001-9002.jpg?v=1765364400"


def test_publisher_body_falls_back_to_json_ld_article_body():
    page = fixture_page("/L-emanation-du-peuple-contre-le-peuple_a22948.html")
    body, via = lopinion.PARSER.field("body", page)
    assert via == "json-ld articleBody" and len(body) == 2
    assert lopinion.PARSER.field("title", page)[1] == "og:title"


def test_publisher_english_edition():
    page = fixture_page("/Sahara-autonomy-discussions-revive-appeals_a22952.html")
    raw = lopinion.PARSER.parse_article(page, page.url)
    assert raw["language"] == "en" and raw["authors"] == ["A.K"] and raw["dates"] == ["24/11/2024 at 12h06"]


def test_publisher_page_with_empty_body_gives_no_body():
    page = fixture_page("/CA-FIFA-25-Retour-en-video_a22955.html")
    assert lopinion.PARSER.field("body", page) == (None, "")


def test_broken_json_ld_is_ignored():
    page = sel('<html lang="fr"><script type="application/ld+json">{not json</script><div class="titre"><h1>T</h1></div></html>')
    assert lopinion.PARSER.parse_article(page, ORIGIN)["title"] == "T"


# --- Other publishers and the generic extractor: the fallbacks golden pages do not show ---------------


def test_lematin_reads_the_printed_byline_and_date_without_metadata():
    from newscrawl.extract.sites import lematin

    page = sel('<article><h1>Titre</h1><span class="article-author">Par <a href="/a">Rim Battal</a></span>'
               '<span class="article-date">Publié le 22/02/2026 à 09h30</span></article>')
    assert lematin.PARSER.field("title", page) == ("Titre", "article h1")
    assert lematin.PARSER.field("authors", page) == (["Rim Battal"], lematin.PRINTED_AUTHOR[0])
    assert lematin.PARSER.field("dates", page) == ["22/02/2026 à 09h30"]


def test_aujourdhui_body_leaves_out_plugin_blocks_and_the_lead():
    from newscrawl.extract.sites import aujourdhui

    page = sel('<div class="entry-content"><p class="chapo">Chapô.</p><p>Un.</p>'
               '<div class="sharedaddy">Partager : Facebook</div><h2>Intertitre</h2><p>Deux.</p>'
               '<div class="jp-relatedposts">Articles similaires</div></div>')
    assert aujourdhui.PARSER.field("body", page) == (["Un.", "Intertitre", "Deux."], aujourdhui.CONTENT[0])
    assert aujourdhui.PARSER.field("lead", page)[0] == "Chapô."


def test_generic_title_drops_the_site_name_but_not_hyphens():
    from newscrawl.extract.sites import generic

    from scrapy.http import HtmlResponse

    def title(text: str, url: str, site: str = "") -> str:
        head = f'<meta property="og:site_name" content="{site}">' if site else ""
        html = f"<html><head>{head}<title>{text}</title></head><body></body></html>"
        return generic.title(HtmlResponse(url=url, body=html.encode(), encoding="utf-8"))[0]

    # The site's name is known from the page (og:site_name) or its host; only it is cut.
    assert title("Le Parlement adopte la loi | Libération", "https://www.libe.ma/a1.html") == "Le Parlement adopte la loi"
    assert title("Sécheresse : les barrages à 31 % – Le Reporter", "https://x.ma/a.html", "Le Reporter") == \
        "Sécheresse : les barrages à 31 %"
    assert title("Dialogue Maroc-USA : la coopération", "https://www.libe.ma/a2.html") == "Dialogue Maroc-USA : la coopération"
    assert title("Sécheresse : les barrages à 31 % – l'état d'urgence", "https://x.ma/a.html", "Le Reporter") == \
        "Sécheresse : les barrages à 31 % – l'état d'urgence"


def test_generic_body_drops_the_heading_trafilatura_keeps():
    from newscrawl.extract.sites import generic

    paragraphs = " ".join(f"<p>Phrase numéro {i} d'un article assez long pour être retenu par l'extracteur.</p>"
                          for i in range(6))
    page = sel(f"<html><body><nav><a href='/'>Accueil</a></nav><article><h1>Le titre</h1>{paragraphs}"
               "</article><footer>© Journal</footer></body></html>")
    found, via = generic.body(page)
    assert via == "trafilatura" and found[0].startswith("Phrase numéro 0") and len(found) == 6


# --- shared helpers: the site's name, headlines -------------------------------------------------------


def test_site_name_is_cut_from_titles_in_the_forms_sites_use():
    from newscrawl.extract.sites.common import _name_key, without_site_name

    golem, dw = {"golemde", "golem"}, {"dwcom", "dw", "deutschewelle"}
    assert without_site_name("Akkutechnik: Hat Quantumscape genug Akkus gebaut? - Golem.de", golem) == \
        "Akkutechnik: Hat Quantumscape genug Akkus gebaut?"
    assert without_site_name("Russland-Wahl: Nadeschdin setzt auf ein Ende der Putin-Ära – DW – 30.01.2024", dw) == \
        "Russland-Wahl: Nadeschdin setzt auf ein Ende der Putin-Ära"
    assert without_site_name("南海トラフ、一時調査 巨大地震：中日新聞Web", {_name_key("中日新聞Web")}) == "南海トラフ、一時調査 巨大地震"
    assert without_site_name("정치 신화\"-정치ㅣ한국일보", {_name_key("한국일보")}) == "정치 신화\""
    assert without_site_name("Le Parlement adopte la loi de finances | Libération", {"libema", "libe"}) == \
        "Le Parlement adopte la loi de finances"
    assert without_site_name("L'Opinion | Les Lions qualifiés", {"lopinion", "lopinionma"}) == "Les Lions qualifiés"
    # What is not the site's name stays: a second title part, a hyphenated word, a name that merely starts alike.
    assert without_site_name("Samsung Unpacked: Launchtermin – das erwarten wir", {"gamestar"}) == \
        "Samsung Unpacked: Launchtermin – das erwarten wir"
    assert without_site_name("Dialogue Maroc-USA : la coopération", {"lopinion"}) == "Dialogue Maroc-USA : la coopération"
    assert without_site_name("Basketball - Dwight Howard", dw) == "Basketball - Dwight Howard"


def test_site_keys_come_from_the_page_and_its_host():
    from newscrawl.extract.sites.common import site_keys

    page = sel('<html><head><meta property="og:site_name" content="Le Quotidien de Rabat">'
               '<script type="application/ld+json">{"@type": "NewsArticle", "publisher": {"name": "QR Médias"}}</script>'
               '</head></html>')
    assert site_keys(page, "https://www.quotidienrabat.co.ma/a.html") >= {"lequotidienderabat", "qrmedias", "quotidienrabat"}
