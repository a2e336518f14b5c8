"""The bulk of the seeded events and their subscribers: a handful of ``random()`` calls each.

Every draw happens in the same order as it always has, since a seed must keep giving the
same events: a change of order here changes every fixture after it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

from mock_server.domain.activities.models import (
    CANCELED,
    PENDING,
    PUBLISHED,
    Child,
    Event,
    Subscription,
    User,
)
from mock_server.seed.dates import FIXTURE_BASE_DATE, QUARTERS_PER_DAY
from mock_server.seed.pools import WIDE_FROM_ID, Pools, WidePools
from mock_server.seed.tables import FAR_CITIES, LEVEL_CHOICES, NORTH_CITIES, OWNER_MESSAGES, SPORTS


def generate_events(
    rnd: random.Random, pools: Pools, users: Sequence[User], first_id: int, count: int,
    wide: WidePools | None = None,
) -> tuple[list[Event], dict[int, tuple[Subscription, ...]]]:
    """``count`` events from ``first_id`` on, and the subscriptions of those that have some."""
    r = rnd.random
    n_north, n_far = len(NORTH_CITIES), len(FAR_CITIES)
    n_users = len(users)
    n_sports = len(SPORTS)
    dates, origin = pools.dates, pools.origin
    titles, locations = pools.titles, pools.locations
    pictures, products = pools.pictures, pools.product_codes
    child_names = pools.child_names
    base_quarter = FIXTURE_BASE_DATE
    events: list[Event] = []
    subscriptions: dict[int, tuple[Subscription, ...]] = {}
    days_span = 365

    for event_id in range(first_id, first_id + count):
        sport_index = int(r() * n_sports)
        sport = SPORTS[sport_index]
        if wide is not None and event_id >= WIDE_FROM_ID:
            city_index = wide.city_index(r())
            city = wide.cities[city_index]
            key = (sport_index, city_index)
            title_pool = wide.titles[key]
            location_pool = wide.locations[key]
            spread = wide.spread[city_index]
            # A triangular draw around the centre: dense downtown, thinner suburbs.
            latitude = min(90.0, max(-90.0, city.latitude + (r() + r() - 1.0) * spread))
            longitude = city.longitude + (r() + r() - 1.0) * spread * 1.5
        else:
            if r() < 0.75:
                city_index = int(r() * n_north)
            else:
                city_index = n_north + int(r() * n_far)
            city = pools.cities[city_index]
            key = (sport_index, city_index)
            title_pool = titles[key]
            location_pool = locations[key]
            latitude = longitude = math.nan  # drawn below, where they always were
        # Day from -90 to +274 around the base date, starting between 07:00 and 20:45.
        start_index = origin + (int(r() * days_span) - 90) * QUARTERS_PER_DAY + 28 + int(r() * 56)
        low, high = sport.duration_quarters
        end_index = start_index + low + int(r() * (high - low + 1))
        roll = r()
        status = PUBLISHED if roll < 0.86 else PENDING if roll < 0.94 else CANCELED
        publish_date = None
        if status == PUBLISHED and r() < 0.1:
            publish_date = dates[start_index - 14 * QUARTERS_PER_DAY]
        age_min, age_max = sport.ages[int(r() * len(sport.ages))]
        slots_low, slots_high = sport.slots
        capacity = slots_low + int(r() * (slots_high - slots_low + 1))
        owner = users[int(r() * n_users)]
        extras = r()
        places_taken = 0
        if r() < 0.25:
            subs = _random_subscriptions(
                r, users, owner, capacity, dates[end_index] < base_quarter, child_names
            )
            if subs:
                subscriptions[event_id] = subs
                places_taken = sum(sub.places for sub in subs)
        events.append(
            Event(
                id=event_id,
                title=title_pool[int(r() * len(title_pool))],
                status=status,
                description=sport.descriptions[int(r() * len(sport.descriptions))],
                start_date=dates[start_index],
                end_date=dates[end_index],
                publish_date=publish_date,
                picture=pictures[int(r() * len(pictures))] if extras < 0.2 else None,
                sport_id=sport.sport_id,
                latitude=round(city.latitude + (r() - 0.5) * 0.06, 6)
                if math.isnan(latitude) else round(latitude, 6),
                longitude=round(city.longitude + (r() - 0.5) * 0.09, 6)
                if math.isnan(longitude) else round(longitude, 6),
                level=LEVEL_CHOICES[int(r() * len(LEVEL_CHOICES))],
                extra_location=location_pool[int(extras * 10) % 2] if extras < 0.3 else None,
                age_min=age_min,
                age_max=age_max,
                slots_limit=capacity,
                owner=owner,
                owner_message=OWNER_MESSAGES[int(r() * len(OWNER_MESSAGES))],
                equipment_provided=sport.equipment_provided[
                    int(r() * len(sport.equipment_provided))
                ],
                equipment_required=sport.equipment_required[
                    int(r() * len(sport.equipment_required))
                ],
                equipment_linked=products[int(r() * len(products))] if extras > 0.9 else (),
                subscription_disabled=r() < 0.04,
                places_taken=places_taken,
            )
        )
    return events, subscriptions


def _random_subscriptions(
    r: Callable[[], float],
    users: Sequence[User],
    owner: User,
    capacity: int,
    is_past: bool,
    child_names: Sequence[str],
) -> tuple[Subscription, ...]:
    """One to six subscribers who fit in the event; past events have attendance marked."""
    wanted = 1 + int(r() * 6)
    chosen: dict[str, Subscription] = {}
    free = capacity
    n_users = len(users)
    for _ in range(wanted * 2):  # a few extra draws absorb duplicates and the owner
        if len(chosen) == wanted:
            break
        user = users[int(r() * n_users)]
        if user.id == owner.id or user.id in chosen:
            continue
        roll = r()
        additional = 1 if roll < 0.15 else 2 if roll < 0.2 else 0
        children: tuple[Child, ...] = ()
        if roll > 0.9:
            children = (Child(child_names[int(r() * len(child_names))]),)
        subscription = Subscription(
            user_id=user.id,
            additional_subscribers=additional,
            has_attended=is_past and r() < 0.7,
            children=children,
        )
        if subscription.places > free:
            break
        free -= subscription.places
        chosen[user.id] = subscription
    return tuple(chosen.values())
