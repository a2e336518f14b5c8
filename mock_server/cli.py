"""`mock-server serve | token | admin | proxy | postman`: serve the mock, mint a token, drive a
running mock's admin API (`admin_cli.py`), check a real deployment through the validation proxy,
or write a Postman collection and environment for the mock (`postman.py`)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from types import FrameType

from mock_server.api.auth import DEFAULT_TOKEN_TTL
from mock_server.fixture_tokens import UnknownFixtureUser, fixture_token
from mock_server.settings import (
    ADMIN_KEY_ENV,
    API_KEYS_ENV,
    STATE_URL_ENV,
    TOKEN_SECRET_ENV,
    Settings,
)

DEFAULTS = Settings()


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=DEFAULTS.seed,
                        help=f"fixture seed: same seed, same data (default {DEFAULTS.seed})")
    parser.add_argument("--token-secret", default=None,
                        help=f"HS256 secret for bearer tokens (or ${TOKEN_SECRET_ENV})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mock-server",
        description="Offline twin of the Decathlon Sport Activities API v1 and Sports Tracking "
                    "Data API v2.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve both APIs (granian, one worker per core)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="the address to listen on (default 127.0.0.1; 0.0.0.0 for any)")
    serve.add_argument("--port", type=int, default=8000,
                       help="the port to listen on (default 8000)")
    _common(serve)
    serve.add_argument("--events", type=int, default=DEFAULTS.events,
                       help=f"how many fixture events to generate (default {DEFAULTS.events}; "
                            "up to 1,000,000)")
    serve.add_argument("--api-key", action="append", dest="api_keys", default=None,
                       help=f"accepted X-Api-Key (repeatable; also ${API_KEYS_ENV}, "
                            "comma-separated; default aaa-bbb-ccc)")
    serve.add_argument("--accept-unverified-tokens", action="store_true",
                       help="accept tokens of a real identity provider without checking their "
                            "signature; user id and type come from the claims")
    serve.add_argument("--no-response-validation", action="store_true",
                       help="skip checking each response against openapi.yaml")
    serve.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                       help="worker processes, one state for all (default: one per core, "
                            f"{os.cpu_count() or 1} here)")
    _controls(serve)
    state = serve.add_mutually_exclusive_group()
    state.add_argument("--state-file", default=None, metavar="PATH",
                       help="keep the state in this SQLite database: every acknowledged write "
                            "survives a crash, and a restart resumes it (default: a temporary "
                            "database, removed at exit)")
    state.add_argument("--state-url", default=None, metavar="URL",
                       help="share the state with every replica on this PostgreSQL database, "
                            f"postgresql://user:password@host:port/dbname (or ${STATE_URL_ENV})")
    cors = serve.add_mutually_exclusive_group()
    cors.add_argument("--cors-origin", action="append", dest="cors_origins", default=None,
                      help="allow browser clients from this origin only (repeatable; "
                           "default: any origin, as Prism does)")
    cors.add_argument("--no-cors", action="store_true",
                      help="no CORS headers: browser pages of other origins cannot read answers")
    serve.add_argument("--upload-storage-mb", type=int, default=None,
                       help="total size of uploaded files the mock keeps (default "
                            f"{DEFAULTS.upload_storage_bytes // 2**20}); past it uploads get 507")

    token = commands.add_parser("token", help="print a signed bearer token for a fixture user")
    token.add_argument("--user", default=None,
                       help="user uuid or external id (default: a fixture user owning events, "
                            "named on stderr)")
    _common(token)
    token.add_argument("--ttl-seconds", "--ttl", dest="ttl", type=int,
                       default=int(DEFAULT_TOKEN_TTL.total_seconds()),
                       help="seconds until the token expires (default "
                            f"{int(DEFAULT_TOKEN_TTL.total_seconds())}; negative: already "
                            "expired, for the documented 498)")

    from mock_server.admin_cli import add_admin_parser
    from mock_server.postman import add_postman_parser

    add_admin_parser(commands)
    add_postman_parser(commands)

    proxy = commands.add_parser(
        "proxy", help="forward to a real deployment and report where it breaks openapi.yaml")
    proxy.add_argument("--upstream", required=True,
                       help="base URL requests are forwarded to, path unchanged "
                            "(e.g. https://api-eu.decathlon.net)")
    proxy.add_argument("--route", action="append", default=[], metavar="PREFIX=URL",
                       help="paths under PREFIX go to URL + the rest of the path instead "
                            "(e.g. /sportstrackingdata=https://api.decathlon.net/"
                            "sportstrackingdata); repeatable")
    proxy.add_argument("--host", default="127.0.0.1",
                       help="the address to listen on (default 127.0.0.1)")
    proxy.add_argument("--port", type=int, default=8001,
                       help="the port to listen on (default 8001)")
    proxy.add_argument("--report-json", "--report", dest="report", default=None,
                       metavar="PATH",
                       help="write the violation report (JSON) to this file, as `contracts "
                            "run --report-json` does (default: the admin API only)")
    proxy.add_argument("--timeout", type=float, default=30.0,
                       help="upstream timeout in seconds (default 30)")
    proxy.add_argument("--threads", type=int, default=8,
                       help="threads forwarding requests (default 8): the proxy waits on "
                            "upstreams, so threads, not processes")
    _controls(proxy)
    return parser


def _controls(parser: argparse.ArgumentParser) -> None:
    """Flags of the test-engineer controls, shared by `serve` and `proxy`."""
    parser.add_argument("--admin-key", default=None,
                        help=f"key of the admin API in X-Admin-Key (or ${ADMIN_KEY_ENV}; "
                             f"default {DEFAULTS.admin_key})")
    parser.add_argument("--no-admin", action="store_true",
                        help="switch the admin API off (everything under /__admin answers 404)")
    parser.add_argument("--journal-size", type=int, default=DEFAULTS.journal_size,
                        help=f"requests the journal keeps (default {DEFAULTS.journal_size}; "
                             "0 switches it off)")
    logging_flags = parser.add_mutually_exclusive_group()
    # Quiet by default: the mock sits on the hot path of load tests (issue 7), and a log line
    # per request costs 10-15 % of its throughput.
    logging_flags.add_argument("--access-log", dest="access_log", action="store_true",
                               default=False, help="one JSON line per request on stderr")
    logging_flags.add_argument("--quiet", dest="access_log", action="store_false",
                               help="no access log (the default)")


def _token(args: argparse.Namespace) -> int:
    try:
        user, token = fixture_token(args.user, seed=args.seed, token_secret=args.token_secret,
                                    ttl=timedelta(seconds=args.ttl))
    except UnknownFixtureUser as exc:
        print(f"mock-server: {exc}", file=sys.stderr)
        return 2
    if args.user is None:
        print(f"token for {user.name} ({user.type}, {user.id})", file=sys.stderr)
    print(token)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from mock_server.api.freshness import SharedCatchUp
    from mock_server.app import SERVICES, body_limit, create_app
    from mock_server.controls.install import EXTENSION as CONTROLS
    from mock_server.rsgi import RsgiBridge
    from mock_server.state.engine import StateUnavailable
    from mock_server.workers import PortBusy, check_port_free, serve_workers

    if args.workers < 1:
        print("mock-server: --workers must be at least 1", file=sys.stderr)
        return 2
    settings = Settings.from_environment(
        seed=args.seed, events=args.events, api_keys=args.api_keys,
        token_secret=args.token_secret,
        verify_token_signature=not args.accept_unverified_tokens,
        validate_responses=not args.no_response_validation,
        admin_key=args.admin_key, admin_enabled=not args.no_admin,
        journal_size=args.journal_size, state_engine="sqlite", state_file=args.state_file,
        state_url=args.state_url,
        cors_origins=() if args.no_cors else tuple(args.cors_origins or DEFAULTS.cors_origins),
        upload_storage_bytes=None if args.upload_storage_mb is None
        else args.upload_storage_mb * 2**20,
    )
    _access_log(args.access_log)
    try:
        check_port_free(args.host, args.port)
        app = create_app(settings)
    except PortBusy as exc:
        print(f"mock-server: cannot listen: {exc}", file=sys.stderr)
        return 2
    except (StateUnavailable, ValueError) as exc:
        print(f"mock-server: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 2
    services = app.extensions[SERVICES]
    base = f"http://{args.host}:{args.port}"
    print(f"mock-server: Sport Activities API at {base}/activities/v1/events", flush=True)
    print(f"mock-server: Sports Tracking Data API at {base}/sportstrackingdata/v2/activities")
    print(f"mock-server: Swagger UI at {base}/activities/api/swagger")
    print(f"mock-server: API key (X-Api-Key): {', '.join(settings.api_keys)}")
    print("mock-server: bearer token: run `mock-server token` (add --seed/--token-secret if "
          "you changed them)")
    if settings.admin_enabled:
        print(f"mock-server: admin API at {base}/__admin/ (X-Admin-Key; spec at "
              f"{base}/__admin/openapi.yaml)")
    print(f"mock-server: state in {services.engine.describe()}, fixtures seed "
          f"{services.fixture_seed} with {services.fixture_events} events; "
          f"{args.workers} worker process{'es' * (args.workers > 1)}", flush=True)
    if (services.fixture_seed, services.fixture_events) != (settings.seed, settings.events):
        print("mock-server: (the state resumed from its database; --seed and --events apply "
              "to a new state only)", flush=True)
    parent = os.getpid()
    services.before_fork()  # every worker opens its own connections and threads
    app.extensions[CONTROLS].journal.store.before_fork()
    try:
        bridge = RsgiBridge(app, body_limit=body_limit, catch_up=SharedCatchUp(services).wait,
                            group=services.replica.group)
        serve_workers(bridge, host=args.host, port=args.port,
                      workers=args.workers,
                      on_ready=lambda: print("mock-server: ready", flush=True))
    finally:
        if os.getpid() == parent:
            services.close()
    return 0


def _access_log(enabled: bool) -> None:
    """The `mock_server.access` logger writes bare JSON lines to stderr, or nothing."""
    import logging

    logger = logging.getLogger("mock_server.access")
    logger.propagate = False
    logger.handlers.clear()
    if enabled:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    else:
        logger.setLevel(logging.CRITICAL + 1)


def _proxy(args: argparse.Namespace) -> int:
    import os

    import waitress

    from mock_server.controls.proxy import ProxyApp

    routes = {}
    for item in args.route:
        prefix, sep, url = item.partition("=")
        if not sep or not prefix.startswith("/") or not url:
            print(f"mock-server: --route wants PREFIX=URL, got {item!r}", file=sys.stderr)
            return 2
        routes[prefix] = url
    admin_key = None if args.no_admin else (
        args.admin_key or os.environ.get(ADMIN_KEY_ENV) or DEFAULTS.admin_key)
    _access_log(args.access_log)
    app = ProxyApp(args.upstream, routes=routes, report_path=args.report, admin_key=admin_key,
                   journal_size=args.journal_size, timeout=args.timeout)
    base = f"http://{args.host}:{args.port}"
    print(f"mock-server: validation proxy at {base} -> {args.upstream}")
    for prefix, url in routes.items():
        print(f"mock-server:   {prefix}/... -> {url}/...")
    if admin_key is not None:
        print(f"mock-server: report at {base}/__admin/report (X-Admin-Key)")
    if args.report:
        print(f"mock-server: report file {args.report}")
    print("mock-server: ready", flush=True)
    on_termination(app.close)
    try:
        waitress.serve(app, host=args.host, port=args.port, threads=args.threads,
                       ident="mock-server-proxy", _quiet=True)
    finally:
        app.close()
    return 0


def on_termination(handler: Callable[[], None]) -> None:
    """Run ``handler`` on SIGTERM, then leave as on Ctrl-C (waitress shuts down cleanly).

    Must be called from the main thread (Python delivers signals there).
    """

    def terminate(signum: int, frame: FrameType | None) -> None:
        try:
            handler()
        finally:
            raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "token":
        return _token(args)
    if args.command == "admin":
        from mock_server.admin_cli import run_admin

        return run_admin(args)
    if args.command == "proxy":
        return _proxy(args)
    if args.command == "postman":
        from mock_server.postman import run_postman

        return run_postman(args)
    return _serve(args)


if __name__ == "__main__":
    raise SystemExit(main())
