"""The Sport Activities API's domain (events, subscriptions, users): plain Python.

The HTTP layer calls these functions with a ``Store``, the authenticated ``User`` (or ``None``)
and ``now`` from a ``Clock``; they return frozen models (``to_json()`` gives the documented
payload) or raise a ``DomainError`` whose ``status`` is the HTTP status to answer.
"""

from mock_server.domain.activities.events import (
    EventQuery,
    cancel_event,
    create_event,
    duplicate_event,
    get_event,
    list_mine,
    list_public_events,
    patch_event,
)
from mock_server.domain.activities.models import (
    CANCELED,
    DKTCONNECT,
    FED,
    LEVELS,
    PENDING,
    PUBLISHED,
    Child,
    Event,
    Site,
    Subscriber,
    Subscription,
    User,
)
from mock_server.domain.activities.subscriptions import (
    list_subscribers,
    my_subscription,
    subscribe,
    unsubscribe,
    update_subscription,
)
from mock_server.domain.activities.users import find_user, search_by_external_id
from mock_server.domain.clock import Clock, SystemClock, VirtualClock
from mock_server.domain.errors import DomainError, Forbidden, NotFound, RuleViolation
from mock_server.domain.geo import GeoIndex, haversine_km
from mock_server.domain.pagination import Page, paginate
from mock_server.domain.times import format_datetime, parse_datetime

__all__ = [
    "CANCELED",
    "DKTCONNECT",
    "FED",
    "LEVELS",
    "PENDING",
    "PUBLISHED",
    "Child",
    "Clock",
    "DomainError",
    "Event",
    "EventQuery",
    "Forbidden",
    "GeoIndex",
    "NotFound",
    "Page",
    "RuleViolation",
    "Site",
    "Subscriber",
    "Subscription",
    "SystemClock",
    "User",
    "VirtualClock",
    "cancel_event",
    "create_event",
    "duplicate_event",
    "find_user",
    "format_datetime",
    "get_event",
    "haversine_km",
    "list_mine",
    "list_public_events",
    "list_subscribers",
    "my_subscription",
    "paginate",
    "parse_datetime",
    "patch_event",
    "search_by_external_id",
    "subscribe",
    "unsubscribe",
    "update_subscription",
]
