"""The mock's WSGI app under granian's RSGI interface: one request, one environ, one answer.

Why not granian's own WSGI interface: a ``drop`` fault must close the connection without a
byte, and WSGI gives an app no handle on its connection (granian's WSGI environ does not even
carry the client's port, so the socket cannot be found). RSGI names the client (``host:port``),
so the connection's socket is found among the process's descriptors and shut down before the
server writes anything. RSGI is also granian's native interface: the adapter below costs a few
microseconds, and a ``latency`` fault waits with ``asyncio.sleep`` instead of blocking the
worker, so a slow answer never holds the others up.

The app itself runs synchronously on the worker's event loop thread, one request at a time per
worker, as it did with one blocking thread under WSGI. The reason phrase of a status line is
granian's (hyper's table, which names no 498: it writes ``498 <none>``); clients read the code.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import socket
import stat
import sys
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import orjson

from mock_server.api.freshness import ENV_CAUGHT_UP
from mock_server.api.shaping import error_body
from mock_server.api.wsgi_input import collect
from mock_server.controls.faults import ConnectionDropped
from mock_server.controls.journal import ENV_DEFERRED_LATENCY
from mock_server.errors import ApiError
from mock_server.state.group_commit import DEFERRED, GroupCommit

log = logging.getLogger("mock_server.server")
WsgiApp = Callable[..., Iterable[bytes]]
#: What every environ has, copied into each one.
_BASE_ENVIRON: dict[str, Any] = {
    "SCRIPT_NAME": "",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "wsgi.version": (1, 0),
    "wsgi.errors": sys.stderr,
    "wsgi.multithread": False,
    "wsgi.multiprocess": True,
    "wsgi.run_once": False,
    "wsgi.input_terminated": True,
    ENV_DEFERRED_LATENCY: 0.0,
}
_NO_BODY = io.BytesIO(b"")
#: Requests that may write: they join this process's open batch (``state.group_commit``).
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _split_address(address: str) -> tuple[str, str]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), port


def environ_for(scope: Any, body: bytes | None) -> dict[str, Any]:
    """The WSGI environ of an RSGI request (PEP 3333: the path as latin-1 decoded bytes)."""
    server_host, server_port = _split_address(scope.server)
    client_host, client_port = _split_address(scope.client)
    environ = dict(_BASE_ENVIRON)
    environ["REQUEST_METHOD"] = scope.method
    environ["PATH_INFO"] = scope.path.encode("utf-8", "surrogateescape").decode("latin-1")
    environ["QUERY_STRING"] = scope.query_string
    environ["SERVER_NAME"] = server_host
    environ["SERVER_PORT"] = server_port
    environ["REMOTE_ADDR"] = client_host
    environ["REMOTE_PORT"] = client_port
    environ["wsgi.url_scheme"] = scope.scheme
    environ[ENV_DEFERRED_LATENCY] = 0.0
    for name, value in scope.headers.items():
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
        elif name == "content-length" or name == "transfer-encoding":
            continue  # the body below is whole: its length is what counts
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
            environ[key] = value if key not in environ else f"{environ[key]}, {value}"
    if body is None:
        environ["wsgi.input"] = _NO_BODY
    else:
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


def drop_connection(client: str) -> bool:
    """Shut the socket of the connection from ``client`` (``host:port``) down, unsent.

    The server's sockets are this process's descriptors; the one whose peer is the client is
    the request's. ``shutdown`` acts on the socket, so the server's own descriptor is closed
    for good: the client sees "connection closed without response".
    """
    host, port_text = _split_address(client)
    port = int(port_text)
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            probe = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        try:
            peer = probe.getpeername()
            if isinstance(peer, tuple) and peer[1] == port and peer[0].endswith(host):
                probe.shutdown(socket.SHUT_RDWR)
                return True
        except OSError:
            pass
        finally:
            probe.close()
    return False


class RsgiBridge:
    """An RSGI app serving a WSGI app; ``body_limit`` caps what is read of each request;
    ``catch_up`` (``api.freshness.SharedCatchUp.wait``) brings the state up to date without
    blocking the worker, shared by the requests that arrived together; ``group`` (PostgreSQL)
    lets the writes that arrive together share one commit, each answer held until it."""

    def __init__(self, app: WsgiApp, *, body_limit: Callable[[str, str], int],
                 catch_up: Callable[[], Awaitable[bool]] | None = None,
                 group: GroupCommit | None = None) -> None:
        self.app = app
        self.body_limit = body_limit
        self.catch_up = catch_up
        self.group = group

    async def __call__(self, scope: Any, protocol: Any) -> None:
        if scope.proto != "http":
            return
        headers = scope.headers
        body: bytes | None = None
        if "content-length" in headers or "transfer-encoding" in headers:
            limit = self.body_limit(scope.method, scope.path)
            declared = headers.get("content-length")
            if declared is not None and declared.isdigit():
                if int(declared) > limit:
                    return self._too_large(protocol, limit)
                body = await protocol()  # the declared length, within the limit: in one go
            else:  # chunked: the limit is checked as it streams
                chunks: list[bytes] = []
                size = 0
                async for chunk in protocol:
                    size += len(chunk)
                    if size > limit:
                        return self._too_large(protocol, limit)
                    chunks.append(chunk)
                body = b"".join(chunks)
        environ = environ_for(scope, body)
        group = self.group
        member = group is not None and scope.method in WRITE_METHODS and await group.admit()
        if member:  # the batch holds the write lock and caught up under it: current
            environ[ENV_CAUGHT_UP] = True
        elif self.catch_up is not None and await self.catch_up():
            environ[ENV_CAUGHT_UP] = True
        answer: list[Any] = []

        def start_response(status: str, response_headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], None]:
            answer[:] = [int(status[:3]), response_headers]
            return _no_write

        deferred = DEFERRED.set(group is not None)
        try:
            data = collect(self.app(environ, start_response))
        except ConnectionDropped:
            data = None
        finally:
            DEFERRED.reset(deferred)
            if member:
                group.leave()  # type: ignore[union-attr]
        failure = await self._settle()
        if data is None:  # a drop fault: nothing is sent, whatever the commit did
            await self._wait(environ)
            if not drop_connection(scope.client):
                log.warning("drop fault: no socket for client %s", scope.client)
            protocol.response_empty(200, [])
            return
        if failure is not None:
            return self._unavailable(protocol, failure)
        await self._wait(environ)
        status, response_headers = answer
        protocol.response_bytes(status, [(k, v) for k, v in response_headers
                                         if k.lower() != "content-length"], data)

    async def _settle(self) -> ApiError | None:
        """Hold the answer until the changes it may have seen are committed; the failure
        if they could not be (``state.group_commit``)."""
        if self.group is None:
            return None
        try:
            pending = self.group.pending()
            if pending is not None:
                await asyncio.wrap_future(pending)
        except ApiError as exc:
            return exc
        return None

    @staticmethod
    def _unavailable(protocol: Any, failure: ApiError) -> None:
        data = orjson.dumps(error_body(failure.status, failure.message, failure.errors))
        protocol.response_bytes(failure.status, [("content-type", "application/json"),
                                                 ("cache-control", "no-store")], data)

    @staticmethod
    async def _wait(environ: dict[str, Any]) -> None:
        delay = environ.get(ENV_DEFERRED_LATENCY) or 0.0
        if delay > 0:
            await asyncio.sleep(delay)

    @staticmethod
    def _too_large(protocol: Any, limit: int) -> None:
        data = orjson.dumps(error_body(413, f"Request body too large: the limit here is "
                                            f"{limit} bytes."))
        protocol.response_bytes(413, [("content-type", "application/json")], data)


def _no_write(data: bytes) -> None:
    raise RuntimeError("the mock's app never uses the WSGI write() callable")
