"""The request journal: what every client sent and what it got back, as wiremock keeps it.

``JournalMiddleware`` is the outermost WSGI layer (outside the fault injection), so it records
what the client saw: an injected status, an added latency (in ``duration_ms``), a dropped
connection (``status`` null, ``error`` set). Each exchange keeps the method, path, query, request
headers with secrets masked, up to ``body_limit`` bytes of each body, the status, the response
headers, the timing, the operation the request matched and, behind the validation proxy, the
contract violations found. The same layer writes the structured access log line.

The exchanges live in the state's journal store (``state.journal``): this process's memory, or
the database every worker and replica shares, so a query through any of them sees what all of
them answered. Only the last ``size`` exchanges are kept, plus apart the last ``size`` that
matched no operation; their nearest operation (``OperationMatcher.nearest``) is computed when
someone reads them, never while serving. Recording costs a (cached) operation match, a copy of
the environ and a list append on the request's thread; the exchange is encoded (headers named
and masked, bodies cut) off it, and only if the store writes it (``state.journal_sql`` holds a
process's newest exchanges until a journal query asks for them).
"""

from __future__ import annotations

import fnmatch
import itertools
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mock_server.api.wsgi_input import collect, read_up_to, replay_input
from mock_server.controls.exchange import Exchange, access_line, decode, encode
from mock_server.openapi.matching import (
    ENV_OPERATION,  # OperationMatch | None, set by the journal (openapi.matching.operation_of)
    OperationMatch,
    OperationMatcher,
    operation_of,
)
from mock_server.state.journal import JournalRecord, JournalStore

#: What an inner layer finds in the WSGI environ (and may add to it), besides ENV_OPERATION.
ENV_REQUEST_ID = "mock_server.request_id"  # str, set by the journal
ENV_FAULT = "mock_server.fault"  # str, set by the fault layer when it changed the answer
ENV_VIOLATIONS = "mock_server.violations"  # list of dicts, set by the validation proxy
ENV_ERROR = "mock_server.error"  # str, why there is no normal response
ENV_ROUTED = "mock_server.routed"  # True when the app matched a route of its own
#: Set by a server that waits asynchronously (``mock_server.rsgi``): a latency fault adds its
#: seconds here instead of blocking, and the server waits before it answers.
ENV_DEFERRED_LATENCY = "mock_server.deferred_latency"

DEFAULT_SIZE = 1000
DEFAULT_BODY_LIMIT = 16 * 1024
ADMIN_PREFIX = "/__admin"

access_log = logging.getLogger("mock_server.access")


@dataclass(frozen=True)
class JournalFilter:
    """Which exchanges a journal query selects; every given criterion must hold."""

    path: str | None = None  # exact path, or a glob (``*`` and ``?``) when it has one
    method: str | None = None
    status: str | None = None  # "404", or a class such as "4xx"
    operation_id: str | None = None
    since: int | None = None  # exchanges with a larger id
    unmatched: bool | None = None
    faulted: bool | None = None  # a fault or Prefer override changed the answer
    violating: bool | None = None  # the validation proxy found violations

    @classmethod
    def from_query(cls, args: Mapping[str, str]) -> JournalFilter:
        """From query parameters; ``ValueError`` naming the parameter for a bad value."""
        status = args.get("status")
        if status is not None and not re.fullmatch(r"[1-5]([0-9]{2}|xx|XX)", status):
            raise ValueError("status: a status (404) or a class (4xx)")
        since = args.get("since")
        if since is not None and not since.isdigit():
            raise ValueError("since: an exchange id (a non-negative integer)")
        return cls(
            path=args.get("path") or None,
            method=(args.get("method") or "").upper() or None,
            status=status.lower() if status else None,
            operation_id=args.get("operationId") or args.get("operation_id") or None,
            since=int(since) if since is not None else None,
            unmatched=_flag(args, "unmatched"),
            faulted=_flag(args, "faulted"),
            violating=_flag(args, "violating"),
        )

    def compile(self) -> Callable[[JournalRecord], bool]:
        path_test: Callable[[str], bool] | None = None
        if self.path is not None:
            if any(c in self.path for c in "*?["):
                path_test = re.compile(fnmatch.translate(self.path)).match  # type: ignore[assignment]
            else:
                wanted = self.path
                path_test = wanted.__eq__
        status_test: Callable[[int | None], bool] | None = None
        if self.status is not None:
            if self.status.endswith("xx"):
                first = int(self.status[0])
                status_test = lambda s: s is not None and s // 100 == first  # noqa: E731
            else:
                code = int(self.status)
                status_test = code.__eq__

        def accepts(ex: JournalRecord) -> bool:
            return not (
                (path_test is not None and not path_test(ex.path))
                or (self.method is not None and ex.method != self.method)
                or (status_test is not None and not status_test(ex.status))
                or (self.operation_id is not None and ex.operation_id != self.operation_id)
                or (self.since is not None and ex.id <= self.since)
                or (self.unmatched is not None and ex.unmatched != self.unmatched)
                or (self.faulted is not None and ex.faulted != self.faulted)
                or (self.violating is not None and ex.violating != self.violating)
            )

        return accepts


def _flag(args: Mapping[str, str], name: str) -> bool | None:
    value = args.get(name)
    if value is None or value == "":
        return None
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise ValueError(f"{name}: true or false")


class Journal:
    """The journal of the whole fleet, over the store the engine gives (``state.journal``)."""

    def __init__(self, store: JournalStore, body_limit: int = DEFAULT_BODY_LIMIT,
                 matcher: OperationMatcher | None = None) -> None:
        if body_limit < 0:
            raise ValueError("journal body limit must be >= 0")
        self.store = store
        self.size = store.size
        self.body_limit = body_limit
        self.matcher = matcher

    def record(self, exchange: Exchange) -> None:
        if self.size:
            limit = self.body_limit
            self.store.record(lambda: encode(exchange, limit), exchange.unmatched)

    def _matching(self, criteria: JournalFilter) -> list[JournalRecord]:
        accepts = criteria.compile()
        return [r for r in self.store.index(unmatched=bool(criteria.unmatched)) if accepts(r)]

    def select(self, criteria: JournalFilter = JournalFilter(),
               limit: int | None = None) -> list[Exchange]:
        """Matching exchanges, oldest first; ``limit`` keeps the most recent ones."""
        found = self._matching(criteria)
        if limit is not None and len(found) > limit:
            found = found[len(found) - limit:]
        return [decode(record) for record in self.store.fetch([r.id for r in found])]

    def count(self, criteria: JournalFilter = JournalFilter()) -> int:
        return len(self._matching(criteria))

    def clear(self) -> int:
        """Forget every exchange; returns how many were kept."""
        return self.store.clear()

    def stats(self) -> dict[str, int]:
        return {**self.store.stats(), "body_limit": self.body_limit}


_request_ids = itertools.count(1)


class JournalMiddleware:
    """WSGI layer recording each exchange in a ``Journal`` and writing the access log.

    ``skip_prefix`` requests (the admin API) are logged but not journaled. ``add_request_id``
    adds an ``X-Request-Id`` response header (the client's own, when it sent one); the proxy
    turns it off so upstream responses pass through unchanged.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], journal: Journal, *,
                 skip_prefix: str | tuple[str, ...] | None = ADMIN_PREFIX,
                 add_request_id: bool = True,
                 logger: logging.Logger = access_log) -> None:
        self.app = app
        self.journal = journal
        self.matcher = journal.matcher
        self.skip_prefix = skip_prefix
        self.add_request_id = add_request_id
        self.logger = logger

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.time()
        clock = time.perf_counter()
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        record = self.journal.size > 0 and not (
            self.skip_prefix is not None and path.startswith(self.skip_prefix))
        request_id = environ.get("HTTP_X_REQUEST_ID") or f"{next(_request_ids):08x}"
        environ[ENV_REQUEST_ID] = request_id
        match = operation_of(environ, self.matcher) if self.matcher is not None else None

        exchange = Exchange()
        exchange.request_id = request_id
        exchange.started = started
        exchange.method = method
        exchange.path = path
        exchange.query_string = environ.get("QUERY_STRING", "")
        if match is not None:
            exchange.operation_id = match.operation.operation_id
            exchange.path_values = match.path_values
        if record:
            exchange.request_headers = _request_headers(environ)
            exchange.request_body, exchange.request_size = self._read_body(environ)

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            exchange.status = int(status[:3])
            if self.add_request_id:  # the app never sets it; the proxy passes upstream's on
                headers = [*headers, ("X-Request-Id", request_id)]
            exchange.response_headers = headers
            return start_response(status, headers, exc_info)

        # The mock's answers are small and already in memory (uploads are capped at 3 MiB), so
        # the body is collected here: the exchange is complete, with its body and full timing,
        # before the server sends a byte, whatever the server or test client does next.
        try:
            body = collect(self.app(environ, capture))
        except BaseException as exc:
            exchange.error = environ.get(ENV_ERROR) or f"{type(exc).__name__}: {exc}"
            self._finish(exchange, environ, match, clock, record)
            raise
        exchange.response_size = len(body)
        if record:
            exchange.response_body = body[: self.journal.body_limit]
        self._finish(exchange, environ, match, clock, record)
        return [body]

    def _read_body(self, environ: dict[str, Any]) -> tuple[bytes, int]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return b"", 0
        if length <= 0:
            return b"", 0
        stream = environ["wsgi.input"]
        head = read_up_to(stream, min(length, self.journal.body_limit))
        replay_input(environ, head)
        return head, length

    def _finish(self, exchange: Exchange, environ: dict[str, Any],
                match: OperationMatch | None, clock: float, record: bool) -> None:
        # A server that waits asynchronously adds a latency fault's wait after this layer.
        deferred = environ.get(ENV_DEFERRED_LATENCY) or 0.0
        exchange.duration_ms = (time.perf_counter() - clock + deferred) * 1000
        exchange.complete = exchange.error is None
        exchange.fault = environ.get(ENV_FAULT)
        exchange.violations = environ.get(ENV_VIOLATIONS) or []
        if exchange.error is None and environ.get(ENV_ERROR):
            exchange.error = environ[ENV_ERROR]
        if match is None and not _routed(environ):
            exchange.unmatched = True
        if record:
            self.journal.record(exchange)
        if self.logger.isEnabledFor(logging.INFO):
            self.logger.info(access_line(exchange))


def _routed(environ: Mapping[str, Any]) -> bool:
    """Whether the app matched a route of its own (files, Swagger UI) to this request.

    The app says so in ``environ[ENV_ROUTED]`` (`controls.py` registers the hook), since a
    request that is no API operation is only a miss if nothing else served it.
    """
    return bool(environ.get(ENV_ROUTED))


#: Environ entries that hold the server's objects (streams, sockets, channels), dropped from the
#: journal's copy so that a kept exchange never keeps a connection's buffers alive.
_SERVER_OBJECTS = ("wsgi.input", "wsgi.errors", "wsgi.file_wrapper", "waitress.client_disconnected",
                   "gunicorn.socket", "werkzeug.request", "werkzeug.socket", ENV_OPERATION)


def _request_headers(environ: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the environ: a C-speed copy now, the headers picked out when someone reads.

    (Filtering ~25 keys in Python costs more than the rest of the journal's work together.)
    """
    kept = dict(environ)
    for key in _SERVER_OBJECTS:
        kept.pop(key, None)
    return kept



