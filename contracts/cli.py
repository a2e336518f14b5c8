"""`contracts run ...`: check a deployment from the command line (and `contracts checks`).

Exit status (`results.EXIT_CODES`, also in `--help`): 0 OK, everything selected was checked and
passed; 1 FAILED, a check failed or could not finish; 2 nothing could be checked (bad
arguments, target unreachable, credentials refused, token command failing); 3 INCOMPLETE,
nothing failed but something was not checked (the summary names what and why).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Sequence
from textwrap import indent

from .behaviour import REGISTRY
from .report import Progress, render_console, write_html, write_json, write_junit_xml
from .runner import (
    ALL_PHASES,
    DEFAULT_WORKERS,
    CredentialsRefused,
    RunOptions,
    TargetUnreachable,
    run,
)
from .shape_schema import SHAPE_RULES
from .spec import API_NAMES, Selection, Spec
from .target import Target
from .tokens import TokenCommandError, TokenSource

__all__ = ["build_parser", "main"]

EXAMPLES = """\
examples:
  # the offline mock (both APIs on one host; two fixture users' tokens from its admin API)
  contracts run --url http://127.0.0.1:8000 --api-key aaa-bbb-ccc --report-html report.html
  # production, safe requests only, one host per API
  contracts run --activities-url https://api-eu.decathlon.net/activities \\
      --tracking-url https://api.decathlon.net/sportstrackingdata \\
      --api-key "$CONTRACTS_API_KEY" --token-command "./get-token.sh" --read-only --rate-limit 2

environment: CONTRACTS_API_KEY, CONTRACTS_TOKEN and CONTRACTS_OTHER_TOKEN stand in for
--api-key, --token and --other-token; the curl commands of a report refer to them.

exit status:
  0  OK          every selected check ran and passed, and the API was covered
  1  FAILED      a check failed, or could not finish
  2  not run     bad arguments, target unreachable, credentials refused, token command failing
  3  INCOMPLETE  nothing failed, but something was not checked (the summary says what and why)
"""


def _split_phases(value: str) -> tuple[str, ...]:
    phases = tuple(part.strip() for part in value.split(",") if part.strip())
    unknown = [phase for phase in phases if phase not in ALL_PHASES]
    if unknown or not phases:
        raise argparse.ArgumentTypeError(f"unknown phase(s) {', '.join(unknown) or '(none)'}; "
                                         f"choose from {', '.join(ALL_PHASES)}")
    return phases


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _positive_float(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contracts",
        description="Contract checks for the Sport Activities API v1 and the Sports Tracking "
                    "Data API v2, against any deployment.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser(
        "run", help="check a deployment", epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run schemathesis (all checks, valid and invalid inputs, link sequences) "
                    "and the documented behaviour checks against a deployment; print the "
                    "verdict first, and exit 0 only when everything selected was checked "
                    "and passed.",
    )

    where = run_parser.add_argument_group("target (one base URL, or one URL per API)")
    where.add_argument("--url", "--base-url", dest="base_url", metavar="URL",
                       help="one host serving both APIs: <URL>/activities and "
                            "<URL>/sportstrackingdata (the mock; the same --url as "
                            "`mock-server admin`)")
    where.add_argument("--activities-url", metavar="URL",
                       help="root of the Sport Activities API, e.g. "
                            "https://api-eu.decathlon.net/activities")
    where.add_argument("--tracking-url", metavar="URL",
                       help="root of the Sports Tracking Data API, e.g. "
                            "https://api.decathlon.net/sportstrackingdata")
    where.add_argument("--spec", metavar="PATH", help="OpenAPI document (default: the "
                       "repository's openapi.yaml)")

    creds = run_parser.add_argument_group("credentials")
    creds.add_argument("--api-key", metavar="KEY", default=os.environ.get("CONTRACTS_API_KEY"),
                       help="X-Api-Key value (env CONTRACTS_API_KEY)")
    token = creds.add_mutually_exclusive_group()
    token.add_argument("--token", metavar="TOKEN", default=os.environ.get("CONTRACTS_TOKEN"),
                       help="bearer token of the main user (env CONTRACTS_TOKEN)")
    token.add_argument("--token-command", metavar="CMD",
                       help="command printing a fresh bearer token; run again when the target "
                            "answers 401 or 498")
    other = creds.add_mutually_exclusive_group()
    other.add_argument("--other-token", metavar="TOKEN",
                       default=os.environ.get("CONTRACTS_OTHER_TOKEN"),
                       help="a second user's token, for the checks that need two users "
                            "(env CONTRACTS_OTHER_TOKEN)")
    other.add_argument("--other-token-command", metavar="CMD",
                       help="command printing the second user's token")
    creds.add_argument("--mock-users", action=argparse.BooleanOptionalAction, default=True,
                       help="when the target is the offline mock and its admin API answers, "
                            "get the tokens not given for two fixture users from it (default: "
                            "yes; --no-mock-users turns it off)")
    creds.add_argument("--admin-key", metavar="KEY",
                       default=os.environ.get("MOCK_SERVER_ADMIN_KEY"),
                       help="the mock's admin key, for --mock-users (env MOCK_SERVER_ADMIN_KEY; "
                            "default admin-dev-key)")

    select = run_parser.add_argument_group("selection (repeatable; values OR-ed, filters AND-ed)")
    select.add_argument("--api", action="append", choices=API_NAMES, default=[],
                        help="only this API")
    select.add_argument("--tag", action="append", default=[], help="only operations with this "
                        "tag (Events, Subscribers, Users, Auth, Uploads, Activities)")
    select.add_argument("--method", action="append", default=[], type=str.upper,
                        help="only this HTTP method")
    select.add_argument("--path", action="append", default=[], metavar="REGEX",
                        help="only paths matching this regex, e.g. '^/v1/events'")
    select.add_argument("--read-only", action="store_true",
                        help="send only safe requests (GET): for production")
    select.add_argument("--check", action="append", default=[], metavar="NAME",
                        help="only this check (see `contracts checks`)")
    select.add_argument("--exclude-check", action="append", default=[], metavar="NAME",
                        help="skip this check")
    select.add_argument("--phases", type=_split_phases, default=ALL_PHASES, metavar="LIST",
                        help=f"comma-separated phases to run (default: {','.join(ALL_PHASES)})")

    budget = run_parser.add_argument_group("budget and reproducibility")
    budget.add_argument("--generation-seed", "--seed", dest="seed", type=int,
                        help="seed of every generated input (printed with each failure; pass "
                             "it again to replay); not the mock's fixture seed "
                             "(`mock-server serve --seed`)")
    budget.add_argument("--max-examples", type=_positive_int, default=10, metavar="N",
                        help="generated examples per operation and mode, and per behaviour "
                             "property (default 10)")
    budget.add_argument("--time-budget", type=_positive_float, metavar="SECONDS",
                        help="stop starting new work after this long")
    budget.add_argument("--concurrency", "--workers", dest="workers", type=_positive_int,
                        default=DEFAULT_WORKERS, metavar="N",
                        help="threads sending requests side by side (they take turns for the "
                             f"rest; default {DEFAULT_WORKERS}); threads, where `mock-server "
                             "serve --workers` counts processes")
    budget.add_argument("--rate-limit", type=_positive_float, metavar="REQ_PER_S",
                        help="at most this many requests per second")
    budget.add_argument("--coverage-cases", type=_positive_int, metavar="N",
                        help="boundary/invalid cases per operation (default 8 x max-examples)")
    budget.add_argument("--timeout", type=_positive_float, default=30.0, metavar="SECONDS",
                        help="per-request timeout (default 30)")

    output = run_parser.add_argument_group("output")
    output.add_argument("--junit-xml", metavar="PATH", help="write a JUnit XML report")
    output.add_argument("--report-json", metavar="PATH", help="write a JSON report")
    output.add_argument("--report-html", metavar="PATH",
                        help="write a one-page HTML report (self-contained, works offline)")
    output.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="live progress line on stderr (default: only on a terminal)")
    output.add_argument("--coverage", action=argparse.BooleanOptionalAction, default=True,
                        help="print the coverage view (default: yes)")

    commands.add_parser("checks", help="list the checks with their rules and citations")
    return parser


def _target_from(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Target:
    def source(token: str | None, command: str | None) -> TokenSource | None:
        if command:
            return TokenSource(command=command)
        return TokenSource(token=token) if token else None

    options = {
        "api_key": args.api_key,
        "token": source(args.token, args.token_command),
        "other_token": source(args.other_token, args.other_token_command),
        "read_only": args.read_only,
        "rate_limit": args.rate_limit,
        "timeout": args.timeout,
    }
    per_api = args.activities_url or args.tracking_url
    if args.base_url and per_api:
        parser.error("give --url, or --activities-url and --tracking-url, not both")
    try:
        if args.base_url:
            return Target.from_base_url(args.base_url, **options)
        if args.activities_url and args.tracking_url:
            return Target.from_urls(activities_url=args.activities_url,
                                    tracking_url=args.tracking_url, **options)
    except ValueError as exc:
        parser.error(str(exc))
    parser.error("a target is required: --url URL, or --activities-url URL and "
                 "--tracking-url URL")


def _replay_prefix(args: argparse.Namespace) -> str:
    """`contracts run` with this run's target and credentials (secrets by variable)."""
    parts = ["contracts", "run"]
    if args.base_url:
        parts += ["--url", shlex.quote(args.base_url)]
    else:
        parts += ["--activities-url", shlex.quote(args.activities_url),
                  "--tracking-url", shlex.quote(args.tracking_url)]
    if args.api_key:
        parts += ["--api-key", '"$CONTRACTS_API_KEY"']
    if args.token_command:
        parts += ["--token-command", shlex.quote(args.token_command)]
    elif args.token:
        parts += ["--token", '"$CONTRACTS_TOKEN"']
    if args.other_token_command:
        parts += ["--other-token-command", shlex.quote(args.other_token_command)]
    elif args.other_token:
        parts += ["--other-token", '"$CONTRACTS_OTHER_TOKEN"']
    if args.read_only:
        parts.append("--read-only")
    return " ".join(parts)


def _list_checks() -> int:
    print("Shape checks (schemathesis, on every selected operation):")
    for name, rule in SHAPE_RULES.items():
        print(f"  {name}\n{indent(rule, '      ')}")
    print("\nBehaviour checks (the documented rules):")
    for check in REGISTRY:
        needs = []
        if check.needs_other_user:
            needs.append("second user")
        if check.writes and not check.read_only_ok:
            needs.append("writes")
        suffix = f"  [{', '.join(needs)}]" if needs else ""
        print(f"  {check.name}{suffix}\n{indent(check.rule, '      ')}")
        for cite in check.cites:
            print(f"      - {cite}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "checks":
        return _list_checks()

    unknown = [name for name in [*args.check, *args.exclude_check]
               if name not in SHAPE_RULES and name not in REGISTRY]
    if unknown:
        parser.error(f"unknown check(s): {', '.join(unknown)} (see `contracts checks`)")
    target = _target_from(args, parser)
    try:
        spec = Spec.load(args.spec)
        selection = Selection(apis=tuple(args.api), tags=tuple(args.tag),
                              methods=tuple(args.method), path_patterns=tuple(args.path),
                              read_only=args.read_only)
    except (OSError, ValueError) as exc:
        parser.error(str(exc))
    progress = Progress(sys.stderr, enabled=args.progress)
    replay = _replay_prefix(args)
    options = RunOptions(
        seed=args.seed, max_examples=args.max_examples, time_budget=args.time_budget,
        workers=args.workers, phases=args.phases, checks=tuple(args.check),
        exclude_checks=tuple(args.exclude_check), coverage_cases=args.coverage_cases,
        progress=progress, replay_prefix=replay, mock_users=args.mock_users,
        admin_key=args.admin_key,
    )
    try:
        report = run(target, spec=spec, selection=selection, options=options)
    except (TargetUnreachable, CredentialsRefused, TokenCommandError) as exc:
        print(f"contracts: {exc}", file=sys.stderr)
        print("RESULT: NOT RUN (exit 2): nothing was checked", file=sys.stderr)
        return 2
    finally:
        target.close()
    report.command = " ".join(shlex.quote(arg) for arg in (argv if argv is not None
                                                              else sys.argv[1:]))
    secrets = target.secrets()
    sys.stdout.write(render_console(report, secrets=secrets, replay_prefix=replay,
                                    coverage=args.coverage))
    if args.junit_xml:
        write_junit_xml(report, args.junit_xml, secrets=secrets, replay_prefix=replay)
    if args.report_json:
        write_json(report, args.report_json, secrets=secrets)
    if args.report_html:
        write_html(report, args.report_html, secrets=secrets, replay_prefix=replay)
    return report.exit_code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
