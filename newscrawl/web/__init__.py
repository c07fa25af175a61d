"""``newscrawl serve``: the archive in a web browser, through Datasette (the ``web`` extra).

Everything Datasette is given is in this package: ``metadata.json`` (the title, the articles table's facets,
the hidden internal tables, the search as a canned query), ``templates/`` (the front page with the search
box, an article's page) and ``plugins/newscrawl_web.py`` (the search's SQL functions, its snippets, the
plot of articles per day per source at ``/-/plot``). The database is served under the name ``archive``,
whatever its file is called, read-only: no write is possible through the web view.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
DATABASE_NAME = "archive"


def app(database: Path):
    """The Datasette application of ``database`` (a SQLite file of the store)."""
    from datasette.app import Datasette
    from datasette.database import Database

    datasette = Datasette(
        metadata=json.loads((HERE / "metadata.json").read_text("utf-8")),
        template_dir=str(HERE / "templates"),
        plugins_dir=str(HERE / "plugins"),
        settings={"default_page_size": 50, "sql_time_limit_ms": 3000},
    )
    # Read-only (is_mutable=False would promise a file that never changes; a crawl may be writing to it).
    datasette.add_database(Database(datasette, path=str(database), is_mutable=True), name=DATABASE_NAME)
    return datasette


def serve(database: Path, host: str = "127.0.0.1", port: int = 8001) -> int:
    """Serve ``database`` until interrupted."""
    import uvicorn

    datasette = app(database)
    print(f"newscrawl serve: {database} at http://{host}:{port}/ (Ctrl-C stops it)", flush=True)
    uvicorn.run(datasette.app(), host=host, port=port, log_level="warning")
    return 0
