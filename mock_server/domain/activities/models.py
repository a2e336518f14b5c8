"""The domain's values: sites, users, events, subscriptions.

Every model is a *frozen* slotted dataclass. Frozen because a request thread may serialise an
event while another thread patches it: the store swaps whole objects under its lock
(``dataclasses.replace``), so a reader always holds one consistent version and never a half
update. Slotted because the store must hold a million events in well under 2 GB (an ``Event``
is ~250 bytes plus its coordinates; titles, dates, levels and places are shared from pools).

``to_json()`` returns exactly the payload the documents show; ``to_state()``/``from_state()``
is the lossless form used by ``export_state``/``import_state`` (it also carries what the API
never shows, e.g. a user's ``external_id`` and an event's owner id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from mock_server.domain.times import format_datetime, format_optional, parse_datetime

UserType = Literal["FED", "DKTCONNECT"]
EventStatus = Literal["PUBLISHED", "PENDING", "CANCELED"]

FED: Final = "FED"
DKTCONNECT: Final = "DKTCONNECT"
USER_TYPES: Final[tuple[str, ...]] = (FED, DKTCONNECT)

PUBLISHED: Final = "PUBLISHED"
PENDING: Final = "PENDING"
CANCELED: Final = "CANCELED"
EVENT_STATUSES: Final[tuple[str, ...]] = (PUBLISHED, PENDING, CANCELED)

#: The documents' levels referential: 5 BEGINNER, 10 GOOD, 20 EXPERT.
LEVELS: Final[dict[int, str]] = {5: "BEGINNER", 10: "GOOD", 20: "EXPERT"}


def copy_json(value: Any) -> Any:
    """Copy a JSON-like value so callers cannot mutate the stored one through a payload."""
    if isinstance(value, dict):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [copy_json(item) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class Site:
    """A Decathlon site (store, warehouse, office) a FED user belongs to."""

    id: int
    name: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True, slots=True)
class User:
    """A FED (Decathlon staff) or DKTCONNECT (Decathlon Connect customer) user.

    Only FED users have photo/title/site; the documents show Decathlon Connect users with
    ``id``, ``type`` and ``name`` alone.
    """

    id: str
    type: str
    name: str
    external_id: str
    photo: str | None = None
    title: str | None = None
    site_id: str | None = None
    mail: str | None = None
    site: Site | None = None

    @property
    def is_fed(self) -> bool:
        return self.type == FED

    def to_json(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"id": self.id, "type": self.type, "name": self.name}
        if self.type == FED:
            payload["photo"] = self.photo
            payload["title"] = self.title
            payload["site_id"] = self.site_id
            payload["mail"] = self.mail
            payload["site"] = self.site.to_json() if self.site is not None else None
        return payload

    def to_state(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "name": self.name,
            "external_id": self.external_id,
            "photo": self.photo,
            "title": self.title,
            "site_id": self.site_id,
            "mail": self.mail,
            "site": self.site.to_json() if self.site is not None else None,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> User:
        site = state.get("site")
        return cls(
            id=state["id"],
            type=state["type"],
            name=state["name"],
            external_id=state["external_id"],
            photo=state.get("photo"),
            title=state.get("title"),
            site_id=state.get("site_id"),
            mail=state.get("mail"),
            site=Site(id=site["id"], name=site["name"]) if site is not None else None,
        )


@dataclass(frozen=True, slots=True)
class Child:
    """A child registered along with a subscriber; takes one place."""

    name: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name}


@dataclass(frozen=True, slots=True)
class Subscription:
    """One user's registration to one event (the event id is the store's key)."""

    user_id: str
    additional_subscribers: int = 0
    has_attended: bool = False
    children: tuple[Child, ...] = ()

    @property
    def places(self) -> int:
        """Places taken: the subscriber, their additional subscribers and their children."""
        return 1 + self.additional_subscribers + len(self.children)

    def to_state(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "additional_subscribers": self.additional_subscribers,
            "has_attended": self.has_attended,
            "children": [child.to_json() for child in self.children],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Subscription:
        return cls(
            user_id=state["user_id"],
            additional_subscribers=state.get("additional_subscribers", 0),
            has_attended=state.get("has_attended", False),
            children=tuple(Child(name=child["name"]) for child in state.get("children", ())),
        )


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A subscription joined with its user: the shape the subscribers endpoints return."""

    user: User
    subscription: Subscription

    def to_json(self) -> dict[str, Any]:
        payload = self.user.to_json()
        payload["additional_subscribers"] = self.subscription.additional_subscribers
        payload["has_attended"] = self.subscription.has_attended
        payload["children"] = [child.to_json() for child in self.subscription.children]
        return payload


@dataclass(frozen=True, slots=True)
class Event:
    """A sport activity: a place, a time span and people.

    ``slots_limit`` is the capacity; ``places_taken`` is kept equal to the sum of the event's
    subscriptions' places by the store, so ``slots`` (free places) is always
    ``slots_limit - places_taken`` (DECISIONS.md: "slots vs slots_limit").
    """

    id: int
    title: str
    status: str
    description: str
    start_date: datetime
    end_date: datetime
    publish_date: datetime | None
    picture: str | None
    sport_id: int
    latitude: float
    longitude: float
    level: tuple[int, ...]
    extra_location: dict[str, Any] | None
    age_min: int
    age_max: int
    slots_limit: int
    owner: User
    owner_message: str | None = None
    equipment_provided: str | None = None
    equipment_required: str | None = None
    equipment_linked: tuple[str, ...] = ()
    subscription_disabled: bool = False
    places_taken: int = 0

    @property
    def slots(self) -> int:
        """Free places."""
        return self.slots_limit - self.places_taken

    def is_public(self, now: datetime) -> bool:
        """Listed publicly: PUBLISHED and its scheduled publication (if any) has passed."""
        return self.status == PUBLISHED and (self.publish_date is None or self.publish_date <= now)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "description": self.description,
            "start_date": format_datetime(self.start_date),
            "end_date": format_datetime(self.end_date),
            "publish_date": format_optional(self.publish_date),
            "picture": self.picture,
            "sport_id": self.sport_id,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "level": list(self.level),
            "extra_location": copy_json(self.extra_location),
            "age_min": self.age_min,
            "age_max": self.age_max,
            "slots_limit": self.slots_limit,
            "slots": self.slots,
            "owner": self.owner.to_json(),
            "owner_message": self.owner_message,
            "equipment_provided": self.equipment_provided,
            "equipment_required": self.equipment_required,
            "equipment_linked": list(self.equipment_linked),
            "subscription_disabled": self.subscription_disabled,
        }

    def to_state(self) -> dict[str, Any]:
        """Lossless JSON form: the payload with the owner's id instead of the owner, and
        without ``slots``, since subscriptions determine the places taken."""
        state = self.to_json()
        del state["slots"]
        del state["owner"]
        state["owner_id"] = self.owner.id
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any], owner: User, places_taken: int = 0) -> Event:
        publish = state.get("publish_date")
        return cls(
            id=state["id"],
            title=state["title"],
            status=state["status"],
            description=state["description"],
            start_date=parse_datetime(state["start_date"]),
            end_date=parse_datetime(state["end_date"]),
            publish_date=parse_datetime(publish) if publish is not None else None,
            picture=state.get("picture"),
            sport_id=state["sport_id"],
            latitude=state["latitude"],
            longitude=state["longitude"],
            level=tuple(state["level"]),
            extra_location=copy_json(state.get("extra_location")),
            age_min=state["age_min"],
            age_max=state["age_max"],
            slots_limit=state["slots_limit"],
            owner=owner,
            owner_message=state.get("owner_message"),
            equipment_provided=state.get("equipment_provided"),
            equipment_required=state.get("equipment_required"),
            equipment_linked=tuple(state.get("equipment_linked", ())),
            subscription_disabled=state.get("subscription_disabled", False),
            places_taken=places_taken,
        )
