"""Subscribers of an event: who may add, change and remove whom, and the places they take.

A subscription takes ``1 + additional_subscribers + len(children)`` places. Each function runs
under the store lock, so the free-places check and the write are one atomic step: fifty
concurrent requests for the last three places give exactly three subscriptions.

Who may do what (DECISIONS.md "Subscribers"):

* list: anyone who can see the event;
* add: the user themselves, or the event's owner for any known user (403 otherwise);
* update: ``has_attended`` by the owner, ``children``/``additional_subscribers`` by the
  subscriber (403 otherwise);
* remove: the subscriber or the owner; 404 when the user is not subscribed.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from mock_server.domain.activities.events import get_event
from mock_server.domain.activities.fields import (
    FieldInvalid,
    FieldSpec,
    read_body,
    read_bool,
    read_children,
    read_int,
)
from mock_server.domain.activities.models import (
    CANCELED,
    Event,
    Subscriber,
    Subscription,
    User,
)
from mock_server.domain.errors import Forbidden, NotFound, RuleViolation

if TYPE_CHECKING:
    from mock_server.domain.ports import Store


def _read_user_id(field: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FieldInvalid(f"The {field} must be a user id (uuid).")
    return value


def _read_additional(field: str, value: Any) -> int:
    return read_int(field, value, minimum=0)


SUBSCRIBE_BODY: Final[dict[str, FieldSpec]] = {
    "user": FieldSpec(_read_user_id, required=True),
    "children": FieldSpec(read_children),
    "additional_subscribers": FieldSpec(_read_additional),
}

UPDATE_SUBSCRIPTION_BODY: Final[dict[str, FieldSpec]] = {
    "has_attended": FieldSpec(read_bool),
    "children": FieldSpec(read_children),
    "additional_subscribers": FieldSpec(_read_additional),
}


def _existing_event(store: Store, event_id: int) -> Event:
    event = store.get_event(event_id)
    if event is None:
        raise NotFound(f"Event {event_id} not found.")
    return event


def _not_enough_places(event: Event, wanted: int) -> RuleViolation:
    return RuleViolation(
        f"The event is full: {wanted} places asked, {max(event.slots, 0)} free.",
        {"slots": [f"Only {max(event.slots, 0)} places are left."]},
    )


def list_subscribers(
    store: Store, caller: User | None, event_id: int, now: datetime
) -> list[Subscriber]:
    """Subscribers of an event the caller can see, in subscription order."""
    with store.transaction():
        get_event(store, caller, event_id, now)
        return [
            Subscriber(user=user, subscription=subscription)
            for subscription in store.subscriptions_of(event_id)
            if (user := store.get_user(subscription.user_id)) is not None
        ]


def subscribe(
    store: Store, caller: User, event_id: int, body: dict[str, Any], now: datetime
) -> Subscriber:
    """Subscribe ``body["user"]`` (the caller, or anyone if the caller owns the event)."""
    fields = read_body(body, SUBSCRIBE_BODY)
    with store.transaction():
        event = get_event(store, caller, event_id, now)
        user_id = fields["user"]
        if user_id != caller.id and caller.id != event.owner.id:
            raise Forbidden("You may only subscribe yourself; the owner may add anyone.")
        user = store.get_user(user_id)
        if user is None:
            raise RuleViolation(errors={"user": [f"The user {user_id} does not exist."]})
        if event.status == CANCELED:
            raise RuleViolation("The event is canceled: subscriptions are closed.")
        if event.subscription_disabled:
            raise RuleViolation("Subscriptions to this event are disabled by its owner.")
        if store.get_subscription(event_id, user_id) is not None:
            raise RuleViolation(
                "The user is already subscribed to this event.",
                {"user": ["The user is already subscribed to this event."]},
            )
        subscription = Subscription(
            user_id=user_id,
            additional_subscribers=fields.get("additional_subscribers", 0),
            children=fields.get("children", ()),
        )
        if subscription.places > event.slots:
            raise _not_enough_places(event, subscription.places)
        store.put_subscription(event_id, subscription)
        return Subscriber(user=user, subscription=subscription)


def update_subscription(
    store: Store, caller: User, event_id: int, user_id: str, body: dict[str, Any]
) -> Subscriber:
    """Change a subscription: attendance by the owner, party size by the subscriber or the owner.

    The documents' own example sends `has_attended` and `children` together, which only the
    owner (who organises the event and checks who came) can do in one call.
    """
    fields = read_body(body, UPDATE_SUBSCRIPTION_BODY, partial=True)
    with store.transaction():
        event = _existing_event(store, event_id)
        is_owner = caller.id == event.owner.id
        is_subscriber = caller.id == user_id
        if not (is_owner or is_subscriber):
            raise Forbidden("Only the subscriber or the owner of the event may do this.")
        current = store.get_subscription(event_id, user_id)
        if current is None:
            raise NotFound("This user is not subscribed to the event.")
        if "has_attended" in fields and not is_owner:
            raise Forbidden("Only the owner of the event may mark attendance.")
        changed = Subscription(
            user_id=user_id,
            additional_subscribers=fields.get(
                "additional_subscribers", current.additional_subscribers
            ),
            has_attended=fields.get("has_attended", current.has_attended),
            children=fields.get("children", current.children),
        )
        extra = changed.places - current.places
        if extra > 0:
            if event.status == CANCELED:
                raise RuleViolation("The event is canceled: no more places can be taken.")
            if extra > event.slots:
                raise _not_enough_places(event, extra)
        store.put_subscription(event_id, changed)
        user = store.get_user(user_id)
        if user is None:  # the store refuses subscriptions of unknown users
            raise NotFound("This user no longer exists.")
        return Subscriber(user=user, subscription=changed)


def unsubscribe(store: Store, caller: User, event_id: int, user_id: str) -> None:
    """Remove a subscription; its places become free again."""
    with store.transaction():
        event = _existing_event(store, event_id)
        if caller.id != user_id and caller.id != event.owner.id:
            raise Forbidden("Only the subscriber or the owner of the event may do this.")
        if store.remove_subscription(event_id, user_id) is None:
            raise NotFound("This user is not subscribed to the event.")


def my_subscription(store: Store, caller: User, event_id: int) -> Subscriber:
    """The caller's own subscription to the event; ``NotFound`` if they are not subscribed."""
    with store.transaction():
        _existing_event(store, event_id)
        subscription = store.get_subscription(event_id, caller.id)
        if subscription is None:
            raise NotFound("You are not subscribed to this event.")
        return Subscriber(user=caller, subscription=subscription)
