"""Sport Activities API v1 handlers: translate a validated call into domain calls and back.

Handlers hold no rules: the domain decides, raising errors that carry their documented status;
these functions only pick the arguments out of the call and shape the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mock_server.api.calls import Call, Reply
from mock_server.api.shaping import page_envelope
from mock_server.domain.activities import events, subscriptions, users
from mock_server.domain.activities.models import Event
from mock_server.domain.pagination import Page, paginate
from mock_server.domain.times import parse_datetime
from mock_server.services import Services

TRUE = {"data": True}


def _page(call: Call, items: Sequence[Any]) -> Reply:
    """The documented envelope around one page of `items` (already in their stable order)."""
    return _envelope(call, paginate(items, call.query["page"], call.headers["X-Desired-Limit"]))


#: Events whose payload is remembered (a few MB); the cache starts afresh when full.
PAYLOAD_CACHE_SIZE = 8192
_payloads: dict[int, tuple[Event, dict[str, Any]]] = {}


def event_payload(event: Event) -> dict[str, Any]:
    """``event.to_json()``, made once per version of an event: read-only, shared.

    An event is a frozen object and every change makes a new one, so its payload never goes
    stale; serialising the 25 events of a page was a third of a list request. The entry keeps
    the event alive, so its ``id`` cannot be reused while cached. Only the reply's own
    serialisation and validation read the payload: nothing may change it.
    """
    entry = _payloads.get(id(event))
    if entry is not None and entry[0] is event:
        return entry[1]
    payload = event.to_json()
    if len(_payloads) >= PAYLOAD_CACHE_SIZE:
        _payloads.clear()
    _payloads[id(event)] = (event, payload)
    return payload


def _json_of(item: Any) -> Any:
    return event_payload(item) if isinstance(item, Event) else item.to_json()


def _envelope(call: Call, page: Page[Any]) -> Reply:
    return Reply(200, page_envelope(page, [_json_of(item) for item in page.items],
                                    call.api_path, call.query_string))


def _optional_datetime(value: str | None) -> Any:
    return None if value is None else parse_datetime(value)


def list_events(services: Services, call: Call) -> Reply:
    query = call.query
    criteria = events.EventQuery(
        latitude=query["latitude"],
        longitude=query["longitude"],
        distance=query["distance"],
        sport=query.get("sport"),
        start_date=_optional_datetime(query.get("start_date")),
        end_date=_optional_datetime(query.get("end_date")),
        age_min=query.get("age_min"),
        age_max=query.get("age_max"),
        levels=tuple(query.get("level[]", ())),
    )
    page = events.page_public_events(services.store, criteria, call.now, call.query["page"],
                                     call.headers["X-Desired-Limit"])
    return _envelope(call, page)


def create_event(services: Services, call: Call) -> Reply:
    event = events.create_event(services.store, call.user, call.body, call.now)
    return Reply(201, {"data": event.to_json()})


def get_event(services: Services, call: Call) -> Reply:
    event = events.get_event(services.store, call.user, call.path["id"], call.now)
    return Reply(200, {"data": event_payload(event)})


def patch_event(services: Services, call: Call) -> Reply:
    event = events.patch_event(services.store, call.user, call.path["id"], call.body, call.now)
    return Reply(200, {"data": event.to_json()})


def cancel_event(services: Services, call: Call) -> Reply:
    event = events.cancel_event(services.store, call.user, call.path["id"], call.now)
    return Reply(200, {"data": event.to_json()})


def duplicate_event(services: Services, call: Call) -> Reply:
    event = events.duplicate_event(services.store, call.user, call.path["id"], call.now)
    return Reply(201, {"data": event.to_json()})


def list_my_events(services: Services, call: Call) -> Reply:
    mine = events.list_mine(services.store, call.user, call.query["type"], call.query.get("event"))
    return _page(call, mine)


def list_subscribers(services: Services, call: Call) -> Reply:
    found = subscriptions.list_subscribers(services.store, call.user, call.path["id"], call.now)
    return _page(call, found)


def add_subscriber(services: Services, call: Call) -> Reply:
    subscriptions.subscribe(services.store, call.user, call.path["id"], call.body, call.now)
    return Reply(201, TRUE)


def update_subscriber(services: Services, call: Call) -> Reply:
    subscriptions.update_subscription(
        services.store, call.user, call.path["id"], call.path["user"], call.body
    )
    return Reply(200, TRUE)


def remove_subscriber(services: Services, call: Call) -> Reply:
    subscriptions.unsubscribe(services.store, call.user, call.path["id"], call.path["user"])
    return Reply(200, TRUE)


def get_my_subscription(services: Services, call: Call) -> Reply:
    mine = subscriptions.my_subscription(services.store, call.user, call.path["id"])
    return Reply(200, mine.to_json())


def search_user_by_external_id(services: Services, call: Call) -> Reply:
    found = users.search_by_external_id(services.store, call.query["external_id"],
                                        call.query["type"])
    return Reply(200, {"data": [user.to_json() for user in found]})


def get_authenticated_user(services: Services, call: Call) -> Reply:
    return Reply(200, call.user.to_json())
