"""Pages built to hurt: generated, not hand-picked, so that a parser meets every shape at a size that matters.

``hostile_pages()`` returns ``{name: html}``. Each page puts one hostile
*payload* (a long comment full of tag starts, thousands of unclosed tags,
100,000-deep nesting, a megabyte attribute, a line without a space, JSON-LD
whose fields are lists, numbers, nulls or 100,000 levels deep, …) into every
place a parser of this project reads: the Maghress title, byline and body
spans, each publisher parser's title, lead, byline and body containers,
``<title>``, the meta tags and the JSON-LD. A parser whose cost grows with
the square of such a payload takes minutes on it; a linear one, well under a
second.
"""

from __future__ import annotations

import json

#: Characters of each payload: large enough that a quadratic path costs minutes, small enough for a test.
SIZE = 150_000


def _repeat(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit))


def _deep_json(size: int) -> str:
    depth = size // 2
    return "[" * depth + "]" * depth


def _deep_graph(depth: int) -> str:
    """A valid JSON-LD document whose article sits ``depth`` levels of ``@graph`` down (written as text: the
    json module itself cannot encode that depth)."""
    return '{"@graph": [' * depth + '{"@type": "NewsArticle", "headline": "deep"}' + "]}" * depth


def payloads(size: int = SIZE) -> dict[str, dict[str, str]]:
    """Per payload: ``text`` (markup placed in the page's text containers), and optionally ``attr`` (a value
    placed in every meta tag's content, escaped), ``jsonld`` (a whole JSON-LD block)."""
    odd_values = [[], ["a", "b"], 1, 1.5, None, True, {"@value": 3}, [[["x"]]], {"name": ["x"]}]
    weird_jsonld = json.dumps([{"@type": t, "headline": v, "datePublished": v, "dateModified": v, "author": v,
                                "articleBody": v, "image": v, "inLanguage": v, "description": v,
                                "publisher": v, "mainEntity": v}
                               for t in ("NewsArticle", ["NewsArticle"], 7, None) for v in odd_values])
    return {
        "comment_of_tag_starts": {"text": "<!-- " + _repeat("<figure ", size) + " -->",
                                  "attr": "<!-- " + _repeat("<figure ", size)},
        "unclosed_comments": {"text": _repeat("x<!--", size // 4), "attr": _repeat("<!--", size)},
        "unclosed_tags": {"text": _repeat("<div><p><span><b>", size), "attr": _repeat("<p ", size)},
        "deep_nesting": {"text": "<div>" * (size // 5) + "deep" + "</div>" * (size // 5)},
        "word_without_space": {"text": "a" * size, "attr": "a" * size},
        "escaped_tag_starts": {"text": _repeat("&lt;p &lt;!-- &lt;script ", size),
                               "attr": _repeat("&lt;p &lt;!-- &lt;script ", size)},
        "bylines": {"text": _repeat("Publié dans a ", size // 3) + _repeat("Rédigé par by ", size // 3)
                    + _repeat("by le on ", size // 3),
                    "attr": _repeat("Publié dans a le ", size)},
        "digits": {"text": _repeat("26 - 01 - 2", size // 2) + _repeat("1 ", size // 2),
                   "attr": _repeat("2025-", size // 2) + _repeat("9 décembre ", size // 2)},
        "spaces_and_separators": {"text": _repeat(" | - ", size), "attr": _repeat(" - | ", size)},
        "scripts_unclosed": {"text": _repeat("<script>x", size // 2) + _repeat("<style>y", size // 2)},
        "many_links": {"text": "".join(f'<li><a href="/fr/lopinion/{i}">Lire aussi : un titre de plus {i}</a></li>'
                                       for i in range(size // 300))},
        "megabyte_attribute": {"text": '<a href="/' + "x" * (size * 6) + '">lien</a><img src="' + "y" * (size * 6) + '">',
                               "attr": "z" * (size * 6)},
        "jsonld_odd_types": {"text": "texte", "jsonld": weird_jsonld},
        "jsonld_deep_list": {"text": "texte", "jsonld": _deep_json(size)},
        "jsonld_deep_graph": {"text": "texte", "jsonld": _deep_graph(size // 20)},
    }


def _escape_attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def page(payload: dict[str, str]) -> str:
    """A page holding ``payload`` wherever a parser of the project looks."""
    text = payload.get("text", "")
    attr = _escape_attr(payload.get("attr", "valeur"))
    jsonld = payload.get("jsonld") or json.dumps({"@type": "NewsArticle", "headline": text[:5000],
                                                  "datePublished": text[:5000], "articleBody": text[:5000],
                                                  "author": {"name": text[:5000]}})
    metas = "".join(f'<meta property="{name}" content="{attr}">' for name in (
        "og:title", "og:description", "og:url", "og:image", "og:site_name", "article:published_time", "twitter:title"))
    metas += f'<meta name="author" content="{attr}"><meta name="date" content="{attr}">'
    return (
        f'<!DOCTYPE html><html lang="fr"><head><title>{text}</title>{metas}'
        f'<link rel="canonical" href="{attr}">'
        f'<script type="application/ld+json">{jsonld}</script></head><body>'
        f'<div class="ticker"><ul><li><a href="/fr/lematin/1">{text}</a></li></ul></div>'
        f'<div class="col-md-12"><h1><span class="articletitle">{text}</span></h1>'
        f'<span class="articlenewspaper">Publié dans <a href="/fr/lopinion">{text}</a> le {text}</span>'
        f'<span class="articlecontent"><p>{text}</p></span>'
        f'<a href="/{attr}" rel="nofollow" target="_blank">Cliquez ici pour lire l\'article depuis sa source.</a></div>'
        f'<div id="z_col1"><div class="titre"><h1>{text}</h1></div><div class="chapeau"><h3>{text}</h3></div>'
        f'<div>Rédigé par {text} le {text}</div><div class="texte"><p>{text}</p></div></div>'
        f'<article><h1 class="article-title">{text}</h1><p class="article-desc">{text}</p>'
        f'<div class="article-body"><p>{text}</p></div></article>'
        f'<h1 class="entry-title">{text}</h1><time class="entry-date published" datetime="{attr}">{text}</time>'
        f'<div class="entry-content"><p class="chapo">{text}</p><p>{text}</p></div>'
        f'<a rel="next" href="/fr/lopinion?page={attr}">Suivant</a>'
        "</body></html>"
    )


def hostile_pages(size: int = SIZE) -> dict[str, str]:
    """Every payload in a page of its own: ``{name: html}``."""
    return {name: page(payload) for name, payload in payloads(size).items()}
