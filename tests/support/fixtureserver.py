"""A local copy of Maghress and its publishers, served on 127.0.0.1 for the demo and the tests.

A *site directory* holds pages as files. A URL maps to a file by its path
and query: ``/fr/lopinion`` -> ``fr/lopinion/index.html``,
``/fr/lopinion?page=2`` -> ``fr/lopinion/index@page=2.html``,
``/fr/lopinion/5010001`` -> ``fr/lopinion/5010001.html``; a path with an
extension is served as it is. In text files ``{{ORIGIN}}`` becomes the
server's ``http://host:port`` and ``{{TICKER}}`` the content of
``_ticker.html``. ``_routes.json`` gives some paths another behaviour, faults included::

    {"/go/12": {"redirect": "/Article_a12.html", "status": 302},
     "/Broken_a13.html": {"status": 500},
     "/fr/lopinion/5010007": {"charset": "windows-1252"},
     "/Flaky_a14.html": {"status": 503, "fail_times": 2},     # 503 twice, then the page
     "/Reset_a15.html": {"reset": true, "fail_times": 1},     # connection reset once
     "/Short_a16.html": {"truncate": true},                   # fewer bytes than Content-Length
     "/Slow_a17.html": {"delay": 5},                          # beyond a short DOWNLOAD_TIMEOUT
     "/Big_a18.html": {"pad_bytes": 3000000},                 # over DOWNLOAD_MAXSIZE
     "/Lying_a19.html": {"charset": "windows-1252", "declare_charset": "utf-8"},
     "/Noise_a20.html": {"binary": 4096, "content_type": "text/html"},
     "/Empty_a21.html": {"empty": true}}

A fault with ``fail_times`` applies to that many requests, then the path
behaves normally (a transient fault); without it, to every request.

Every request is recorded (``server.requests``) so tests can assert what
a crawl fetched, and how often.

    python -m tests.support.fixtureserver tests/site --port 8000
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import random
import socket
import struct
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit


class FixtureSite:
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


class FixtureServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, root: str | Path, host: str = "127.0.0.1", port: int = 0, delay: float = 0.0,
                 cache: bool = False, variables: dict[str, str] | None = None):
        self.site = FixtureSite(root)
        self.variables = variables or {}  # more {{NAME}} placeholders to fill in (e.g. another server's origin)
        self.delay = delay  # seconds before every answer: a slow site, for crash tests
        # Serve from memory (benchmarks): each page is read and filled in once. Off when tests edit the site.
        self.cache: dict[str, tuple[int, bytes, str]] | None = {} if cache else None
        self.requests: list[str] = []  # "path?query" of every request, in order
        self.hits: dict[str, int] = {}
        self.first_request_at: float | None = None  # time.time() of the first request (start-up benchmarks)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        super().__init__((host, port), _Handler)

    @property
    def origin(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

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

    def start(self) -> FixtureServer:
        self._thread = threading.Thread(target=self.serve_forever, name="fixture-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def __enter__(self) -> FixtureServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    server: FixtureServer
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
        cache = self.server.cache
        if cache is not None and target in cache:
            status, body, content_type = cache[target]
            return self._send(status, body, content_type, {}, head)
        site = self.server.site
        route = site.routes.get(target) or site.routes.get(parts.path) or {}
        if "fail_times" in route and hit > int(route["fail_times"]):
            route = {}  # the transient fault is over
        if route.get("delay") or self.server.delay:
            time.sleep(float(route.get("delay") or self.server.delay))
        if route.get("reset"):
            # Close with RST: the client sees "connection reset by peer".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        if route.get("binary"):
            body = random.Random(int(route["binary"])).randbytes(int(route["binary"]))
            return self._send(200, body, route.get("content_type", "text/html"), {}, head)
        if route.get("empty"):
            return self._send(200, b"", "text/html; charset=utf-8", {}, head)
        if "redirect" in route:
            location = route["redirect"].replace("{{ORIGIN}}", self.server.origin)
            for name, value in self.server.variables.items():
                location = location.replace("{{" + name + "}}", value)
            return self._send(route.get("status", 302), b"", "text/html", {"Location": location}, head)
        status = int(route.get("status", 200))
        file = site.file_for(parts.path, parts.query)
        if file is None:
            if status == 200:
                return self._send(404, b"<html><body>Not found</body></html>", "text/html; charset=utf-8", {}, head)
            return self._send(status, f"<html><body>Error {status}</body></html>".encode(), "text/html", {}, head)
        content_type = route.get("content_type") or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        body = file.read_bytes()
        if content_type.startswith("text/") or file.suffix in (".html", ".txt", ".xml", ".json"):
            text = body.decode("utf-8")
            text = text.replace("{{TICKER}}", site.ticker).replace("{{ORIGIN}}", self.server.origin)
            for name, value in self.server.variables.items():
                text = text.replace("{{" + name + "}}", value)
            charset = route.get("charset", "utf-8")
            body = text.encode(charset, errors="xmlcharrefreplace")
            if route.get("pad_bytes"):
                body += b"<!--" + b" " * int(route["pad_bytes"]) + b"-->"
            if "charset" not in content_type:
                content_type += f"; charset={route.get('declare_charset', charset)}"
        if route.get("truncate"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body) + 1000))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        if cache is not None and not route:
            cache[target] = (status, body, content_type)
        self._send(status, body, content_type, {}, head)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        # Headers and body in one write (end_headers would flush the headers alone).
        self._headers_buffer.append(b"\r\n")
        if not head:
            self._headers_buffer.append(body)
        self.flush_headers()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fixture site on 127.0.0.1.")
    parser.add_argument("root", help="the site directory (e.g. tests/site)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    server = FixtureServer(args.root, args.host, args.port)
    print(server.origin, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
