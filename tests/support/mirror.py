"""A generated mirror of Maghress's L'Opinion section and its publisher pages, of any size.

For benchmarks and scale tests: N articles laid out as the real sites are
(listing pages of 20 with pagination, the headline ticker on every page,
Maghress article pages with realistic body sizes and distinct texts drawn
from a vocabulary of thousands of words, one publisher page per article),
written as a fixture site directory that ``FixtureServer`` serves.

    python -m tests.support.mirror /tmp/mirror 2000
"""

from __future__ import annotations

import html
import itertools
import json
import random
import sys
from datetime import date, timedelta
from pathlib import Path

FIRST_ID = 7_000_001
PER_PAGE = 20

_WORDS = (
    "Maroc gouvernement projet développement économie royaume ministre réforme secteur croissance "
    "investissement région Casablanca Rabat Tanger Marrakech agriculture eau énergie renouvelable "
    "tourisme éducation santé emploi jeunes femmes entreprise exportation port industrie automobile "
    "phosphate Sahara autonomie diplomatie Afrique partenariat coopération Union européenne "
    "Parlement loi budget finances inflation Bank Al-Maghrib dirham marché Bourse banque crédit "
    "culture festival cinéma musique football Lions Atlas Coupe championnat stade supporters"
).split()


_SYLLABLES = ("ma", "ro", "ca", "te", "li", "ne", "sa", "bou", "ra", "di", "mi", "tion", "que", "men", "par", "lo",
              "gi", "fa", "ver", "tra", "con", "ment", "ité", "eur", "al", "ain", "ou", "ben", "zi", "ha")


def _vocabulary(size: int = 6000) -> list[str]:
    """The words of the mirror's texts: the news words above first, then made-up words of two to four
    syllables, so that bodies share the frequent words and differ in the rare ones, as real articles do."""
    rng = random.Random(20251210)
    words = list(dict.fromkeys(_WORDS))
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


_VOCABULARY = _vocabulary()
# Zipf's law: the word of rank r is used in proportion to 1/r.
_CUMULATIVE = list(itertools.accumulate(1 / rank for rank in range(1, len(_VOCABULARY) + 1)))


def _words(rng: random.Random, count: int) -> list[str]:
    return rng.choices(_VOCABULARY, cum_weights=_CUMULATIVE, k=count)


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(_words(rng, words))
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng, rng.randint(12, 24)) for _ in range(rng.randint(3, 5)))


def _page(title: str, body: str, ticker: bool = True, head: str = "") -> str:
    return (
        f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">{head}<title>{html.escape(title)}</title></head>'
        f"<body><div class=\"header\"><a href=\"/fr\">Maghress</a></div>{'{{TICKER}}' if ticker else ''}"
        f'<div class="col-md-12">{body}</div></body></html>'
    )


# Listing links name an article in the forms real pages use: relative, with a slug, with a query, or
# absolute on the production host. The crawl must see one article in each.
_LINK_FORMS = (
    "/fr/lopinion/{id}",
    "/fr/lopinion/{id}-titre-de-l-article",
    "/fr/lopinion/{id}?utm_source=maghress",
    "http://maghress.com/fr/lopinion/{id}",
)


def _link(maghress_id: int, rank: int) -> str:
    return _LINK_FORMS[rank % len(_LINK_FORMS)].format(id=maghress_id)


_SCRIPTED_BODY = (
    '<div class="texte"></div><noscript>Activez JavaScript pour lire cet article.</noscript>'
    "<script>document.addEventListener('DOMContentLoaded',function(){{"
    "document.querySelector('div.texte').innerHTML={html};}});</script>"
)


def generate(root: str | Path, n: int, seed: int = 1965, scripted: bool = False, today: date = date(2025, 12, 10),
             per_day: int = 15) -> list[int]:
    """Write a mirror of ``n`` articles under ``root``; return their Maghress ids, newest first.

    ``scripted``: publisher pages insert their body with JavaScript (for rendering benchmarks); ``today``: the
    newest articles' day, ``per_day`` articles a day before it.
    """
    rng = random.Random(seed)
    root = Path(root)
    (root / "fr" / "lopinion").mkdir(parents=True, exist_ok=True)
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
    ids = [FIRST_ID + n - 1 - i for i in range(n)]  # newest first, as listings are
    articles = []
    for rank, maghress_id in enumerate(ids):
        day = today - timedelta(days=rank // per_day)
        title = " ".join(_words(rng, rng.randint(6, 12))).capitalize()
        title = f"{title} : {_words(rng, 1)[0]} {maghress_id % 1000}"
        paragraphs = [_paragraph(rng) for _ in range(rng.randint(4, 8))]
        slug = f"Article-{maghress_id}_a{maghress_id - FIRST_ID + 40000}.html"
        articles.append((maghress_id, day, title, paragraphs, slug))

    ticker = "".join(
        f'<li><a href="/fr/lopinion/{a[0]}">{html.escape(a[2])}</a></li>' for a in articles[:8]
    ) + '<li><a href="/fr/lematin/1234567">Bourse de Casablanca : ouverture dans le vert</a></li>'
    (root / "_ticker.html").write_text(f'<div class="ticker"><ul>{ticker}</ul></div>', "utf-8")

    pages = (n + PER_PAGE - 1) // PER_PAGE
    for page in range(1, pages + 1):
        chunk = articles[(page - 1) * PER_PAGE : page * PER_PAGE]
        items = "".join(
            f'<li><a href="{_link(a[0], rank)}">{html.escape(a[2])}</a> '
            f'<span class="date">Publié le {a[1]:%d - %m - %Y}</span></li>'
            for rank, a in enumerate(chunk)
        )
        pager = f'<a rel="next" href="/fr/lopinion?page={page + 1}">Suivant</a>' if page < pages else ""
        name = "index.html" if page == 1 else f"index@page={page}.html"
        (root / "fr" / "lopinion" / name).write_text(_page("L'opinion - Maghress", f"<ul>{items}</ul>{pager}"), "utf-8")

    for maghress_id, day, title, paragraphs, slug in articles:
        # Maghress carries most of the text; the publisher page has it all, plus lead, author and time.
        shown = paragraphs[: max(2, len(paragraphs) - 1)]
        body = "".join(f"<p>{html.escape(p)}</p>" for p in shown)
        maghress = (
            f'<h1><span class="articletitle">{html.escape(title)}</span></h1>'
            f'<span class="articlenewspaper">Publié dans <a href="/fr/lopinion">L\'opinion</a> le {day:%d - %m - %Y}</span>'
            f'<span class="articlecontent">{body}</span>'
            f'<a href="{{{{ORIGIN}}}}/{slug}" target="_blank" rel="nofollow">Cliquez ici pour lire l\'article depuis sa source.</a>'
        )
        # As a real mirror does, the page names the production host as its canonical URL.
        canonical = f'<link rel="canonical" href="https://www.maghress.com/fr/lopinion/{maghress_id}">'
        (root / "fr" / "lopinion" / f"{maghress_id}.html").write_text(_page(title, maghress, head=canonical), "utf-8")
        hour, minute = rng.randint(6, 22), rng.randint(0, 59)
        publisher = (
            f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<link rel="canonical" href="{{{{ORIGIN}}}}/{slug}">'
            f'<meta property="og:image" content="{{{{ORIGIN}}}}/photo/art/grande/{maghress_id}-1.jpg?v=1">'
            f'<meta property="article:published_time" content="{day.isoformat()}T{hour:02d}:{minute:02d}:00+01:00">'
            f"</head><body><div id=\"z_col1\"><div class=\"titre\"><h1>{html.escape(title)}</h1></div>"
            f'<div class="access">Rédigé par {rng.choice(["Omar ASSIF", "Safaa KSAANI", "Amine ZIANI"])} '
            f"le {day:%d/%m/%Y}</div>"
            f'<div class="chapeau"><h3>{html.escape(_sentence(rng, 20))}</h3></div>'
            + (_SCRIPTED_BODY.format(html=json.dumps("".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)))
               if scripted else f'<div class="texte">{"".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)}</div>')
            + "</div></body></html>"
        )
        (root / slug).write_text(publisher, "utf-8")
    return ids


if __name__ == "__main__":
    generate(sys.argv[1], int(sys.argv[2]))
