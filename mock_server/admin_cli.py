"""`mock-server admin ...`: the admin API of a running mock, from a shell or a CI script.

Each command is one call of `/__admin/...` (see `admin-openapi.yaml`) and prints the JSON answer
on stdout, so scripts can pipe it to `jq`; `admin token` prints only the token, like
`mock-server token`. Errors go to stderr with exit status 1 (the mock refused) or 2 (the mock
could not be reached).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import orjson
import requests

from mock_server.settings import ADMIN_KEY_ENV, DEFAULT_ADMIN_KEY

URL_ENV = "MOCK_SERVER_URL"
DEFAULT_URL = "http://127.0.0.1:8000"


class AdminClient:
    """A thin client of the admin API (also handy from a partner's Python tests)."""

    def __init__(self, url: str = DEFAULT_URL, admin_key: str = DEFAULT_ADMIN_KEY,
                 timeout: float = 120.0) -> None:
        self.base = url.rstrip("/") + "/__admin"
        self.session = requests.Session()
        self.session.headers["X-Admin-Key"] = admin_key
        self.timeout = timeout

    def call(self, method: str, path: str, *, body: Any = None, data: bytes | None = None,
             params: dict[str, Any] | None = None) -> requests.Response:
        headers = {"Content-Type": "application/json"} if body is not None or data else {}
        payload = orjson.dumps(body) if body is not None else data
        return self.session.request(method, self.base + path, data=payload, params=params,
                                    headers=headers, timeout=self.timeout)


def _connection(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """``--url`` and ``--admin-key``, accepted before the action and after it.

    The action's own copies default to SUPPRESS: argparse would otherwise let a subcommand's
    default overwrite a value given before it (``admin --url X reset``).
    """
    url = os.environ.get(URL_ENV, DEFAULT_URL) if defaults else argparse.SUPPRESS
    key = os.environ.get(ADMIN_KEY_ENV, DEFAULT_ADMIN_KEY) if defaults else argparse.SUPPRESS
    parser.add_argument("--url", default=url,
                        help=f"the running mock (default {DEFAULT_URL}, or ${URL_ENV})")
    parser.add_argument("--admin-key", default=key,
                        help=f"the admin key (default {DEFAULT_ADMIN_KEY}, or ${ADMIN_KEY_ENV})")


def add_admin_parser(commands: Any) -> None:
    admin = commands.add_parser("admin", help="drive a running mock's admin API (/__admin)")
    _connection(admin, defaults=True)
    actions = admin.add_subparsers(dest="action", required=True)
    common = argparse.ArgumentParser(add_help=False)
    _connection(common, defaults=False)

    reset = actions.add_parser("reset", parents=[common],
                               help="back to the seeded fixtures; clears journal, faults, clock")
    reset.add_argument("--keep", action="append", default=[],
                       choices=["data", "journal", "faults", "clock"],
                       help="leave this part as it is (repeatable)")

    reseed = actions.add_parser("reseed", parents=[common],
                                help="replace the data with another seed or size")
    reseed.add_argument("--seed", type=int, default=None,
                        help="the fixtures' seed (default: the mock's current one)")
    reseed.add_argument("--events", type=int, default=None,
                        help="how many fixture events (default: the mock's current number)")

    export = actions.add_parser("export", parents=[common], help="print the whole state (JSON)")
    export.add_argument("--output", "-o", default=None, help="write to this file instead")

    load = actions.add_parser("import", parents=[common],
                              help="replace the whole state with an exported one")
    load.add_argument("file", help="a file from `admin export` ('-' reads stdin)")

    token = actions.add_parser("token", parents=[common],
                               help="mint a token on the mock's clock for any fixture user")
    token.add_argument("--user", default=None, help="user id or external id (default John D)")
    token.add_argument("--ttl-seconds", "--ttl", dest="ttl", type=int, default=3600,
                       help="seconds until expiry, as the API's ttl_seconds (default 3600; "
                            "negative: already expired, for 498)")

    journal = actions.add_parser("journal", parents=[common],
                                 help="list, count or clear the recorded requests")
    journal.add_argument("--path", help="exact path, or a glob such as '/activities/*'")
    journal.add_argument("--method", help="only exchanges with this HTTP method")
    journal.add_argument("--status", help="404, or a class such as 4xx")
    journal.add_argument("--operation-id", help="only exchanges of this operation")
    journal.add_argument("--since", type=int, help="only exchanges after this id")
    journal.add_argument("--limit", type=int, help="only the most recent N")
    journal.add_argument("--unmatched", action="store_true",
                         help="requests that matched no operation, with the nearest one")
    journal.add_argument("--violating", action="store_true",
                         help="behind the validation proxy: exchanges that broke the contract")
    mode = journal.add_mutually_exclusive_group()
    mode.add_argument("--count", action="store_true", help="print only how many match")
    mode.add_argument("--clear", action="store_true", help="forget every recorded request")

    faults = actions.add_parser("faults", parents=[common], help="list, add or remove faults")
    fault_actions = faults.add_subparsers(dest="fault_action", required=True)
    fault_actions.add_parser("list", parents=[common], help="the active rules")
    add = fault_actions.add_parser("add", parents=[common], help="add a rule")
    kind = add.add_mutually_exclusive_group(required=True)
    kind.add_argument("--status", type=int, help="answer this documented error status")
    kind.add_argument("--latency-ms", type=float, nargs="+", metavar="MS",
                      help="wait MS, or a random time between MIN and MAX")
    kind.add_argument("--drop", action="store_true", help="close the connection, no response")
    add.add_argument("--method", default="*", help="only this HTTP method (default *: any)")
    add.add_argument("--path", default="*",
                     help="path glob, e.g. '/activities/v1/events*' (default *: any)")
    add.add_argument("--operation-id", help="only requests of this operation")
    add.add_argument("--header", help="only requests with this header (NAME or NAME=VALUE)")
    add.add_argument("--probability", type=float, default=1.0,
                     help="fire on this share of the matching requests (default 1.0: all)")
    add.add_argument("--count", type=int, help="fire at most this many times")
    remove = fault_actions.add_parser("remove", parents=[common], help="remove one rule")
    remove.add_argument("id", help="the rule's id, as `faults list` shows it (f1, f2...)")
    fault_actions.add_parser("clear", parents=[common], help="remove every rule")

    actions.add_parser("report", parents=[common],
                       help="the validation proxy's violation report (mock-server proxy only)")

    clock = actions.add_parser("clock", parents=[common],
                               help="show, set, advance, freeze the mock's clock")
    clock.add_argument("--set", dest="moment", help="ISO 8601 instant, e.g. 2027-02-01T09:00:00Z")
    clock.add_argument("--advance", type=float, metavar="SECONDS",
                       help="move by this many seconds (negative goes back)")
    frozen = clock.add_mutually_exclusive_group()
    frozen.add_argument("--freeze", action="store_true", help="stop time")
    frozen.add_argument("--unfreeze", action="store_true", help="let time flow again")
    clock.add_argument("--wall", action="store_true", help="back to the wall clock")


def _fault_body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {"method": args.method, "path": args.path,
                            "probability": args.probability}
    if args.status is not None:
        body.update(kind="status", status=args.status)
    elif args.latency_ms is not None:
        values = args.latency_ms
        body.update(kind="latency", latency_ms=values[0] if len(values) == 1 else values[:2])
    else:
        body["kind"] = "drop"
    if args.operation_id:
        body["operationId"] = args.operation_id
    if args.header:
        name, _, value = args.header.partition("=")
        body["header"] = {"name": name, "value": value or None}
    if args.count is not None:
        body["count"] = args.count
    return body


def _requests(args: argparse.Namespace) -> list[tuple[str, str, dict[str, Any]]]:
    """The admin calls an invocation makes: (method, path, keyword arguments)."""
    action = args.action
    if action == "reset":
        return [("POST", "/reset", {"body": {part: False for part in args.keep}})]
    if action == "reseed":
        body = {k: v for k, v in (("seed", args.seed), ("events", args.events)) if v is not None}
        return [("POST", "/reseed", {"body": body})]
    if action == "export":
        return [("GET", "/state", {})]
    if action == "import":
        if args.file == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(args.file, "rb") as stream:
                data = stream.read()
        return [("PUT", "/state", {"data": data})]
    if action == "token":
        body = {"ttl_seconds": args.ttl, **({"user": args.user} if args.user else {})}
        return [("POST", "/tokens", {"body": body})]
    if action == "journal":
        if args.clear:
            return [("DELETE", "/journal", {})]
        params = {k: v for k, v in (("path", args.path), ("method", args.method),
                                    ("status", args.status), ("operationId", args.operation_id),
                                    ("since", args.since), ("limit", args.limit)) if v is not None}
        if args.violating:
            params["violating"] = "true"
        if args.count:
            return [("GET", "/journal/count", {"params": params})]
        path = "/journal/unmatched" if args.unmatched else "/journal"
        return [("GET", path, {"params": params})]
    if action == "report":
        return [("GET", "/report", {})]
    if action == "faults":
        if args.fault_action == "list":
            return [("GET", "/faults", {})]
        if args.fault_action == "add":
            return [("POST", "/faults", {"body": _fault_body(args)})]
        if args.fault_action == "remove":
            return [("DELETE", f"/faults/{args.id}", {})]
        return [("DELETE", "/faults", {})]
    calls: list[tuple[str, str, dict[str, Any]]] = []
    if args.wall:
        calls.append(("DELETE", "/clock", {}))
    if args.moment or args.freeze or args.unfreeze:
        body = {}
        if args.moment:
            body["now"] = args.moment
        if args.freeze or args.unfreeze:
            body["frozen"] = bool(args.freeze)
        calls.append(("PUT", "/clock", {"body": body}))
    if args.advance is not None:
        calls.append(("POST", "/clock/advance", {"body": {"seconds": args.advance}}))
    return calls or [("GET", "/clock", {})]


def run_admin(args: argparse.Namespace) -> int:
    client = AdminClient(args.url, args.admin_key)
    answer: requests.Response | None = None
    for method, path, options in _requests(args):
        try:
            answer = client.call(method, path, **options)
        except requests.RequestException as exc:
            print(f"mock-server: cannot reach {args.url}: {exc}", file=sys.stderr)
            return 2
        if answer.status_code >= 400:
            print(f"mock-server: {method} /__admin{path} answered {answer.status_code}: "
                  f"{answer.text}", file=sys.stderr)
            return 1
    assert answer is not None
    if args.action == "token":
        print(answer.json()["token"])
        return 0
    if args.action == "export":  # byte for byte what the mock sent, ready for `admin import`
        if args.output:
            with open(args.output, "wb") as stream:
                stream.write(answer.content)
        else:
            sys.stdout.buffer.write(answer.content + b"\n")
        return 0
    document = answer.json()
    sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0
