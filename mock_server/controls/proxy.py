"""`mock-server proxy --upstream URL`: forward to a deployment, report where it breaks the spec.

A client points at the proxy exactly as at the mock (`/activities/v1/...`,
`/sportstrackingdata/v2/...`, or the spec's paths as written at the root, `/v1/...`, `/v2/...`);
each request goes to the upstream at the same path (or to a ``--route PREFIX=URL`` base for
paths under PREFIX, since the real APIs live on two hosts: ``/v1=https://api-eu.decathlon.net/
activities/v1`` sends the root paths of one of them there), and
the upstream's answer comes back unchanged: same status, same headers (hop-by-hop ones aside),
the same bytes (a compressed body stays compressed). Along the way both halves are checked with
the mock's own compiled validators (`validation.py`):

* request: an operation of openapi.yaml matches the method and path; the security headers it
  requires are present; parameters and JSON body conform;
* response: the status is documented for the operation; a documented JSON body is JSON and
  conforms to the response schema.

A violating exchange gets one added response header, ``X-Contract-Violations: N``, and its
violations go to the journal (``/__admin/journal?violating=true``), the report
(``/__admin/report``) and, with ``--report PATH``, a JSON file rewritten (atomically) shortly
after each exchange and at shutdown. An unreachable upstream answers 502 with the error body
and ``X-Proxy-Error``; that is not counted as a contract violation.
"""

from __future__ import annotations

import threading
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import requests
from flask import Flask, Response

from mock_server.api.answers import error_answer
from mock_server.api.headers import JSON, header
from mock_server.api.http_status import status_line
from mock_server.api.requests import WsgiRequestView, parse_args, read_body
from mock_server.controls.journal import (
    ENV_ERROR,
    ENV_REQUEST_ID,
    ENV_VIOLATIONS,
    Journal,
    JournalMiddleware,
)
from mock_server.openapi.matching import OperationMatcher, operation_of, request_path
from mock_server.openapi.spec import Operation, load_spec
from mock_server.openapi.validation import OperationValidator, RequestInvalid, compile_validators
from mock_server.state.files import DebouncedWriter, atomic_write
from mock_server.state.journal import MemoryJournal

VIOLATIONS_HEADER = "X-Contract-Violations"
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                        "te", "trailer", "trailers", "transfer-encoding", "upgrade",
                        "proxy-connection"})
MAX_REPORT_ENTRIES = 10_000


def request_violations(operation: Operation, validator: OperationValidator,
                       environ: Mapping[str, Any], body: bytes,
                       path_values: Mapping[str, str]) -> list[dict[str, Any]]:
    """What is wrong with a request against its operation (empty when it conforms)."""
    found: list[dict[str, Any]] = []
    if operation.needs_api_key and not environ.get("HTTP_X_API_KEY"):
        found.append(_violation("request", "security",
                                "the X-Api-Key header is required and missing"))
    if operation.needs_bearer and not environ.get("HTTP_AUTHORIZATION", "").lower().startswith(
            "bearer "):
        found.append(_violation("request", "security",
                                "an 'Authorization: Bearer <token>' header is required"))
    try:  # the request read as the mock reads it (api.requests), query decoding included
        view = WsgiRequestView(environ, parse_args(environ.get("QUERY_STRING", "")), body)
        validator.validate_request(view, path_values)
    except RequestInvalid as exc:
        if exc.errors:
            for name, messages in exc.errors.items():
                for message in messages:
                    found.append(_violation("request", "schema", message, name))
        else:
            found.append(_violation("request", "schema", exc.message))
    return found


def response_violations(operation: Operation, validator: OperationValidator, status: int,
                        headers: Sequence[tuple[str, str]], raw: bytes) -> list[dict[str, Any]]:
    """What is wrong with an upstream response to an operation (empty when it conforms)."""
    if str(status) not in operation.responses:
        documented = ", ".join(sorted(operation.responses))
        return [_violation("response", "status",
                           f"status {status} is not documented for {operation.operation_id} "
                           f"(documented: {documented})")]
    if operation.response_schema(status) is None:
        return []
    content_type = header(headers, "content-type") or ""
    if content_type.split(";")[0].strip().lower() != JSON:
        return [_violation("response", "content-type",
                           f"content type {content_type or '(none)'}; the spec documents "
                           f"{JSON} for {status}")]
    try:
        data = _decoded(raw, header(headers, "content-encoding"))
        body = orjson.loads(data)
    except (ValueError, zlib.error) as exc:
        return [_violation("response", "body", f"the body is not readable JSON: {exc}")]
    return [_violation("response", "schema", problem)
            for problem in validator.response_errors(status, body)]


def _violation(side: str, kind: str, message: str, where: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"side": side, "kind": kind, "message": message}
    if where is not None:
        found["where"] = where
    return found



def _decoded(raw: bytes, encoding: str | None) -> bytes:
    coding = (encoding or "identity").strip().lower()
    if coding in ("", "identity"):
        return raw
    if coding in ("gzip", "x-gzip"):
        return zlib.decompress(raw, 16 + zlib.MAX_WBITS)
    if coding == "deflate":
        try:
            return zlib.decompress(raw)
        except zlib.error:
            return zlib.decompress(raw, -zlib.MAX_WBITS)
    raise ValueError(f"content encoding {coding} is not supported by the proxy's checks")


class ViolationReport:
    """Counts of exchanges and the violations found, bounded, thread-safe, JSON-ready."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self._lock = threading.Lock()
        self._started = datetime.now(UTC)
        self._exchanges = 0
        self._violating = 0
        self._violations = 0
        self._by_operation: Counter[str] = Counter()
        self._violations_by_operation: Counter[str] = Counter()
        self._entries: deque[dict[str, Any]] = deque(maxlen=MAX_REPORT_ENTRIES)

    def add(self, entry: Mapping[str, Any]) -> None:
        operation = entry.get("operationId") or "(no operation)"
        violations = entry.get("violations") or []
        with self._lock:
            self._exchanges += 1
            self._by_operation[operation] += 1
            if violations:
                self._violating += 1
                self._violations += len(violations)
                self._violations_by_operation[operation] += len(violations)
                self._entries.append(dict(entry))

    def clear(self) -> None:
        with self._lock:
            self._exchanges = self._violating = self._violations = 0
            self._by_operation.clear()
            self._violations_by_operation.clear()
            self._entries.clear()

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                "upstream": self.upstream,
                "started": self._started.isoformat(timespec="seconds").replace("+00:00", "Z"),
                "exchanges": self._exchanges,
                "violating_exchanges": self._violating,
                "violations": self._violations,
                "by_operation": {
                    name: {"exchanges": count,
                           "violations": self._violations_by_operation.get(name, 0)}
                    for name, count in sorted(self._by_operation.items())
                },
                "entries": list(self._entries),
            }


class ContractProxy:
    """The forwarding WSGI app (the journal wraps it; the admin API sits beside it)."""

    def __init__(self, upstream: str, *, routes: Mapping[str, str] | None = None,
                 report: ViolationReport, spec_path: str | None = None,
                 timeout: float = 30.0, on_exchange: Callable[[], None] | None = None) -> None:
        spec = load_spec(spec_path)
        self.validators = compile_validators(spec)
        self.matcher = OperationMatcher(spec.operations.values())
        self.upstream = upstream.rstrip("/")
        self.routes = sorted(((prefix.rstrip("/"), base.rstrip("/"))
                              for prefix, base in (routes or {}).items()),
                             key=lambda item: -len(item[0]))
        self.report = report
        self.timeout = timeout
        self.on_exchange = on_exchange
        self._sessions = threading.local()

    def target(self, path: str) -> str:
        for prefix, base in self.routes:
            if path == prefix or path.startswith(prefix + "/"):
                return base + path[len(prefix):]
        return self.upstream + path

    def _session(self) -> requests.Session:
        session = getattr(self._sessions, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.clear()  # send the client's headers, not requests' defaults
            session.trust_env = False
            self._sessions.session = session
        return session

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        method = environ.get("REQUEST_METHOD", "GET")
        path = request_path(environ)
        body = read_body(environ, None)  # the upstream judges sizes, not the proxy
        match = operation_of(environ, self.matcher)  # the journal's match
        violations: list[dict[str, Any]] = []
        if match is None:
            miss = self.matcher.nearest(method, path)
            hint = f"; nearest: {miss.method} {miss.path} ({', '.join(miss.reasons)})" if (
                miss) else ""
            violations.append(_violation("request", "operation",
                                         f"no operation of openapi.yaml is {method} {path}{hint}"))
        else:
            violations += request_violations(match.operation,
                                             self.validators[match.operation.operation_id],
                                             environ, body, match.path_values)
        url = self.target(environ.get("PATH_INFO", "") or "/")  # forwarded as received
        query = environ.get("QUERY_STRING")
        if query:
            url += "?" + query
        try:
            upstream = self._session().request(
                method, url, data=body or None, headers=_forwarded_headers(environ),
                stream=True, allow_redirects=False, timeout=self.timeout)
            try:
                raw = upstream.raw.read(decode_content=False)
            finally:
                upstream.close()
        except requests.RequestException as exc:
            environ[ENV_ERROR] = f"upstream unreachable: {exc}"
            answer = error_answer(502, f"The proxy could not reach the upstream {url}: "
                                       f"{type(exc).__name__}.")
            start_response(status_line(answer.status), [
                ("Content-Type", JSON), ("Content-Length", str(len(answer.body))),
                ("X-Proxy-Error", "upstream-unreachable")])
            return [answer.body]
        headers = [(name, value) for name, value in upstream.raw.headers.items()
                   if name.lower() not in HOP_BY_HOP]
        if match is not None:
            violations += response_violations(
                match.operation, self.validators[match.operation.operation_id],
                upstream.status_code, headers, raw)
        if violations:
            headers.append((VIOLATIONS_HEADER, str(len(violations))))
            environ[ENV_VIOLATIONS] = violations
        self.report.add({
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "request_id": environ.get(ENV_REQUEST_ID),
            "method": method,
            "path": path,
            "query_string": query or "",
            "operationId": None if match is None else match.operation.operation_id,
            "status": upstream.status_code,
            "violations": violations,
        })
        if self.on_exchange is not None:
            self.on_exchange()
        start_response(f"{upstream.status_code} {upstream.reason or ''}".rstrip(), headers)
        return [] if method == "HEAD" else [raw]


def _forwarded_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").title()
            if name.lower() in HOP_BY_HOP or name.lower() == "host":
                continue
            headers[name] = value
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    return headers


class ProxyApp:
    """The proxy server's WSGI app: the journaled proxy, and the admin API beside it."""

    def __init__(self, upstream: str, *, routes: Mapping[str, str] | None = None,
                 report_path: str | None = None, admin_key: str | None = None,
                 journal_size: int = 1000, spec_path: str | None = None,
                 timeout: float = 30.0) -> None:
        from mock_server.controls.admin.blueprint import admin_blueprint
        from mock_server.controls.admin.journal_routes import add_journal_routes

        self.report = ViolationReport(upstream)
        self.report_path = Path(report_path) if report_path else None
        self.writer: DebouncedWriter | None = None
        if self.report_path is not None:
            self.writer = DebouncedWriter(self.write_report, 0.3, name="proxy-report")
            self.writer.start()
            self.writer.touch()  # an empty report exists from the start
        self.proxy = ContractProxy(upstream, routes=routes, report=self.report,
                                   spec_path=spec_path, timeout=timeout,
                                   on_exchange=self.writer.touch if self.writer else None)
        self.journal = Journal(MemoryJournal(journal_size), matcher=self.proxy.matcher)
        self.journaled = JournalMiddleware(self.proxy, self.journal, skip_prefix=None,
                                           add_request_id=False)
        self.admin: Flask | None = None
        if admin_key is not None:
            admin = Flask("mock_server.proxy")
            blueprint = admin_blueprint(admin_key)
            add_journal_routes(blueprint, self.journal)
            report = self.report

            @blueprint.get("/report")
            def report_get() -> Response:
                return Response(orjson.dumps(report.to_json()), mimetype=JSON)

            @blueprint.delete("/report")
            def report_clear() -> Response:
                report.clear()
                if self.writer is not None:
                    self.writer.touch()
                return Response(orjson.dumps(report.to_json()), mimetype=JSON)

            admin.register_blueprint(blueprint)
            self.admin = admin

    def write_report(self) -> None:
        if self.report_path is not None:
            atomic_write(self.report_path,
                         orjson.dumps(self.report.to_json(), option=orjson.OPT_INDENT_2))

    def close(self) -> None:
        """Write the report a last time (at shutdown)."""
        if self.writer is not None:
            self.writer.stop()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[
            bytes]:
        if self.admin is not None and environ.get("PATH_INFO", "").startswith("/__admin/"):
            return self.admin(environ, start_response)
        return self.journaled(environ, start_response)
