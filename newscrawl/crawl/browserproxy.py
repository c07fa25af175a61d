"""The rendering browser's only way out: an HTTP proxy on 127.0.0.1 that applies the crawl's host policy.

A page rendered in Chromium can make the browser fetch anything: a script
that navigates elsewhere, a server that redirects, a subresource on another
host. Playwright's request interception (scrapy-playwright's
``PLAYWRIGHT_ABORT_REQUEST``) never sees redirects, so it cannot be the
guard. Every request of the browser goes through this proxy instead
(Chromium is launched with it; Playwright routes loopback through it too),
and the proxy lets a request through only when ``newscrawl.crawl.hostpolicy``
allows it: a publisher host (or the configured site's own host), reached at
an address that is not internal unless it is that own host at its own port. The name is
resolved here, once, and the proxy connects to the address it checked.
Refused requests get a 403, are logged, and counted as
``newscrawl/render/blocked``.

Plain HTTP is forwarded one request per connection; HTTPS goes through
``CONNECT`` tunnels (TLS stays end to end).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from newscrawl.crawl.hostpolicy import HostPolicy, ip_literal

logger = logging.getLogger(__name__)

BLOCKED_STAT = "newscrawl/render/blocked"
_HOP_HEADERS = ("proxy-connection", "proxy-authorization", "connection", "keep-alive")


class BrowserProxy:
    def __init__(self, policy: Callable[[], HostPolicy], stats=None, timeout: float = 30.0):
        self.policy = policy
        self.stats = stats
        self.timeout = timeout
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def decide(self, host: str, port: int) -> tuple[str | None, str]:
        """``(address to connect to, "")`` when the browser may reach ``host``, else ``(None, why)``."""
        policy = self.policy()
        if not policy.may_fetch_publisher(host):
            return None, "not a publisher host"
        if host == policy.own_host and not policy.is_own_port(port):
            return None, "another port of the site's own host"
        if ip_literal(host) is not None:
            addresses = [host.strip("[]")]
        else:
            try:
                found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as exc:
                return None, f"cannot resolve it ({exc})"
            addresses = list(dict.fromkeys(info[4][0] for info in found))
        # Every address must pass: a name that resolves inside, even among others, is refused.
        refused = [a for a in addresses if not policy.may_connect(host, a, port)]
        if refused or not addresses:
            return None, f"resolves to the internal address {refused[0]}" if refused else "no address"
        return addresses[0], ""

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream: asyncio.StreamWriter | None = None
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.timeout)
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, target, version = request_line.split(" ", 2)
            if method.upper() == "CONNECT":
                host, _, port_text = target.rpartition(":")
                port, path = int(port_text or 443), ""
            else:
                parts = urlsplit(target)
                host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
                path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            host = host.strip("[]").lower()
            address, why = await self.decide(host, port)
            if address is None:
                self._refused(target, why)
                writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain()
                return
            up_reader, upstream = await asyncio.wait_for(asyncio.open_connection(address, port), self.timeout)
            if method.upper() == "CONNECT":
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
            else:
                headers = [h for h in header_lines if h and h.split(":", 1)[0].strip().lower() not in _HOP_HEADERS]
                upstream.write((f"{method} {path} {version}\r\n" + "".join(f"{h}\r\n" for h in headers)
                                + "Connection: close\r\n\r\n").encode("latin-1"))
                await upstream.drain()
            # Until either side is done (the server closing after its answer, the browser leaving): then both close.
            # (Waiting for both would hang on a browser that keeps its connection to the proxy open.)
            pipes = [asyncio.ensure_future(_pipe(reader, upstream)), asyncio.ensure_future(_pipe(up_reader, writer))]
            _, pending = await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError):
            pass  # a broken or slow connection: the browser sees it fail
        finally:
            for stream in (upstream, writer):
                if stream is not None:
                    stream.close()

    def _refused(self, target: str, why: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(BLOCKED_STAT)
        logger.info("The browser was refused %s: %s", target, why)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        if writer.can_write_eof():
            try:
                writer.write_eof()
            except OSError:
                pass
