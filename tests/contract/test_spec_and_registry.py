"""The spec index, operation selection, the check registry, and what the kit imports."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

import contracts
from contracts import REGISTRY, Selection, Spec, Target
from contracts.shape_schema import RULES_PATH, SHAPE_RULES
from contracts.spec import LinkTracker

PACKAGE = Path(contracts.__file__).parent


def test_every_operation_is_indexed_with_its_api(spec: Spec) -> None:
    labels = {op.label: op for op in spec.operations}
    assert len(labels) == 18
    assert labels["GET /v1/events"].api == "activities"
    assert not labels["GET /v1/events"].needs_token
    assert labels["POST /v2/upload"].api == "tracking"
    assert labels["POST /v2/upload"].needs_token
    assert len(spec.links) == 38  # components/links by reference, resolved
    assert all(link.target != "?" for link in spec.links)


@pytest.mark.parametrize(("path", "expected"), [
    ("/v1/events", "listEvents"),
    ("/v1/events/mine", "listMyEvents"),
    ("/v1/events/12", "getEvent"),
    ("/v1/events/12/subscribers/me", "getMySubscription"),
    ("/v1/unknown", None),
])
def test_a_concrete_path_is_matched_to_its_operation(spec: Spec, path: str,
                                                     expected: str | None) -> None:
    found = spec.match("GET", "activities", path)
    assert (found.operation_id if found else None) == expected


def test_a_method_the_most_specific_path_lacks_matches_nothing(spec: Spec) -> None:
    assert spec.match("PATCH", "activities", "/v1/events/mine") is None
    assert spec.match("PATCH", "activities", "/v1/events/7").operation_id == "patchEvent"


def test_selection_filters_combine(spec: Spec) -> None:
    def ids(selection: Selection) -> set[str]:
        return {op.operation_id for op in spec.select(selection)}

    assert ids(Selection(apis=("tracking",))) == {"uploadFile", "listActivities", "getActivity",
                                                  "updateActivity"}
    assert ids(Selection(tags=("subscribers",), methods=("get",))) == {"listSubscribers",
                                                                      "getMySubscription"}
    assert ids(Selection(path_patterns=(r"^/v1/events/\{id\}$",))) == {"getEvent", "patchEvent"}
    read_only = ids(Selection(read_only=True))
    assert "createEvent" not in read_only and "listEvents" in read_only
    with pytest.raises(ValueError, match="unknown API"):
        Selection(apis=("payments",))  # type: ignore[arg-type]


def test_servers_are_rewritten_per_api(spec: Spec) -> None:
    target = Target.from_urls(activities_url="https://a.example/activities",
                              tracking_url="https://t.example/sportstrackingdata")
    raw = spec.for_servers(target.urls)
    assert raw["paths"]["/v1/events"]["servers"] == [{"url": "https://a.example/activities"}]
    assert raw["paths"]["/v2/upload"]["servers"] == [
        {"url": "https://t.example/sportstrackingdata"}]
    assert spec.raw["paths"]["/v1/events"]["servers"][0]["url"].startswith("https://api-eu")


def test_link_tracker_sees_a_value_of_an_answer_used_by_the_link_target(spec: Spec) -> None:
    tracker = LinkTracker(spec)
    create, get = spec.operation("createEvent"), spec.operation("getEvent")
    tracker.observe(create, "/v1/events", 201, {"title": "x"}, {"data": {"id": 41}})
    tracker.observe(get, "/v1/events/40", 200, None, None)
    assert tracker.followed == {}
    tracker.observe(get, "/v1/events/41", 200, None, None)
    assert tracker.followed == {("createEvent", "GetEvent", "getEvent"): 1}
    add = spec.operation("addSubscriber")
    tracker.observe(add, "/v1/events/41/subscribers", 201, {"user": "u-1"}, {"data": True})
    tracker.observe(spec.operation("removeSubscriber"), "/v1/events/41/subscribers/u-1", 200,
                    None, None)
    assert tracker.followed[("addSubscriber", "RemoveSubscriber", "removeSubscriber")] == 1


def test_every_behaviour_check_is_named_documented_and_cited() -> None:
    names = REGISTRY.names()
    assert len(names) >= 15 and len(set(names)) == len(names)
    operation_ids = {op.operation_id for op in Spec.load().operations}
    for check in REGISTRY:
        assert check.func.__name__ == check.name, "a check is named for the property it asserts"
        assert check.rule.endswith(".") and len(check.rule) > 40
        assert check.cites and all(" > " in cite for cite in check.cites), check.name
        assert any(cite.startswith(("Sport Activities API", "Sports Tracking Data API"))
                   for cite in check.cites), f"{check.name} cites no section of the documents"
        assert set(check.operations) <= operation_ids, check.name
        assert check.func.__doc__ is None or check.func.__doc__.strip()
    assert set(SHAPE_RULES).isdisjoint(names)


def test_the_issue_s_rules_all_have_a_check() -> None:
    required = {
        "created_event_reads_back_as_sent", "patch_changes_only_given_fields",
        "cancel_gives_canceled_and_hides_from_public_list",
        "duplicate_gives_pending_copy_with_new_id",
        "subscription_takes_places_and_unsubscription_gives_them_back",
        "full_event_refuses_subscription", "pages_agree_with_meta_and_links",
        "desired_limit_is_honoured", "listed_events_lie_within_distance_and_match_filters",
        "api_key_is_required_everywhere", "token_is_required_everywhere_but_public_list",
        "other_users_event_cannot_be_changed", "uploaded_file_comes_back_byte_for_byte",
        "upload_over_3mb_is_refused",
    }
    assert required <= set(REGISTRY.names())


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("module", sorted(str(p.relative_to(PACKAGE))
                                          for p in PACKAGE.rglob("*.py")))
def test_the_kit_never_imports_the_mock(module: str) -> None:
    """`contracts` knows only openapi.yaml and a URL; the plugin starts the mock by command."""
    assert "mock_server" not in _imports(PACKAGE / module)


def test_the_reasons_name_exactly_schemathesis_default_statuses_and_the_rules_add_422() -> None:
    """`VALID_REQUEST_STATUSES` explains schemathesis' own defaults, and schemathesis.toml,
    which the kit loads, adds 422 and nothing else for the rule-bound operations."""
    from schemathesis.config import SchemathesisConfig

    from contracts.shape_schema import VALID_REQUEST_STATUSES, load_rules

    default = SchemathesisConfig.from_dict({}).projects.get_default().checks_config_for()
    assert list(VALID_REQUEST_STATUSES) == default.positive_data_acceptance.expected_statuses
    rules = load_rules().projects.get_default()
    operations = [entry for entry in tomllib.loads(RULES_PATH.read_text())["operations"]]
    assert operations, "schemathesis.toml names the rule-bound operations"
    for entry in operations:
        statuses = entry["checks"]["positive_data_acceptance"]["expected-statuses"]
        assert sorted(statuses) == sorted([*VALID_REQUEST_STATUSES, "422"]), entry
    assert rules is not None
