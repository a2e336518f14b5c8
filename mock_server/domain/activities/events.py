"""Sport activities: listing, reading, creating, changing, cancelling, duplicating.

Rules (documents + DECISIONS.md) enforced here:

* Visibility: the public list shows PUBLISHED events whose ``publish_date`` is unset or past.
  Anyone but the owner gets 404 for a PENDING or not-yet-public event (its existence is not
  revealed); CANCELED events stay readable ("can still be read and duplicated").
* Only the owner patches, cancels or duplicates (403 otherwise). CANCELED is final: reached only
  through cancel, never patched again. A PATCH of ``status`` moves between PENDING and PUBLISHED.
* ``slots`` in a body is the capacity; it can never drop below the places already taken.
* Every list is ordered by ``start_date`` then ``id``.

Every function holds the store lock for its whole check-then-act; the events it returns are
frozen snapshots the caller may serialise after the lock is released.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Final

from mock_server.domain.activities.fields import (
    FieldInvalid,
    FieldSpec,
    read_body,
    read_bool,
    read_datetime,
    read_int,
    read_levels,
    read_number,
    read_object,
    read_optional_text,
    read_string_list,
    read_text,
)
from mock_server.domain.activities.models import (
    CANCELED,
    LEVELS,
    PENDING,
    PUBLISHED,
    Event,
    User,
)
from mock_server.domain.errors import FieldErrors, Forbidden, NotFound, RuleViolation
from mock_server.domain.pagination import Page, counted_page, paginate

DEFAULT_DISTANCE_KM: Final = 100
MIN_DISTANCE_KM: Final = 1
MAX_DISTANCE_KM: Final = 20_000

MINE_TYPES: Final[tuple[str, ...]] = ("created", "subscribed")

#: start_date ascending, then id ascending (DECISIONS.md "Order of every event list").
event_order = attrgetter("start_date", "id")
_by_id = attrgetter("id")
_by_start = attrgetter("start_date")

if TYPE_CHECKING:
    from mock_server.domain.ports import Store


def sort_events(events: list[Event]) -> None:
    """Sort in place by ``event_order``.

    Two stable single-key sorts instead of one sort on ``(start_date, id)`` tuples: no tuple per
    event, so sorting the 600k events of a wide query on a million takes half the time.
    """
    events.sort(key=_by_id)
    events.sort(key=_by_start)


def _read_status(field: str, value: Any) -> str:
    if value == CANCELED:
        raise FieldInvalid(
            "An event is canceled only through POST /v1/events/{id}/cancel, not by its status."
        )
    if value not in (PUBLISHED, PENDING):
        raise FieldInvalid(f"The {field} must be one of {PUBLISHED}, {PENDING}.")
    return str(value)


def _read_latitude(field: str, value: Any) -> float:
    return read_number(field, value, -90.0, 90.0)


def _read_longitude(field: str, value: Any) -> float:
    return read_number(field, value, -180.0, 180.0)


def _read_age(field: str, value: Any) -> int:
    return read_int(field, value, minimum=0)


def _read_slots(field: str, value: Any) -> int:
    return read_int(field, value, minimum=1)


#: The create body (documents' "Query body" table plus the optional fields its example sends).
EVENT_BODY: Final[dict[str, FieldSpec]] = {
    "title": FieldSpec(read_text, required=True),
    "description": FieldSpec(read_text, required=True),
    "picture": FieldSpec(read_optional_text, nullable=True),
    "sport_id": FieldSpec(read_int, required=True),
    "start_date": FieldSpec(read_datetime, required=True),
    "end_date": FieldSpec(read_datetime, required=True),
    "publish_date": FieldSpec(read_datetime, nullable=True),
    "latitude": FieldSpec(_read_latitude, required=True),
    "longitude": FieldSpec(_read_longitude, required=True),
    "level": FieldSpec(read_levels, required=True),
    "extra_location": FieldSpec(read_object, nullable=True),
    "age_min": FieldSpec(_read_age, required=True),
    "age_max": FieldSpec(_read_age, required=True),
    "slots": FieldSpec(_read_slots, required=True),
    "owner_message": FieldSpec(read_optional_text, nullable=True),
    "equipment_provided": FieldSpec(read_optional_text, nullable=True),
    "equipment_required": FieldSpec(read_optional_text, nullable=True),
    "equipment_linked": FieldSpec(read_string_list),
    "subscription_disabled": FieldSpec(read_bool),
    "status": FieldSpec(_read_status),
}


@dataclass(frozen=True, slots=True)
class EventQuery:
    """Criteria of ``GET /v1/events`` (the documents' query parameters, already typed)."""

    latitude: float
    longitude: float
    distance: float = DEFAULT_DISTANCE_KM
    sport: int | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    age_min: int | None = None
    age_max: int | None = None
    levels: tuple[int, ...] = ()


def _check_query(query: EventQuery) -> None:
    problems = FieldErrors()
    checks: list[tuple[str, Any, Any]] = [
        ("latitude", query.latitude, _read_latitude),
        ("longitude", query.longitude, _read_longitude),
    ]
    for field, value, reader in checks:
        try:
            reader(field, value)
        except FieldInvalid as exc:
            problems.add(field, str(exc))
    try:
        read_number("distance", query.distance, MIN_DISTANCE_KM, MAX_DISTANCE_KM)
    except FieldInvalid as exc:
        problems.add("distance", str(exc))
    for field, age in (("age_min", query.age_min), ("age_max", query.age_max)):
        if age is not None:
            try:
                _read_age(field, age)
            except FieldInvalid as exc:
                problems.add(field, str(exc))
    for level in query.levels:
        if level not in LEVELS:
            problems.add("level", f"The selected level {level} is invalid.")
    problems.raise_if_any()


def list_public_events(store: Store, query: EventQuery, now: datetime) -> list[Event]:
    """Public events matching ``query``, ordered by start date then id.

    Filters (DECISIONS.md): PUBLISHED and public (``publish_date`` unset or past); within
    ``distance`` km (great-circle); ``sport`` equal; the event's time span overlaps
    [start_date, end_date]; its age range overlaps [age_min, age_max]; it has any of
    ``levels``. Bounds are inclusive and each side of a window may be open. The store's
    ``catalog.EventCatalog`` applies them in columns (see there).
    """
    _check_query(query)
    return store.public_events(query, now)[1]


def page_public_events(
    store: Store, query: EventQuery, now: datetime, page: int, per_page: int
) -> Page[Event]:
    """One page of ``list_public_events`` and the total, without ordering all the matches.

    ``GET /v1/events`` shows 25 of what can be a hundred thousand matches at the million
    scale: only the page is taken out of the catalog and ordered.
    """
    _check_query(query)
    paginate((), page, per_page)  # refuses a bad page or page size, like every list
    offset = (page - 1) * per_page
    total, events = store.public_events(query, now, offset, per_page)
    return counted_page(events, total, page, per_page)


def is_visible(event: Event, caller: User | None, now: datetime) -> bool:
    """Whether ``caller`` (``None``: anonymous) may know this event exists."""
    if caller is not None and caller.id == event.owner.id:
        return True
    if event.status == PENDING:
        return False
    return event.publish_date is None or event.publish_date <= now


def get_event(store: Store, caller: User | None, event_id: int, now: datetime) -> Event:
    """One event; ``NotFound`` when it does not exist or the caller may not see it."""
    event = store.get_event(event_id)
    if event is None or not is_visible(event, caller, now):
        raise NotFound(f"Event {event_id} not found.")
    return event


def _owned_event(store: Store, caller: User, event_id: int, now: datetime) -> Event:
    """The event if the caller owns it: 404 if they cannot see it, else 403 if not theirs."""
    event = get_event(store, caller, event_id, now)
    if caller.id != event.owner.id:
        raise Forbidden("Only the owner of the event may do this.")
    return event


def _fields_to_event_values(fields: dict[str, Any]) -> dict[str, Any]:
    """Map body names onto ``Event`` attributes (``slots`` in a body is the capacity)."""
    values = dict(fields)
    if "slots" in values:
        values["slots_limit"] = values.pop("slots")
    return values


def _check_consistency(event: Event, body_fields: Iterable[str]) -> None:
    """Rules across fields, checked on the would-be event (after a patch is applied)."""
    given = set(body_fields)
    problems = FieldErrors()
    if event.end_date <= event.start_date:
        field = "start_date" if "start_date" in given and "end_date" not in given else "end_date"
        problems.add(field, "The end date must be a date after start date.")
    if event.age_min > event.age_max:
        field = "age_min" if "age_min" in given and "age_max" not in given else "age_max"
        problems.add(field, "The age max must be greater than or equal to age min.")
    if event.slots_limit < event.places_taken:
        problems.add(
            "slots",
            f"The slots must be at least {event.places_taken}, the places already taken.",
        )
    problems.raise_if_any()


def create_event(store: Store, caller: User, body: dict[str, Any], now: datetime) -> Event:
    """Create an event owned by ``caller``; PUBLISHED unless the body says PENDING.

    ``now`` is accepted so every mutating function has the same shape; creation itself has no
    time rule (the documents allow an event in the past, e.g. for a duplicate to be edited).
    """
    fields = read_body(body, EVENT_BODY)
    values = _fields_to_event_values(fields)
    values.setdefault("status", PUBLISHED)
    candidate = Event(
        id=0,
        title=values["title"],
        status=values["status"],
        description=values["description"],
        start_date=values["start_date"],
        end_date=values["end_date"],
        publish_date=values.get("publish_date"),
        picture=values.get("picture"),
        sport_id=values["sport_id"],
        latitude=values["latitude"],
        longitude=values["longitude"],
        level=values["level"],
        extra_location=values.get("extra_location"),
        age_min=values["age_min"],
        age_max=values["age_max"],
        slots_limit=values["slots_limit"],
        owner=caller,
        owner_message=values.get("owner_message"),
        equipment_provided=values.get("equipment_provided"),
        equipment_required=values.get("equipment_required"),
        equipment_linked=values.get("equipment_linked", ()),
        subscription_disabled=values.get("subscription_disabled", False),
    )
    _check_consistency(candidate, fields)
    with store.transaction():
        if store.get_user(caller.id) is None:
            raise Forbidden("Unknown user.")
        return store.add_event(candidate)


def patch_event(
    store: Store, caller: User, event_id: int, body: dict[str, Any], now: datetime
) -> Event:
    """Change some fields of the caller's event; the same rules as creation apply."""
    fields = read_body(body, EVENT_BODY, partial=True)
    with store.transaction():
        event = _owned_event(store, caller, event_id, now)
        if event.status == CANCELED:
            raise RuleViolation("A canceled event can no longer be modified.")
        if not fields:
            return event
        changed = replace(event, **_fields_to_event_values(fields))
        _check_consistency(changed, fields)
        return store.replace_event(changed)


def cancel_event(store: Store, caller: User, event_id: int, now: datetime) -> Event:
    """Cancel the caller's event (final). Subscriptions are kept so attendees can be told."""
    with store.transaction():
        event = _owned_event(store, caller, event_id, now)
        if event.status == CANCELED:
            raise RuleViolation("The event is already canceled.")
        return store.replace_event(replace(event, status=CANCELED))


def duplicate_event(store: Store, caller: User, event_id: int, now: datetime) -> Event:
    """Copy the caller's event under a new id, PENDING, without subscribers (all places free)."""
    with store.transaction():
        event = _owned_event(store, caller, event_id, now)
        return store.add_event(replace(event, id=0, status=PENDING, places_taken=0))


def list_mine(store: Store, caller: User, type: str, event_id: int | None = None) -> list[Event]:
    """The caller's created (any status) or subscribed events, ordered like every list.

    ``event_id`` narrows the list to that event, so a client asks "am I subscribed to 12?"
    with ``type=subscribed&event=12`` and gets one event or none.
    """
    if type not in MINE_TYPES:
        raise RuleViolation(errors={"type": [f"The type must be one of {', '.join(MINE_TYPES)}."]})
    with store.transaction():
        if type == "created":
            events = store.events_owned_by(caller.id)
        else:
            events = store.events_subscribed_by(caller.id)
    if event_id is not None:
        events = [event for event in events if event.id == event_id]
    sort_events(events)
    return events
