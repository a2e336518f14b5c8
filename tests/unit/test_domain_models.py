"""Payload shapes (the documents' JSON), body readers, wire date-times and clocks."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from mock_server.domain.activities.fields import (
    FieldSpec,
    is_blank,
    read_body,
    read_children,
    read_int,
    read_levels,
    read_text,
)
from mock_server.domain.activities.models import (
    Child,
    Event,
    Subscriber,
    Subscription,
    User,
)
from mock_server.domain.clock import SystemClock, VirtualClock
from mock_server.domain.errors import DomainError, Forbidden, NotFound, RuleViolation
from mock_server.domain.times import format_datetime, parse_datetime
from mock_server.seed import DEFAULT_USER_ID, build_fixtures

FIXTURES = build_fixtures(seed=42, events=20)
EVENT_KEYS = {
    "id", "title", "status", "description", "start_date", "end_date", "publish_date", "picture",
    "sport_id", "latitude", "longitude", "level", "extra_location", "age_min", "age_max",
    "slots_limit", "slots", "owner", "owner_message", "equipment_provided", "equipment_required",
    "equipment_linked", "subscription_disabled",
}  # fmt: skip


def test_errors_carry_their_http_status() -> None:
    assert (NotFound().status, Forbidden().status, RuleViolation().status) == (404, 403, 422)
    error = RuleViolation("Nope.", {"title": ["The title field is required."]})
    assert isinstance(error, DomainError)
    assert error.message == "Nope."
    assert error.errors == {"title": ["The title field is required."]}
    assert RuleViolation().message == "The given data was invalid."
    assert NotFound().errors is None


def test_fed_user_json_is_the_documented_one() -> None:
    assert FIXTURES.user(DEFAULT_USER_ID).to_json() == {
        "id": "28cce8e0-2d57-4e54-8888-2fc69690aeeb",
        "type": "FED",
        "name": "John D",
        "photo": "//iam.subsidia.org/photos/users/JOHND01.jpg",
        "title": "Leader magasin",
        "site_id": "0070064800648",
        "mail": "hello@world.com",
        "site": {"id": 648, "name": "Magasin b'Twin village"},
    }


def test_decathlon_connect_user_json_has_only_id_type_name() -> None:
    user = FIXTURES.user("3d416216-7a1d-11e8-adc0-fa7ae01bbebc")
    assert user.to_json() == {
        "id": "3d416216-7a1d-11e8-adc0-fa7ae01bbebc",
        "type": "DKTCONNECT",
        "name": "John2 D",
    }


def test_event_json_has_exactly_the_documented_keys() -> None:
    payload = FIXTURES.events[0].to_json()
    assert set(payload) == EVENT_KEYS
    assert payload["id"] == 1
    assert payload["level"] == [5, 10]
    assert payload["slots_limit"] == 7 and payload["slots"] == 7
    assert payload["start_date"].endswith("Z") and len(payload["start_date"]) == 20
    assert payload["extra_location"]["custom_adress"]["name"] == "Decathlon Croix"
    assert payload["owner"]["id"] == DEFAULT_USER_ID


def test_event_json_slots_are_the_free_places() -> None:
    event = FIXTURES.events[2]  # the full fixture event
    assert event.slots_limit == 4 and event.places_taken == 4
    assert event.to_json()["slots"] == 0


def test_event_json_cannot_mutate_the_stored_event() -> None:
    event = FIXTURES.events[0]
    payload = event.to_json()
    payload["extra_location"]["place_id"] = "changed"
    payload["level"].append(20)
    assert event.extra_location is not None
    assert event.extra_location["place_id"] == "ChIJYR2_AuYpw0cRcLCWaO3QHKE"
    assert event.level == (5, 10)


def test_models_are_frozen() -> None:
    with pytest.raises(AttributeError):
        FIXTURES.events[0].title = "x"  # type: ignore[misc]


def test_subscription_places_count_the_subscriber_additional_and_children() -> None:
    sub = Subscription("u", additional_subscribers=2, children=(Child("Suzie"), Child("Michael")))
    assert sub.places == 5
    assert Subscription("u").places == 1


def test_subscriber_json_is_user_plus_subscription() -> None:
    user = FIXTURES.user("3d416216-7a1d-11e8-adc0-fa7ae01bbebc")
    sub = Subscription(user.id, additional_subscribers=1, children=(Child("Suzie"),))
    assert Subscriber(user, sub).to_json() == {
        "id": user.id,
        "type": "DKTCONNECT",
        "name": "John2 D",
        "additional_subscribers": 1,
        "has_attended": False,
        "children": [{"name": "Suzie"}],
    }


def test_state_forms_round_trip() -> None:
    for user in FIXTURES.users:
        assert User.from_state(user.to_state()) == user
    for event in FIXTURES.events:
        places = event.places_taken
        assert Event.from_state(event.to_state(), event.owner, places) == event
    sub = Subscription("u", 1, True, (Child("A"),))
    assert Subscription.from_state(sub.to_state()) == sub


# -- readers -----------------------------------------------------------------------------------


def test_read_body_lists_every_problem_at_once() -> None:
    specs = {
        "title": FieldSpec(read_text, required=True),
        "count": FieldSpec(read_int, required=True),
        "note": FieldSpec(read_text, nullable=True),
    }
    with pytest.raises(RuleViolation) as caught:
        read_body({"count": True, "extra": 1, "note": None}, specs)
    assert caught.value.errors is not None
    assert set(caught.value.errors) == {"title", "count", "extra"}
    assert caught.value.errors["extra"] == ["The extra field is not allowed."]


def test_read_body_partial_allows_absent_but_not_null() -> None:
    specs = {"title": FieldSpec(read_text, required=True)}
    assert read_body({}, specs, partial=True) == {}
    with pytest.raises(RuleViolation) as caught:
        read_body({"title": None}, specs, partial=True)
    assert caught.value.errors == {"title": ["The title field is required."]}


def test_read_body_refuses_a_non_object() -> None:
    with pytest.raises(RuleViolation) as caught:
        read_body([1, 2], {})
    assert caught.value.errors is not None and "body" in caught.value.errors


@pytest.mark.parametrize("levels", [[], [7], [5, 5], ["5"], [True], "5"])
def test_read_levels_refuses_invalid_levels(levels: object) -> None:
    with pytest.raises(ValueError):
        read_levels("level", levels)


def test_read_levels_keeps_order() -> None:
    assert read_levels("level", [20, 5]) == (20, 5)


@pytest.mark.parametrize(
    "children", [{}, [{}], [{"name": ""}], [{"name": 3}], [{"name": "A", "age": 3}], ["A"]]
)
def test_read_children_refuses_malformed_children(children: object) -> None:
    with pytest.raises(ValueError):
        read_children("children", children)


@pytest.mark.parametrize("text", ["", " ", " \t\n", "\u001d", "\x00", "\x7f", "\x85",
                                  "\u00a0", "\u200b\ufeff", "\u3000 "])
def test_blank_texts_are_no_title_and_no_name(text: str) -> None:
    """Control characters and every kind of space are blank, `"\\u001d"` included (which
    `str.strip()` removes but JavaScript's `\\s` does not match): one rule, stated once."""
    assert is_blank(text)
    with pytest.raises(ValueError):
        read_text("title", text)
    with pytest.raises(ValueError):
        read_children("children", [{"name": text}])


@pytest.mark.parametrize("text", ["a", " a ", "\u001dSuzie", "é", "\U0001f600"])
def test_a_visible_character_makes_a_text(text: str) -> None:
    assert not is_blank(text)
    assert read_text("title", text) == text
    assert read_children("children", [{"name": text}])[0].name == text


# -- date-times --------------------------------------------------------------------------------


def test_parse_datetime_reads_the_wire_format() -> None:
    assert parse_datetime("2018-07-21T17:32:28Z") == datetime(2018, 7, 21, 17, 32, 28, tzinfo=UTC)


def test_parse_datetime_normalises_offsets_and_drops_fractions() -> None:
    parsed = parse_datetime("2018-07-21T19:32:28.123+02:00")
    assert parsed == datetime(2018, 7, 21, 17, 32, 28, tzinfo=UTC)
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("value", ["2018-07-21T17:32:28", "2018-07-21", "yesterday", "", 12])
def test_parse_datetime_refuses_naive_or_garbage(value: object) -> None:
    with pytest.raises(ValueError):
        parse_datetime(value)  # type: ignore[arg-type]


def test_format_datetime_is_utc_seconds_with_z() -> None:
    moment = datetime(2018, 7, 21, 19, 32, 28, 999, tzinfo=timezone(timedelta(hours=2)))
    assert format_datetime(moment) == "2018-07-21T17:32:28Z"
    with pytest.raises(ValueError):
        format_datetime(datetime(2018, 7, 21))


# -- clocks ------------------------------------------------------------------------------------


def test_system_clock_is_aware_utc() -> None:
    now = SystemClock().now()
    assert now.tzinfo is UTC
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


def test_virtual_clock_stands_still_until_moved() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    clock = VirtualClock(start)
    assert clock.now() == start == clock.now()
    assert clock.advance(timedelta(hours=1)) == start + timedelta(hours=1)
    assert clock.advance(30) == start + timedelta(hours=1, seconds=30)
    clock.set(datetime(2025, 1, 1, 2, tzinfo=timezone(timedelta(hours=2))))
    assert clock.now() == datetime(2025, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        clock.set(datetime(2025, 1, 1))


def test_virtual_clock_advances_are_not_lost_between_threads() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    clock = VirtualClock(start)

    def advance() -> None:
        for _ in range(100):
            clock.advance(1)

    threads = [threading.Thread(target=advance) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clock.now() == start + timedelta(seconds=800)


def test_the_domain_package_exports_what_the_http_layer_calls() -> None:
    import mock_server.domain.activities as domain

    expected = {
        "list_public_events", "create_event", "get_event", "patch_event", "cancel_event",
        "duplicate_event", "list_mine", "list_subscribers", "subscribe", "update_subscription",
        "unsubscribe", "my_subscription", "search_by_external_id", "find_user", "paginate",
        "parse_datetime", "format_datetime", "DomainError", "NotFound", "Forbidden",
        "RuleViolation", "Clock", "SystemClock", "VirtualClock", "EventQuery", "GeoIndex",
    }  # fmt: skip
    assert expected <= set(domain.__all__)
    assert all(hasattr(domain, name) for name in domain.__all__)
