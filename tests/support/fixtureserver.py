"""The tests' copy of Maghress and its publishers: the demo's site server, plus injected faults.

``newscrawl.demo.server`` serves a site directory (paths to files, ``{{ORIGIN}}``
and ``{{TICKER}}``, redirects, statuses and charsets from ``_routes.json``,
a request log). Here a route may also make the answer fail::

    {"/Flaky_a14.html": {"status": 503, "fail_times": 2},     # 503 twice, then the page
     "/Reset_a15.html": {"reset": true, "fail_times": 1},     # connection reset once
     "/Short_a16.html": {"truncate": true},                   # fewer bytes than Content-Length
     "/Slow_a17.html": {"delay": 5},                          # beyond a short DOWNLOAD_TIMEOUT
     "/Big_a18.html": {"pad_bytes": 3000000},                 # over DOWNLOAD_MAXSIZE
     "/Noise_a20.html": {"binary": 4096, "content_type": "text/html"},
     "/Empty_a21.html": {"empty": true},
     "/Bomb_a22.html": {"gzip_bomb": 200000000},             # a small gzip body that expands to 200 MB
     "/Endless_a23.html": {"endless": true}}                 # a body that never ends (until 30 s have passed)

A fault with ``fail_times`` applies to that many requests, then the path
behaves normally (a transient fault); without it, to every request. The
server as a whole may be slow (``delay``: seconds before every answer) and
serve from memory (``cache``, for benchmarks).

    python -m tests.support.fixtureserver newscrawl/demo/site --port 8000
"""

from __future__ import annotations

import random
import socket
import struct
import time
from pathlib import Path

from newscrawl.demo.server import SiteHandler, SiteServer
from newscrawl.demo.server import main as serve


class _FaultHandler(SiteHandler):
    server: FixtureServer

    def do_GET(self, head: bool = False):
        cache = self.server.cache
        target = self.path
        if cache is not None and target in cache:
            self.server.record(target)
            if self.server.delay:  # (served from memory, as slowly as the first time)
                time.sleep(self.server.delay)
            status, body, content_type = cache[target]
            return self.send_validated(status, body, content_type, head)
        super().do_GET(head)

    def route_for(self, target: str, path: str, hit: int) -> dict:
        route = super().route_for(target, path, hit)
        return {} if "fail_times" in route and hit > int(route["fail_times"]) else route  # the fault is over

    def before_answer(self, route: dict, head: bool) -> bool:
        if route.get("delay") or self.server.delay:
            time.sleep(float(route.get("delay") or self.server.delay))
        if route.get("reset"):
            # Close with RST: the client sees "connection reset by peer".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return True
        if route.get("binary"):
            body = random.Random(int(route["binary"])).randbytes(int(route["binary"]))
            self.send(200, body, route.get("content_type", "text/html"), head)
            return True
        if route.get("empty"):
            self.send(200, b"", "text/html; charset=utf-8", head)
            return True
        if route.get("gzip_bomb"):
            body = _gzip_of_zeros(int(route["gzip_bomb"]))
            self.send(200, body, "text/html; charset=utf-8", head, {"Content-Encoding": "gzip"})
            return True
        if route.get("endless"):
            self._send_endless()
            return True
        return False

    def _send_endless(self, seconds: float = 30.0) -> None:
        """A page whose body never ends (no Content-Length, HTTP/1.0-style close): chunks of markup until the
        client goes away, or ``seconds`` have passed (a bound of the test server's own)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.close_connection = True
        chunk = b"<p>" + b"encore " * 9000 + b"</p>\n"
        deadline = time.monotonic() + seconds
        try:
            self.wfile.write(b"<html><body>")
            while time.monotonic() < deadline:
                self.wfile.write(chunk)
        except OSError:
            pass  # the client stopped reading: what a bounded crawler does

    def send_page(self, target: str, route: dict, status: int, body: bytes, content_type: str, head: bool) -> None:
        if route.get("pad_bytes"):
            body += b"<!--" + b" " * int(route["pad_bytes"]) + b"-->"
        if route.get("truncate"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body) + 1000))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        if self.server.cache is not None and not route:
            self.server.cache[target] = (status, body, content_type)
        self.send_validated(status, body, content_type, head, route)


def _gzip_of_zeros(size: int) -> bytes:
    """gzip of ``size`` zero bytes (~1/1000 of it), compressed in pieces: never ``size`` bytes in memory."""
    import zlib

    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
    piece = bytes(1 << 20)
    out = [compressor.compress(piece) for _ in range(size // len(piece))]
    out.append(compressor.compress(bytes(size % len(piece))))
    out.append(compressor.flush())
    return b"".join(out)


class FixtureServer(SiteServer):
    handler_class = _FaultHandler

    def __init__(self, root: str | Path, host: str = "127.0.0.1", port: int = 0, delay: float = 0.0,
                 cache: bool = False, variables: dict[str, str] | None = None):
        self.delay = delay  # seconds before every answer: a slow site, for crash tests
        # Serve from memory (benchmarks): each page is read and filled in once. Off when tests edit the site.
        self.cache: dict[str, tuple[int, bytes, str]] | None = {} if cache else None
        super().__init__(root, host, port, variables)


if __name__ == "__main__":
    serve(server_class=FixtureServer)
