"""Datasette plugin of ``newscrawl serve``: the search's SQL functions, its snippets, and the plot page."""

from __future__ import annotations

import html
from collections import defaultdict
from datetime import date

from datasette import hookimpl
from datasette.utils.asgi import Response
from markupsafe import Markup

from newscrawl.normalize.stemming import QueryError, SearchQuery, snippet

_MARK = ("\x02", "\x03")  # around the words found, in a snippet; made <mark> when the cell is rendered
_NOTHING = '"newscrawl0nothing0"'  # an FTS5 query that matches no article (an empty search box)
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def _match(query: str | None, in_title: bool = False) -> str:
    try:
        return SearchQuery.parse(query or "").fts5(in_title=in_title)
    except QueryError:
        return _NOTHING


def _title_match(query: str | None) -> str:
    return _match(query, in_title=True)


def _snippet(body: str | None, query: str | None) -> str:
    try:
        return snippet(body, SearchQuery.parse(query or ""), mark=_MARK)
    except QueryError:
        return ""


@hookimpl
def prepare_connection(conn):
    conn.create_function("newscrawl_match", 1, _match, deterministic=True)
    conn.create_function("newscrawl_title_match", 1, _title_match, deterministic=True)
    conn.create_function("newscrawl_snippet", 2, _snippet, deterministic=True)


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if column == "snippet" and isinstance(value, str):
        marked = html.escape(value).replace(_MARK[0], "<mark>").replace(_MARK[1], "</mark>")
        return Markup(marked)
    if column == "title" and table is None and row is not None and "id" in row.keys():
        # The search's results: the title links to the article's page.
        path = datasette.urls.row(database, "articles", str(row["id"]))
        return Markup(f'<a href="{html.escape(path)}">{html.escape(str(value))}</a>')
    return None


@hookimpl
def register_routes():
    return [(r"^/-/plot$", plot)]


async def plot(datasette, request):
    """Articles per day per source, as an SVG line chart (no script: it renders anywhere)."""
    db = datasette.get_database("archive")
    rows = (await db.execute(
        "select published_date, coalesce(source, '?') as source, count(*) as n from articles "
        "where published_date is not null group by published_date, source order by published_date")).rows
    series: dict[str, dict[date, int]] = defaultdict(dict)
    for day, source, n in rows:
        try:
            series[source][date.fromisoformat(str(day)[:10])] = n
        except ValueError:
            continue
    svg = _svg(series)
    body = await datasette.render_template("plot.html", {"svg": Markup(svg), "sources": sorted(series),
                                                         "total": sum(n for _, _, n in rows)}, request=request)
    return Response.html(body)


def _svg(series: dict[str, dict[date, int]], width: int = 900, height: int = 360, pad: int = 40) -> str:
    days = sorted({d for counts in series.values() for d in counts})
    if not days:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"></svg>'
    first, span = days[0], max(1, (days[-1] - days[0]).days)
    top = max(n for counts in series.values() for n in counts.values())

    def x(day: date) -> float:
        return pad + (width - 2 * pad) * (day - first).days / span

    def y(n: int) -> float:
        return height - pad - (height - 2 * pad) * n / top

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="Articles per day per source">',
             f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#888"/>',
             f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#888"/>',
             f'<text x="{pad}" y="{height - 10}" font-size="12">{first.isoformat()}</text>',
             f'<text x="{width - pad}" y="{height - 10}" font-size="12" text-anchor="end">{days[-1].isoformat()}</text>',
             f'<text x="5" y="{pad}" font-size="12">{top}</text>']
    for i, (source, counts) in enumerate(sorted(series.items())):
        colour = _COLOURS[i % len(_COLOURS)]
        points = " ".join(f"{x(d):.1f},{y(n):.1f}" for d, n in sorted(counts.items()))
        parts.append(f'<polyline data-source="{html.escape(source)}" fill="none" stroke="{colour}" '
                     f'stroke-width="2" points="{points}"/>')
        parts += [f'<circle cx="{x(d):.1f}" cy="{y(n):.1f}" r="3" fill="{colour}"><title>{html.escape(source)} '
                  f'{d.isoformat()}: {n}</title></circle>' for d, n in sorted(counts.items())]
        parts.append(f'<text x="{width - pad + 4}" y="{pad + 16 * i}" font-size="12" fill="{colour}">'
                     f'{html.escape(source)}</text>')
    parts.append("</svg>")
    return "".join(parts)
