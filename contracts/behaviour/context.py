"""`CheckContext`: what a running behaviour check may use.

It talks HTTP through the target (so a check runs against any deployment), records the last
exchange so a violation can show it, runs hypothesis properties, and cleans up what a check
created.

Why failures are collected rather than raised inside hypothesis: a live server keeps its
state, so replaying a failing example does not reproduce it, and hypothesis would report a
"flaky" test instead of the broken rule. The first violation stops the property, and is
reported with the exchange that showed it and the run's seed.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

import hypothesis
import requests
from hypothesis import strategies as st

from ..generation import live_settings
from ..results import Exchange
from ..spec import ApiName, Selection, Spec
from ..target import Target, User
from .registry import BehaviourCheck, SkipCheck, Violation

__all__ = ["CheckContext"]


@dataclass
class CheckContext:
    """What a running check may use: the target, the spec, its budget and helpers.

    One context per check run; not shared between threads.
    """

    target: Target
    spec: Spec
    check: BehaviourCheck
    seed: int
    max_examples: int = 10
    deadline: float | None = None
    selection: Selection = field(default_factory=Selection)
    last_exchange: Exchange | None = None
    examples: int = 0
    _created: list[tuple[User, int]] = field(default_factory=list)
    _me: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def read_only(self) -> bool:
        return self.target.read_only or self.selection.read_only

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def can(self, *operation_ids: str) -> bool:
        """Whether these operations are selected and may be sent to this target."""
        selected = {op.operation_id: op for op in self.spec.select(self.selection)}
        return all(op in selected for op in operation_ids) and not (
            self.read_only and any(not selected[op].is_safe for op in operation_ids))

    # -- HTTP -----------------------------------------------------------------------------------

    def call(self, method: str, api: ApiName, path: str, *, expect: int | tuple[int, ...] | None
             = None, user: User | None = "main", api_key: bool = True,
             what: str | None = None, **kwargs: Any) -> requests.Response:
        """Send one request; with `expect`, a status outside it is a violation."""
        response = self.target.request(method, api, path, user=user, api_key=api_key, **kwargs)
        self.last_exchange = Exchange.from_response(response)
        if expect is not None:
            allowed = (expect,) if isinstance(expect, int) else expect
            if response.status_code not in allowed:
                wanted = " or ".join(str(code) for code in allowed)
                self.fail(f"{what or f'{method} {path}'} answered {response.status_code}, "
                          f"expected {wanted}", response)
        return response

    def get_url(self, url: str, **kwargs: Any) -> requests.Response:
        response = self.target.get_url(url, **kwargs)
        self.last_exchange = Exchange.from_response(response)
        return response

    def json(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            self.fail(f"{response.request.method} {response.request.url} answered a body that is "
                      "not JSON", response)

    def fail(self, message: str, response: requests.Response | None = None) -> NoReturn:
        exchange = Exchange.from_response(response) if response is not None else self.last_exchange
        operation = None
        if exchange is not None:
            located = self.target.split(exchange.url)
            if located is not None:
                found = self.spec.match(exchange.method, located[0], located[1])
                operation = found.label if found else None
        raise Violation(message, exchange, operation)

    def expect(self, condition: bool, message: str,
               response: requests.Response | None = None) -> None:
        if not condition:
            self.fail(message, response)

    def skip(self, reason: str) -> NoReturn:
        raise SkipCheck(reason)

    # -- hypothesis -----------------------------------------------------------------------------

    def settings(self, max_examples: int | None = None) -> hypothesis.settings:
        return live_settings(max_examples if max_examples is not None else self.max_examples)

    def run_property(self, strategy: st.SearchStrategy[Any], body: Callable[[Any], None], *,
                     max_examples: int | None = None) -> None:
        """Run `body` on examples of `strategy`; the first violation ends the property.

        A property the budget stopped before its first example skips the check: the code
        after it (which reads what the examples drew) has nothing to work on, and a check
        that ran nothing must not count as passed.
        """
        found: list[Violation] = []
        examples_before = self.examples

        @self.settings(max_examples)
        @hypothesis.seed(self.seed)
        @hypothesis.given(strategy)
        def prop(value: Any) -> None:
            if found or self.expired():
                return
            self.examples += 1
            try:
                body(value)
            except Violation as violation:
                found.append(violation)

        prop()
        if found:
            raise found[0]
        if self.examples == examples_before and self.expired():
            self.skip("time budget exhausted")

    # -- domain helpers -------------------------------------------------------------------------

    def me(self, user: User = "main") -> dict[str, Any]:
        """`GET /v1/auth/me`: the user a token belongs to (their id is needed to subscribe)."""
        if user not in self._me:
            response = self.call("GET", "activities", "/v1/auth/me", user=user, expect=200,
                                 what=f"GET /v1/auth/me as the {user} user")
            self._me[user] = self.json(response)
        return self._me[user]

    def create_event(self, body: dict[str, Any], *, user: User = "main") -> dict[str, Any]:
        """Create an event (cancelled again when the check ends), answering its `data`."""
        response = self.call("POST", "activities", "/v1/events", json=body, user=user,
                             expect=201, what="creating an event (POST /v1/events)")
        data = self.json(response).get("data")
        self.expect(isinstance(data, dict) and isinstance(data.get("id"), int),
                    "POST /v1/events answered 201 without `data.id`", response)
        self.created(user, data["id"])
        return data

    def created(self, user: User, event_id: int) -> None:
        """Remember an event this check made, so `cleanup()` cancels it."""
        with self._lock:
            self._created.append((user, event_id))

    def get_event(self, event_id: int, *, user: User = "main",
                  expect: int = 200) -> dict[str, Any]:
        response = self.call("GET", "activities", f"/v1/events/{event_id}", user=user,
                             expect=expect)
        return self.json(response).get("data") if expect == 200 else {}

    def isolated_point(self, salt: str = "") -> tuple[float, float]:
        """A point in the South Pacific, far from any real event, unique to this check.

        Events created there form a private universe: lists around it show only them (and
        leftovers of earlier runs with the same seed, which the checks tolerate).
        """
        rng = random.Random(f"{self.seed}:{self.check.name}:{salt}")
        return (round(rng.uniform(-58.0, -38.0), 6), round(rng.uniform(-150.0, -100.0), 6))

    def public_list(self, params: dict[str, Any], *, limit: int | None = None,
                    page: int | None = None, user: User | None = None) -> requests.Response:
        headers = {"X-Desired-Limit": str(limit)} if limit is not None else {}
        query = dict(params)
        if page is not None:
            query["page"] = page
        return self.call("GET", "activities", "/v1/events", params=query, headers=headers,
                         user=user, expect=200, what="GET /v1/events")

    def public_ids(self, params: dict[str, Any], *, max_pages: int = 20) -> set[int]:
        """Ids of every event the public list shows for `params` (all pages, 100 per page)."""
        return {event["id"] for event in self.pages("/v1/events", params, user=None,
                                                      max_pages=max_pages)}

    def pages(self, path: str, params: dict[str, Any] | None = None, *,
              user: User | None = "main", max_pages: int = 20,
              last: int | None = None) -> list[dict[str, Any]]:
        """The items of a paginated list (100 per page): every page, or the `last` pages.

        `last` reads only the end of a long list, where an event starting after all the
        others is (every list is ordered by `start_date`).
        """
        headers = {"X-Desired-Limit": "100"}
        what = f"GET {path}"
        query = dict(params or {})
        first = self.json(self.call("GET", "activities", path, params=query, headers=headers,
                                    user=user, expect=200, what=what))
        items = list(first.get("data") or [])
        last_page = int((first.get("meta") or {}).get("last_page") or 1)
        wanted = range(2, min(last_page, max_pages) + 1)
        if last is not None:
            wanted = range(max(2, last_page - last + 1), last_page + 1)
        for page in wanted:
            payload = self.json(self.call("GET", "activities", path,
                                          params={**query, "page": page}, headers=headers,
                                          user=user, expect=200, what=what))
            items += payload.get("data") or []
        return items

    def marker(self) -> str:
        """A title no other event has: how a check finds an event it must not have made."""
        return f"contracts {self.check.name[:60]} {uuid.uuid4().hex[:12]}"

    def cleanup(self) -> None:
        """Cancel the events this check created so they leave the public list (best effort)."""
        if self.read_only:
            return
        for user, event_id in self._created:
            try:
                self.target.request("POST", "activities", f"/v1/events/{event_id}/cancel",
                                    user=user)
            except requests.RequestException:
                pass
        self._created.clear()

