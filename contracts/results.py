"""What a run found, as plain data: the runner fills it, `report` renders it.

Kept free of sessions and rendering so a report can be built, compared or re-rendered in a
test without a server. One `Outcome` is one check applied to one scope: an operation for shape
checks (`response_schema_conformance` on `GET /v1/events`), a scenario for behaviour checks.
An `Exchange` is the request and response a failure shows, copied off the wire.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

__all__ = [
    "EXIT_CODES",
    "Coverage",
    "Exchange",
    "Failure",
    "Gap",
    "LinkCoverage",
    "OperationCoverage",
    "Outcome",
    "RunReport",
    "Status",
    "Verdict",
    "header_text",
]


@dataclass(frozen=True)
class Exchange:
    """One request and its response, as sent on the wire (what a failure report shows)."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes | None
    status: int
    reason: str
    response_headers: dict[str, str]
    response_body: bytes
    elapsed: float

    @classmethod
    def from_response(cls, response: requests.Response) -> Exchange:
        return cls._of(response.request, response.status_code, response.reason,
                       dict(response.headers), response.content,
                       response.elapsed.total_seconds())

    @classmethod
    def from_schemathesis(cls, response: Any) -> Exchange:
        """From a `schemathesis.Response` (what `case.call()` returns)."""
        headers = {name: ", ".join(values) for name, values in response.headers.items()}
        return cls._of(response.request, response.status_code, response.message, headers,
                       response.content, response.elapsed)

    @classmethod
    def _of(cls, request: Any, status: int, reason: str | None, headers: dict[str, str],
            body: bytes | None, elapsed: float) -> Exchange:
        """Both sources carry a `requests.PreparedRequest`; they differ in the response."""
        return cls(
            method=request.method or "GET",
            url=request.url or "",
            request_headers={name: header_text(value) for name, value in request.headers.items()},
            request_body=_body_bytes(request.body),
            status=status,
            reason=reason or "",
            response_headers=headers,
            response_body=body or b"",
            elapsed=elapsed,
        )


def _body_bytes(body: Any) -> bytes | None:
    """A prepared request's body as bytes (a streamed body cannot be shown again)."""
    if isinstance(body, str):
        return body.encode("utf-8")
    if body is not None and not isinstance(body, bytes):
        return b"<streamed body>"
    return body


def header_text(value: str | bytes) -> str:
    """Header values may be bytes in `requests`; reports and comparisons want text."""
    return value.decode("latin-1") if isinstance(value, bytes) else value


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    #: The check itself could not run to the end (a network error, a bug in a check).
    ERROR = "error"


class Verdict(StrEnum):
    """What a run says about the target, in order of precedence."""

    #: A check failed or could not finish: the target breaks the contract (or the run broke).
    FAILED = "FAILED"
    #: Nothing failed, but something that should have been checked was not (`gaps` says what).
    INCOMPLETE = "INCOMPLETE"
    #: Every selected check ran and passed, and the API was covered.
    OK = "OK"


#: The exit status of `contracts run` for each verdict; 2 is taken by "nothing could be
#: checked" (bad arguments, target unreachable, credentials refused).
EXIT_CODES: dict[Verdict, int] = {Verdict.OK: 0, Verdict.FAILED: 1, Verdict.INCOMPLETE: 3}


@dataclass(frozen=True)
class Gap:
    """Something the run should have exercised and did not, and why."""

    #: "check", "phase", "operation", "status" or "link".
    kind: str
    what: str
    why: str


@dataclass
class Failure:
    """One broken rule, with everything needed to see it again."""

    check: str
    rule: str
    message: str
    cites: tuple[str, ...] = ()
    operation: str | None = None
    exchange: Exchange | None = None
    seed: int | None = None
    #: Arguments to add to `contracts run <target>` to replay just this check.
    replay: str = ""

    def key(self) -> tuple[str, str | None, str]:
        """Identity for de-duplication: the same check failing the same way on one operation."""
        first_line = self.message.strip().splitlines()[0] if self.message.strip() else ""
        return (self.check, self.operation, first_line)


@dataclass
class Outcome:
    check: str
    kind: str  # "shape" or "behaviour"
    status: Status
    scope: str  # an operation label, or the behaviour check's scenario
    rule: str = ""
    cites: tuple[str, ...] = ()
    failures: list[Failure] = field(default_factory=list)
    reason: str = ""
    duration: float = 0.0
    examples: int = 0
    #: Skipped because the run's own choices leave it out (`--read-only`, the selection),
    #: not because something was missing: such a skip is not a gap.
    deselected: bool = False


@dataclass
class OperationCoverage:
    operation_id: str
    label: str
    documented: tuple[str, ...]
    seen: dict[int, int] = field(default_factory=dict)
    selected: bool = True

    @property
    def requests(self) -> int:
        return sum(self.seen.values())

    @property
    def documented_seen(self) -> list[str]:
        return [code for code in self.documented if _status_matches(code, self.seen)]

    @property
    def success_missed(self) -> list[str]:
        """Documented success statuses (2xx) never answered: the operation was not exercised."""
        return [code for code in self.documented_missed if code.startswith("2")]

    @property
    def documented_missed(self) -> list[str]:
        return [code for code in self.documented if not _status_matches(code, self.seen)]

    @property
    def undocumented(self) -> list[int]:
        """Statuses answered but not documented for this operation."""
        return sorted(code for code in self.seen if not _documented(code, self.documented))


@dataclass
class LinkCoverage:
    label: str
    source: str
    name: str
    target: str
    followed: int = 0


@dataclass
class Coverage:
    operations: list[OperationCoverage] = field(default_factory=list)
    links: list[LinkCoverage] = field(default_factory=list)
    #: Requests to URLs that match no documented operation (e.g. an uploaded file's URL).
    other_requests: int = 0

    def summary(self) -> dict[str, tuple[int, int]]:
        """(covered, total) for operations, documented statuses and links of the selection."""
        selected = [op for op in self.operations if op.selected]
        statuses = sum(len(op.documented) for op in selected)
        statuses_seen = sum(len(op.documented_seen) for op in selected)
        return {
            "operations": (sum(1 for op in selected if op.requests), len(selected)),
            "responses": (statuses_seen, statuses),
            "links": (sum(1 for link in self.links if link.followed), len(self.links)),
        }


def _documented(code: int, documented: tuple[str, ...]) -> bool:
    text = str(code)
    return any(
        d == text or (len(d) == 3 and d[1:].upper() == "XX" and d[0] == text[0]) or d == "default"
        for d in documented
    )


def _status_matches(documented: str, seen: dict[int, int]) -> bool:
    if documented == "default":
        return bool(seen)
    if documented[1:].upper() == "XX":
        return any(str(code)[0] == documented[0] for code in seen)
    return documented.isdigit() and int(documented) in seen


@dataclass
class RunReport:
    target: str
    selection: str
    seed: int
    started_at: str
    duration: float = 0.0
    outcomes: list[Outcome] = field(default_factory=list)
    coverage: Coverage = field(default_factory=Coverage)
    requests: int = 0
    command: str = ""
    stopped_early: str = ""
    #: What should have been exercised and was not; any gap makes the verdict INCOMPLETE.
    gaps: list[Gap] = field(default_factory=list)
    #: What the run did on its own that a reader should know (e.g. tokens from the mock).
    notes: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[Failure]:
        seen: set[tuple[str, str | None, str]] = set()
        unique = []
        for outcome in self.outcomes:
            for failure in outcome.failures:
                if failure.key() not in seen:
                    seen.add(failure.key())
                    unique.append(failure)
        return unique

    def counts(self) -> Counter[Status]:
        return Counter(outcome.status for outcome in self.outcomes)

    @property
    def operations(self) -> int:
        return sum(1 for op in self.coverage.operations if op.selected)

    @property
    def checks(self) -> int:
        return len({(outcome.kind, outcome.check) for outcome in self.outcomes})

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.duration if self.duration > 0 else 0.0

    @property
    def ok(self) -> bool:
        """Nothing failed and nothing broke (skips and gaps do not count: see `verdict`)."""
        counts = self.counts()
        return counts[Status.FAILED] == 0 and counts[Status.ERROR] == 0

    @property
    def verdict(self) -> Verdict:
        if not self.ok:
            return Verdict.FAILED
        return Verdict.INCOMPLETE if self.gaps else Verdict.OK

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]
