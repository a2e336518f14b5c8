"""`mock-server serve | token`: start the mock on a real WSGI server, or mint a bearer token."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import timedelta

from mock_server.auth import DEFAULT_TOKEN_TTL, Tokens
from mock_server.data import DEFAULT_USER_ID, build_fixtures
from mock_server.domain.clock import SystemClock
from mock_server.domain.models import User
from mock_server.settings import API_KEYS_ENV, TOKEN_SECRET_ENV, Settings

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

    serve = commands.add_parser("serve", help="serve both APIs on a real WSGI server (waitress)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
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
    serve.add_argument("--threads", type=int, default=8, help="waitress worker threads")

    token = commands.add_parser("token", help="print a signed bearer token for a fixture user")
    token.add_argument("--user", default=None,
                       help="user uuid or external id (default: a fixture user owning events, "
                            "named on stderr)")
    _common(token)
    token.add_argument("--ttl", type=int, default=int(DEFAULT_TOKEN_TTL.total_seconds()),
                       help="seconds until the token expires (negative: already expired)")
    return parser


def _find_user(users: Sequence[User], wanted: str) -> User | None:
    for user in users:
        if wanted in (user.id, user.external_id):
            return user
    return None


def _token(args: argparse.Namespace) -> int:
    settings = Settings.from_environment(seed=args.seed, token_secret=args.token_secret)
    users = build_fixtures(seed=settings.seed, events=0).users
    user = _find_user(users, args.user or DEFAULT_USER_ID)
    if user is None:
        print(f"mock-server: no fixture user {args.user!r} for seed {settings.seed}",
              file=sys.stderr)
        return 2
    if args.user is None:
        print(f"token for {user.name} ({user.type}, {user.id})", file=sys.stderr)
    tokens = Tokens(settings.token_secret, SystemClock())
    print(tokens.issue(user.id, user.type, ttl=timedelta(seconds=args.ttl), name=user.name))
    return 0


def _serve(args: argparse.Namespace) -> int:
    import waitress

    from mock_server.app import create_app

    settings = Settings.from_environment(
        seed=args.seed, events=args.events, api_keys=args.api_keys,
        token_secret=args.token_secret,
        verify_token_signature=not args.accept_unverified_tokens,
        validate_responses=not args.no_response_validation,
    )
    app = create_app(settings)
    base = f"http://{args.host}:{args.port}"
    print(f"mock-server: Sport Activities API at {base}/activities/v1/events", flush=True)
    print(f"mock-server: Sports Tracking Data API at {base}/sportstrackingdata/v2/activities")
    print(f"mock-server: Swagger UI at {base}/activities/api/swagger")
    print(f"mock-server: API key (X-Api-Key): {', '.join(settings.api_keys)}")
    print("mock-server: bearer token: run `mock-server token` (add --seed/--token-secret if "
          "you changed them)", flush=True)
    waitress.serve(app, host=args.host, port=args.port, threads=args.threads, ident="mock-server",
                   _quiet=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "token":
        return _token(args)
    return _serve(args)


if __name__ == "__main__":
    raise SystemExit(main())
