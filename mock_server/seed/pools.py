"""Everything per-event generation picks from, computed once per build.

Scale comes from here: every string, date, level list and location object an event holds is
drawn from these pools, so an event costs a few ``random()`` calls and one frozen dataclass,
and a million events share a few thousand strings and dicts.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Sequence
from typing import Any, Final

from faker import Faker

from mock_server.seed.dates import DatePool
from mock_server.seed.tables import FAR_CITIES, FRANCE_CITIES, NORTH_CITIES, SPORTS, City

#: Events past this id are spread over all of France (``FRANCE_CITIES``, weighted by
#: population) instead of three quarters around Lille: the default 300 stay the documents'
#: Lille-centred world, while 1,000,000 events look like a country, so a list query near one
#: city sees what it would see in production (a 100 km circle around Lille holds ~5 % of them,
#: not 75 %). Fewer events still keep a prefix of more (same seed).
WIDE_FROM_ID: Final = 301

#: (sport index, city index): per sport and city, an event's titles and two candidate locations.
Key = tuple[int, int]


class Pools:
    """The pools of the first ``WIDE_FROM_ID - 1`` events, drawn from the build's generators."""

    def __init__(self, fake: Faker, rnd: random.Random) -> None:
        self.cities = NORTH_CITIES + FAR_CITIES
        self.dates = DatePool()
        self.origin = DatePool.origin  # index of FIXTURE_BASE_DATE
        self.titles, self.locations = _titles_and_locations(fake, rnd, self.cities)
        self.pictures = tuple(
            f"https://picsum.photos/seed/sport-{sport.sport_id}-{k}/800/450"
            for sport in SPORTS
            for k in range(4)
        )
        self.product_codes = tuple((f"{rnd.randrange(8_000_000, 8_999_999)}",) for _ in range(30))
        self.child_names = tuple(fake.first_name() for _ in range(40))


class WidePools:
    """Cities, titles and locations of the events past ``WIDE_FROM_ID``.

    Drawn from generators of their own (seeded from the seed), never from the main ones, so
    the first 300 events are the same whether 300 or a million are built.
    """

    def __init__(self, seed: int) -> None:
        rnd = random.Random(f"wide-{seed}")
        fake = Faker("fr_FR")
        fake.seed_instance(seed + 1)
        self.cities = FRANCE_CITIES
        weights = [_population(city) for city in FRANCE_CITIES]
        total = float(sum(weights))
        running = 0.0
        cumulative = []
        for weight in weights:
            running += weight
            cumulative.append(running / total)
        self.cumulative = tuple(cumulative)
        # Spread (degrees) of a city's events around its centre grows with its size:
        # ~8 km for a town, ~30 km for Paris and its suburbs.
        self.spread = tuple(0.06 + 0.0025 * population**0.5 for population in weights)
        self.titles, self.locations = _titles_and_locations(fake, rnd, self.cities)

    def city_index(self, roll: float) -> int:
        return min(bisect.bisect_left(self.cumulative, roll), len(self.cities) - 1)


def _population(city: City) -> int:
    if city.population_thousands is None:  # tables.py refuses such a table
        raise ValueError(f"{city.name} has no population")
    return city.population_thousands


def _titles_and_locations(
    fake: Faker, rnd: random.Random, cities: Sequence[City]
) -> tuple[dict[Key, tuple[str, ...]], dict[Key, tuple[dict[str, Any], ...]]]:
    titles: dict[Key, tuple[str, ...]] = {}
    locations: dict[Key, tuple[dict[str, Any], ...]] = {}
    for sport_index, sport in enumerate(SPORTS):
        for city_index, city in enumerate(cities):
            key = (sport_index, city_index)
            titles[key] = tuple(in_city(t, city) for t in sport.titles)
            venue = in_city(sport.venue, city)
            locations[key] = (
                _extra_location(fake, rnd, venue, city),
                _extra_location(fake, rnd, venue, city),
            )
    return titles, locations


def in_city(template: str, city: City) -> str:
    """Fill ``{city}`` with French elision ("près d'Arras", not "près de Arras")."""
    text = template.format(city=city.name)
    if city.name[0] in "AEIOUYÉÈ":
        text = text.replace(f" de {city.name}", f" d'{city.name}")
    return text


def _place_id(rnd: random.Random) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    return "ChIJ" + "".join(alphabet[rnd.randrange(len(alphabet))] for _ in range(23))


def _extra_location(fake: Faker, rnd: random.Random, venue: str, city: City) -> dict[str, Any]:
    """A location object shaped like the documents' Google Maps example."""
    street = fake.street_address()
    zip_line = f"{city.zip_code} {city.name}, France"
    return {
        "place_id": _place_id(rnd),
        "autocomplete_name": f"{venue}, {street}, {city.name}, France",
        "custom_adress": {"name": venue, "adress": street, "address_zip": zip_line},
        "formatted_address": f"{street}, {zip_line}",
    }
