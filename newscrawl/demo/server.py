"""A site directory served on 127.0.0.1: the offline demo's copy of Maghress and its publishers.

A *site directory* holds pages as files. A URL maps to a file by its path
and query: ``/fr/lopinion`` -> ``fr/lopinion/index.html``,
``/fr/lopinion?page=2`` -> ``fr/lopinion/index@page=2.html``,
``/fr/lopinion/5010001`` -> ``fr/lopinion/5010001.html``; a path with an
extension is served as it is. In text files ``{{ORIGIN}}`` becomes the
server's ``http://host:port`` and ``{{TICKER}}`` the content of
``_ticker.html``. ``_routes.json`` gives some paths another answer::

    {"/go/12": {"redirect": "/Article_a12.html", "status": 302},
     "/Broken_a13.html": {"status": 500},
     "/fr/lopinion/5010007": {"charset": "windows-1252"},
     "/Lying_a19.html": {"charset": "windows-1252", "declare_charset": "utf-8"},
     "/Dated_a20.html": {"last_modified": "Sat, 05 Dec 2026 10:00:00 GMT"},
     "/Plain_a21.html": {"validators": false}}

A page answers with an ``ETag`` of its bytes (or the route's ``Last-Modified``), and 304 Not Modified to a
request that names it, as web servers do.

Every request is recorded (``server.requests``), so a run can say what it
fetched. (The tests' server, ``tests/support/fixtureserver.py``, adds injected
faults: resets, truncation, delays, binary bodies.)

    python -m newscrawl.demo.server newscrawl/demo/site --port 8000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import mimetypes
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit


class SiteDirectory:
    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        routes = self.root / "_routes.json"
        self.routes: dict[str, dict] = json.loads(routes.read_text("utf-8")) if routes.exists() else {}
        ticker = self.root / "_ticker.html"
        self.ticker = ticker.read_text("utf-8") if ticker.exists() else ""

    def file_for(self, path: str, query: str) -> Path | None:
        relative = path.strip("/")
        candidate = self.root / relative
        if candidate.is_dir() or not relative:
            candidate = candidate / "index"
        if not candidate.suffix:
            candidate = candidate.with_name(candidate.name + (f"@{query}" if query else "") + ".html")
        candidate = candidate.resolve()
        if self.root not in candidate.parents or not candidate.is_file() or candidate.name.startswith("_"):
            return None
        return candidate


class SiteHandler(BaseHTTPRequestHandler):
    """Answers from the site directory. Subclasses change an answer in ``route_for``, ``before_answer`` and
    ``send_page``."""

    server: SiteServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # the request log is self.server.requests

    def setup(self):
        super().setup()
        # Without this, Nagle's algorithm and delayed ACKs hold each keep-alive answer ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_GET(self, head: bool = False):
        parts = urlsplit(self.path)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        hit = self.server.record(target)
        site = self.server.site
        route = self.route_for(target, parts.path, hit)
        if self.before_answer(route, head):
            return
        if "redirect" in route:
            location = self.server.fill(route["redirect"])
            return self.send(route.get("status", 302), b"", "text/html", head, {"Location": location})
        status = int(route.get("status", 200))
        file = site.file_for(parts.path, parts.query)
        if file is None:
            if status == 200:
                return self.send(404, b"<html><body>Not found</body></html>", "text/html; charset=utf-8", head)
            return self.send(status, f"<html><body>Error {status}</body></html>".encode(), "text/html", head)
        content_type = route.get("content_type") or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        body = file.read_bytes()
        if content_type.startswith("text/") or file.suffix in (".html", ".txt", ".xml", ".json"):
            charset = route.get("charset", "utf-8")
            body = self.server.fill(body.decode("utf-8")).encode(charset, errors="xmlcharrefreplace")
            if "charset" not in content_type:
                content_type += f"; charset={route.get('declare_charset', charset)}"
        self.send_page(target, route, status, body, content_type, head)

    def route_for(self, target: str, path: str, hit: int) -> dict:
        """How ``_routes.json`` says to answer this request (``hit``: how many times its target was asked)."""
        routes = self.server.site.routes
        return routes.get(target) or routes.get(path) or {}

    def before_answer(self, route: dict, head: bool) -> bool:
        """A chance to answer otherwise before the page is read; ``True`` when it did."""
        return False

    def send_page(self, target: str, route: dict, status: int, body: bytes, content_type: str, head: bool) -> None:
        self.send_validated(status, body, content_type, head, route)

    def send_validated(self, status: int, body: bytes, content_type: str, head: bool, route: dict | None = None) -> None:
        """A page with a validator, as web servers send them: an ``ETag`` of its bytes (a route's
        ``"last_modified"``: that ``Last-Modified`` date instead; ``"validators": false``: none). A request that
        names the page's validator (``If-None-Match``, ``If-Modified-Since``) gets 304 Not Modified, no body."""
        route = route or {}
        if status != 200 or route.get("validators") is False:
            return self.send(status, body, content_type, head)
        if route.get("last_modified"):
            headers = {"Last-Modified": route["last_modified"]}
            unchanged = self.headers.get("If-Modified-Since") == route["last_modified"]
        else:
            headers = {"ETag": f'"{hashlib.sha1(body).hexdigest()[:20]}"'}
            unchanged = self.headers.get("If-None-Match") == headers["ETag"]
        if unchanged:
            return self.send(304, b"", content_type, True, headers)
        self.send(status, body, content_type, head, headers)

    def send(self, status: int, body: bytes, content_type: str, head: bool, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        # Headers and body in one write (end_headers would flush the headers alone).
        self._headers_buffer.append(b"\r\n")
        if not head:
            self._headers_buffer.append(body)
        self.flush_headers()


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    handler_class: type[SiteHandler] = SiteHandler

    def __init__(self, root: str | Path, host: str = "127.0.0.1", port: int = 0,
                 variables: dict[str, str] | None = None):
        self.site = SiteDirectory(root)
        self.variables = variables or {}  # more {{NAME}} placeholders to fill in (e.g. another server's origin)
        self.requests: list[str] = []  # "path?query" of every request, in order
        self.hits: dict[str, int] = {}
        self.first_request_at: float | None = None  # time.time() of the first request (start-up benchmarks)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        super().__init__((host, port), self.handler_class)

    @property
    def origin(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def fill(self, text: str) -> str:
        """``text`` with its placeholders filled in: ``{{TICKER}}``, ``{{ORIGIN}}``, ``variables``."""
        text = text.replace("{{TICKER}}", self.site.ticker).replace("{{ORIGIN}}", self.origin)
        for name, value in self.variables.items():
            text = text.replace("{{" + name + "}}", value)
        return text

    def record(self, target: str) -> int:
        with self._lock:
            if self.first_request_at is None:
                self.first_request_at = time.time()
            self.requests.append(target)
            self.hits[target] = self.hits.get(target, 0) + 1
            return self.hits[target]

    def counts(self) -> Counter:
        with self._lock:
            return Counter(self.requests)

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()
            self.hits.clear()
            self.first_request_at = None

    def start(self):
        self._thread = threading.Thread(target=self.serve_forever, name="site-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None, server_class: type[SiteServer] = SiteServer) -> None:
    parser = argparse.ArgumentParser(description=f"Serve a site directory on 127.0.0.1 ({server_class.__name__}).")
    parser.add_argument("root", help="the site directory (e.g. newscrawl/demo/site)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    server = server_class(args.root, args.host, args.port)
    print(server.origin, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
