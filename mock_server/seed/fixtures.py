"""Deterministic fixture data: the documents' users and events, plus seeded realistic ones.

``build_fixtures(seed, events)`` always returns the same users, events and subscriptions for the
same seed (and Faker version): it uses its own ``random.Random(seed)`` and its own seeded
``Faker("fr_FR")``, never the global generators, and dates hang off ``FIXTURE_BASE_DATE``, never
the wall clock. Contract tests and screenshots can therefore name fixture ids.

What is always there (ids from the documents):

* ``DEFAULT_USER_ID`` ``28cce8e0-…`` FED "John D" (JOHND01, site 648 "Magasin b'Twin village")
  owns events 1-8: 1 is the documents' "Running meeting" near Lille with 7 free places, 2 has
  the documents' two subscribers, 3 is full, 5 is PUBLISHED but scheduled (not public before
  ``publish_date``), 6 is PENDING, 7 CANCELED, 8 has subscriptions disabled.
* ``1c4884b6-…`` FED "John D" (ZXXDOEJ), ``3d416216-…`` DKTCONNECT "John2 D" and
  ``4c68165b-…`` DKTCONNECT "Jane D" (the documents' subscriber body).

Then ~50 Faker users (FED staff attached to Decathlon stores, Decathlon Connect customers) and
the remaining events: sport-specific French/English titles, in real cities (three quarters
within 100 km of Lille) with a few hundred metres to kilometres of jitter, mostly PUBLISHED,
spread from 3 months before to 9 months after the base date, a quarter with subscribers.

Scale: every string, date, level list and location object is drawn from pools computed once,
so an event costs a few ``random()`` calls and one frozen dataclass, and the cyclic GC is paused
during the build (it would otherwise re-walk every event already made). Measured on the
development container (Python 3.11, 2 vCPUs shared with other jobs, load ~1.5):
``build_fixtures(events=1_000_000)`` ~9 s (8.9 s CPU; 11.8 s without the GC pause), then
``InMemoryStore(fixtures)`` ~5 s with its grid and catalog; RSS ~840 MB with both alive.
Past the first 300, events spread over France (``WIDE_FROM_ID``), so the list near a city
holds what it would in production; bench/README.md has the served figures.
"""

from __future__ import annotations

import bisect
import gc
import math
import random
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from faker import Faker

from mock_server.domain.activities.models import (
    CANCELED,
    DKTCONNECT,
    FED,
    PENDING,
    PUBLISHED,
    Child,
    Event,
    Site,
    Subscription,
    User,
)

DEFAULT_USER_ID: Final = "28cce8e0-2d57-4e54-8888-2fc69690aeeb"
#: Fixed origin of every fixture date (a Monday), so fixtures never depend on the wall clock.
FIXTURE_BASE_DATE: Final = datetime(2026, 11, 30, tzinfo=UTC)
#: Lille, the centre of the documents' examples.
LILLE: Final = (50.6292, 3.0573)

DOC_SITE: Final = Site(id=648, name="Magasin b'Twin village")

DOCUMENT_USERS: Final[tuple[User, ...]] = (
    User(
        id=DEFAULT_USER_ID,
        type=FED,
        name="John D",
        external_id="JOHND01",
        photo="//iam.subsidia.org/photos/users/JOHND01.jpg",
        title="Leader magasin",
        site_id="0070064800648",
        mail="hello@world.com",
        site=DOC_SITE,
    ),
    User(
        id="1c4884b6-c92b-4b0a-9808-373049fe6c25",
        type=FED,
        name="John D",
        external_id="ZXXDOEJ",
        photo="//iam.subsidia.org/photos/users/JOHND01.jpg",
        title="Leader magasin",
        site_id="0070064800648",
        mail="hello@world.com",
        site=DOC_SITE,
    ),
    User(
        id="3d416216-7a1d-11e8-adc0-fa7ae01bbebc",
        type=DKTCONNECT,
        name="John2 D",
        external_id="1000000000001",
    ),
    User(
        id="4c68165b-3869-4c22-8098-a4a429c97509",
        type=DKTCONNECT,
        name="Jane D",
        external_id="1000000000002",
    ),
)

#: Decathlon stores FED users belong to: (site number, name).
SITES: Final[tuple[Site, ...]] = (
    DOC_SITE,
    Site(1, "Decathlon Campus Villeneuve d'Ascq"),
    Site(7, "Decathlon Englos"),
    Site(22, "Decathlon Lille Grand Palais"),
    Site(38, "Decathlon Croix"),
    Site(59, "Decathlon Roubaix"),
    Site(104, "Decathlon Lens Vendin"),
    Site(117, "Decathlon Arras"),
    Site(131, "Decathlon Dunkerque"),
    Site(206, "Decathlon Paris Madeleine"),
    Site(233, "Decathlon Lyon Part-Dieu"),
    Site(251, "Decathlon Marseille Bonneveine"),
    Site(289, "Decathlon Bordeaux Mériadeck"),
    Site(312, "Decathlon Nantes Atlantis"),
    Site(340, "Decathlon Strasbourg Vendenheim"),
    Site(366, "Decathlon Toulouse Balma"),
)

FED_TITLES: Final[tuple[str, ...]] = (
    "Leader magasin",
    "Vendeur sport",
    "Responsable de rayon",
    "Directeur magasin",
    "Conseiller sport running",
    "Leader sport cycle",
    "Ingénieur SI",
    "Chef de projet digital",
    "Responsable exploitation",
    "Product manager",
)


@dataclass(frozen=True, slots=True)
class City:
    name: str
    latitude: float
    longitude: float
    zip_code: str


#: Cities within about 100 km of Lille (where three quarters of the events are).
NORTH_CITIES: Final[tuple[City, ...]] = (
    City("Lille", 50.6292, 3.0573, "59000"),
    City("Roubaix", 50.6942, 3.1746, "59100"),
    City("Tourcoing", 50.7239, 3.1612, "59200"),
    City("Villeneuve-d'Ascq", 50.6233, 3.1450, "59650"),
    City("Croix", 50.6781, 3.1497, "59170"),
    City("Marcq-en-Barœul", 50.6711, 3.0972, "59700"),
    City("Armentières", 50.6886, 2.8808, "59280"),
    City("Lens", 50.4322, 2.8333, "62300"),
    City("Arras", 50.2910, 2.7775, "62000"),
    City("Douai", 50.3714, 3.0800, "59500"),
    City("Béthune", 50.5303, 2.6408, "62400"),
    City("Valenciennes", 50.3570, 3.5235, "59300"),
    City("Dunkerque", 51.0343, 2.3768, "59140"),
    City("Saint-Omer", 50.7500, 2.2520, "62500"),
    City("Cambrai", 50.1760, 3.2350, "59400"),
)

#: Elsewhere in France.
FAR_CITIES: Final[tuple[City, ...]] = (
    City("Paris", 48.8566, 2.3522, "75001"),
    City("Lyon", 45.7640, 4.8357, "69001"),
    City("Marseille", 43.2965, 5.3698, "13001"),
    City("Bordeaux", 44.8378, -0.5792, "33000"),
    City("Nantes", 47.2184, -1.5536, "44000"),
    City("Strasbourg", 48.5734, 7.7521, "67000"),
    City("Toulouse", 43.6047, 1.4442, "31000"),
    City("Nice", 43.7102, 7.2620, "06000"),
    City("Montpellier", 43.6108, 3.8767, "34000"),
    City("Rennes", 48.1173, -1.6778, "35000"),
    City("Grenoble", 45.1885, 5.7245, "38000"),
    City("Amiens", 49.8941, 2.2958, "80000"),
    City("Annecy", 45.8992, 6.1294, "74000"),
    City("Chamonix-Mont-Blanc", 45.9237, 6.8694, "74400"),
)


#: Events past this id are spread over all of France (``FRANCE_CITIES``, weighted by
#: population) instead of three quarters around Lille: the default 300 stay the documents'
#: Lille-centred world, while 1,000,000 events look like a country, so a list query near one
#: city sees what it would see in production (a 100 km circle around Lille holds ~5 % of them,
#: not 75 %). Fewer events still keep a prefix of more (same seed).
WIDE_FROM_ID: Final = 301

#: (name, latitude, longitude, postcode, metropolitan population in thousands).
FRANCE_CITIES: Final[tuple[tuple[str, float, float, str, int], ...]] = (
    ("Paris", 48.8566, 2.3522, "75001", 12_300),
    ("Lyon", 45.7640, 4.8357, "69001", 2_300),
    ("Marseille", 43.2965, 5.3698, "13001", 1_900),
    ("Toulouse", 43.6047, 1.4442, "31000", 1_450),
    ("Lille", 50.6292, 3.0573, "59000", 1_500),
    ("Bordeaux", 44.8378, -0.5792, "33000", 1_350),
    ("Nice", 43.7102, 7.2620, "06000", 1_000),
    ("Nantes", 47.2184, -1.5536, "44000", 1_000),
    ("Strasbourg", 48.5734, 7.7521, "67000", 850),
    ("Montpellier", 43.6108, 3.8767, "34000", 800),
    ("Rennes", 48.1173, -1.6778, "35000", 750),
    ("Grenoble", 45.1885, 5.7245, "38000", 700),
    ("Rouen", 49.4432, 1.0999, "76000", 700),
    ("Toulon", 43.1242, 5.9280, "83000", 650),
    ("Nancy", 48.6921, 6.1844, "54000", 500),
    ("Metz", 49.1193, 6.1757, "57000", 400),
    ("Saint-Étienne", 45.4397, 4.3872, "42000", 520),
    ("Tours", 47.3941, 0.6848, "37000", 500),
    ("Clermont-Ferrand", 45.7772, 3.0870, "63000", 500),
    ("Orléans", 47.9030, 1.9093, "45000", 450),
    ("Angers", 47.4784, -0.5632, "49000", 420),
    ("Caen", 49.1829, -0.3707, "14000", 420),
    ("Dijon", 47.3220, 5.0415, "21000", 390),
    ("Avignon", 43.9493, 4.8055, "84000", 530),
    ("Brest", 48.3904, -4.4861, "29200", 320),
    ("Le Havre", 49.4944, 0.1079, "76600", 340),
    ("Reims", 49.2583, 4.0317, "51100", 320),
    ("Le Mans", 48.0061, 0.1996, "72000", 350),
    ("Mulhouse", 47.7508, 7.3359, "68100", 280),
    ("Perpignan", 42.6887, 2.8948, "66000", 330),
    ("Amiens", 49.8941, 2.2958, "80000", 300),
    ("Limoges", 45.8336, 1.2611, "87000", 300),
    ("Besançon", 47.2378, 6.0241, "25000", 280),
    ("Poitiers", 46.5802, 0.3404, "86000", 270),
    ("Pau", 43.2951, -0.3708, "64000", 240),
    ("Bayonne", 43.4929, -1.4748, "64100", 300),
    ("Annecy", 45.8992, 6.1294, "74000", 250),
    ("La Rochelle", 46.1603, -1.1511, "17000", 220),
    ("Valence", 44.9334, 4.8924, "26000", 190),
    ("Nîmes", 43.8367, 4.3601, "30000", 270),
    ("Valenciennes", 50.3570, 3.5235, "59300", 350),
    ("Dunkerque", 51.0343, 2.3768, "59140", 250),
    ("Arras", 50.2910, 2.7775, "62000", 130),
    ("Chambéry", 45.5646, 5.9178, "73000", 190),
    ("Lorient", 47.7482, -3.3702, "56100", 210),
    ("Troyes", 48.2973, 4.0744, "10000", 190),
    ("Ajaccio", 41.9192, 8.7386, "20000", 90),
    ("Chamonix-Mont-Blanc", 45.9237, 6.8694, "74400", 40),
    ("Biarritz", 43.4832, -1.5586, "64200", 60),
    ("Quimper", 47.9960, -4.1024, "29000", 120),
)


@dataclass(frozen=True, slots=True)
class SportProfile:
    """What makes an event of one sport look real: titles, venue, duration, audience."""

    sport_id: int
    titles: tuple[str, ...]  # "{city}" is replaced by the event's city
    descriptions: tuple[str, ...]
    venue: str  # name of the meeting place, "{city}" replaced
    duration_quarters: tuple[int, int]  # inclusive range, in quarter hours
    ages: tuple[tuple[int, int], ...]
    slots: tuple[int, int]
    equipment_required: tuple[str | None, ...]
    equipment_provided: tuple[str | None, ...]


SPORTS: Final[tuple[SportProfile, ...]] = (
    SportProfile(
        121,
        (
            "Sortie running à {city}",
            "Footing du dimanche matin à {city}",
            "Fractionné au stade de {city}",
            "Running meeting in {city}",
            "Morning run around {city}",
            "Trail découverte autour de {city}",
        ),
        (
            "Une sortie à allure libre, on court ensemble et on attend tout le monde.",
            "Séance de fractionné encadrée : échauffement, 10 x 400 m, retour au calme.",
            "A friendly run at conversational pace, all runners welcome.",
        ),
        "Stade municipal de {city}",
        (4, 8),
        ((12, 99), (16, 70), (18, 99)),
        (5, 40),
        ("Chaussures de running", "Running shoes and water", None),
        (None, "Ravitaillement à l'arrivée"),
    ),
    SportProfile(
        381,
        (
            "Sortie vélo de route au départ de {city}",
            "Balade vélo en famille à {city}",
            "Sortie VTT dans les bois de {city}",
            "Cycling tour around {city}",
            "Gravel ride from {city}",
        ),
        (
            "Parcours vallonné d'environ 60 km, regroupement au sommet des côtes.",
            "Balade tranquille sur les pistes cyclables, idéale pour reprendre le vélo.",
            "A no-drop group ride, about 40 km with a coffee stop.",
        ),
        "Parking du Decathlon {city}",
        (8, 20),
        ((8, 99), (14, 70), (18, 99)),
        (4, 20),
        ("Vélo en bon état et casque obligatoire", "Helmet and a roadworthy bike", None),
        (None, "Chambres à air et pompe"),
    ),
    SportProfile(
        278,
        (
            "Séance natation à la piscine de {city}",
            "Initiation au crawl à {city}",
            "Swimming session in {city}",
            "Entraînement natation en eau libre à {city}",
        ),
        (
            "Travail technique du crawl puis 1500 m en continu, par groupes de niveau.",
            "Technique drills followed by an endurance set, grouped by level.",
        ),
        "Piscine municipale de {city}",
        (4, 6),
        ((6, 99), (12, 99), (18, 65)),
        (4, 16),
        ("Maillot de bain, bonnet et lunettes", "Swimsuit, cap and goggles"),
        (None, "Planches et pull-buoys"),
    ),
    SportProfile(
        168,
        (
            "Randonnée autour de {city}",
            "Marche nordique à {city}",
            "Hike around {city}",
            "Randonnée découverte du patrimoine de {city}",
        ),
        (
            "Boucle de 15 km à allure modérée, pique-nique tiré du sac.",
            "Nordic walking at a steady pace, poles can be lent on request.",
            "A scenic loop with a few climbs, about 12 km.",
        ),
        "Office de tourisme de {city}",
        (8, 28),
        ((6, 99), (12, 99), (16, 80)),
        (5, 30),
        ("Chaussures de randonnée et gourde", "Hiking boots and a water bottle", None),
        (None, "Bâtons de marche nordique"),
    ),
    SportProfile(
        175,
        (
            "Match de hockey sur glace à {city}",
            "Initiation au hockey sur glace à {city}",
            "Ice hockey pick-up game in {city}",
        ),
        (
            "Match amical en deux tiers temps, équipes mixées sur place.",
            "Friendly game, teams are balanced on the ice.",
        ),
        "Patinoire de {city}",
        (6, 8),
        ((10, 60), (16, 55)),
        (10, 24),
        ("Patins et protections complètes", "Skates and full protective gear"),
        ("Crosses et palets", None),
    ),
    SportProfile(
        186,
        (
            "Baptême de plongée à {city}",
            "Plongée en fosse à {city}",
            "Scuba diving discovery in {city}",
        ),
        (
            "Première immersion encadrée par des moniteurs diplômés, en petit groupe.",
            "Your first breaths underwater with certified instructors.",
        ),
        "Fosse de plongée de {city}",
        (6, 12),
        ((8, 70), (12, 65), (18, 60)),
        (2, 8),
        ("Maillot de bain et certificat médical", "Swimsuit and a medical certificate"),
        ("Bouteilles, détendeurs et combinaisons", "Tanks, regulators and wetsuits"),
    ),
    SportProfile(
        161,
        (
            "Escalade en salle à {city}",
            "Session bloc à {city}",
            "Climbing night in {city}",
            "Initiation à l'escalade en falaise près de {city}",
        ),
        (
            "Session libre en salle, les grimpeurs confirmés assurent les débutants.",
            "Bouldering session, all grades, we work problems together.",
        ),
        "Salle d'escalade de {city}",
        (6, 12),
        ((8, 99), (12, 70), (16, 99)),
        (4, 12),
        ("Chaussons d'escalade", "Climbing shoes", None),
        ("Baudriers et cordes", "Harness and ropes"),
    ),
)

LEVEL_CHOICES: Final[tuple[tuple[int, ...], ...]] = (
    (5,),
    (10,),
    (20,),
    (5, 10),
    (10, 20),
    (5, 10, 20),
    (5, 10),
    (5,),
)

OWNER_MESSAGES: Final[tuple[str | None, ...]] = (
    None,
    None,
    "Rendez-vous 10 minutes avant le départ devant l'entrée.",
    "Pensez à apporter de l'eau !",
    "Tous les niveaux sont les bienvenus, venez nombreux.",
    "Meet at the main entrance 10 minutes early.",
    "En cas de pluie, l'activité est maintenue.",
)

# Quarter hours from the base date covered by the date pool: 120 days before, 300 after.
_QUARTERS_PER_DAY: Final = 96
_POOL_DAYS_BEFORE: Final = 120
_POOL_DAYS: Final = 420


@dataclass(frozen=True, slots=True)
class FixtureSet:
    """Everything a store is built from; ``subscriptions`` maps event id -> subscriptions."""

    seed: int
    users: tuple[User, ...]
    events: tuple[Event, ...]
    subscriptions: dict[int, tuple[Subscription, ...]]

    def user(self, user_id: str) -> User:
        for user in self.users:
            if user.id == user_id:
                return user
        raise KeyError(user_id)


def _in_city(template: str, city: City) -> str:
    """Fill ``{city}`` with French elision ("près d'Arras", not "près de Arras")."""
    text = template.format(city=city.name)
    if city.name[0] in "AEIOUYÉÈ":
        text = text.replace(f" de {city.name}", f" d'{city.name}")
    return text


def _ascii(text: str) -> str:
    normalized = unicodedata.normalize("NFKD", text)
    return "".join(c for c in normalized if c.isascii() and c.isalpha())


def _uuid(rnd: random.Random) -> str:
    return str(uuid.UUID(int=rnd.getrandbits(128), version=4))


def _site_id(site: Site) -> str:
    """The FED site code: ``0070`` + number on 4 digits + number on 5 (``0070064800648``)."""
    return f"0070{site.id:04d}{site.id:05d}"


def _faker_users(fake: Faker, rnd: random.Random, count: int) -> list[User]:
    users: list[User] = []
    taken_external: set[str] = {user.external_id for user in DOCUMENT_USERS}
    taken_mail: set[str] = set()
    for index in range(count):
        first, last = fake.first_name(), fake.last_name()
        name = f"{first} {last[0]}"
        if index % 3 == 2:  # a third are Decathlon Connect customers
            external = f"{1_000_000_000_100 + index:013d}"
            users.append(User(id=_uuid(rnd), type=DKTCONNECT, name=name, external_id=external))
            continue
        stem = (_ascii(first)[:1] + _ascii(last)[:5]).upper() or "USER"
        number = 1
        while f"{stem}{number:02d}" in taken_external:
            number += 1
        external = f"{stem}{number:02d}"
        taken_external.add(external)
        mail = f"{_ascii(first).lower()}.{_ascii(last).lower()}@decathlon.com"
        if mail in taken_mail:
            mail = f"{_ascii(first).lower()}.{_ascii(last).lower()}{index}@decathlon.com"
        taken_mail.add(mail)
        site = SITES[rnd.randrange(len(SITES))]
        users.append(
            User(
                id=_uuid(rnd),
                type=FED,
                name=name,
                external_id=external,
                photo=f"//iam.subsidia.org/photos/users/{external}.jpg",
                title=FED_TITLES[rnd.randrange(len(FED_TITLES))],
                site_id=_site_id(site),
                mail=mail,
                site=site,
            )
        )
    return users


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


class _DatePool(dict[int, datetime]):
    """Quarter hours from ``_POOL_DAYS_BEFORE`` days before the base date, by index, made on
    first use and then shared, so a million events hold a few thousand datetime objects
    while 300 events do not pay for the 52,000 of the whole range (a seventh of the mock's
    start-up)."""

    def __missing__(self, index: int) -> datetime:
        if not 0 <= index < (_POOL_DAYS_BEFORE + _POOL_DAYS) * _QUARTERS_PER_DAY:
            raise IndexError(index)
        moment = self[index] = FIXTURE_BASE_DATE + timedelta(
            minutes=15 * (index - _POOL_DAYS_BEFORE * _QUARTERS_PER_DAY))
        return moment


class _Pools:
    """Everything per-event generation picks from, computed once per build."""

    def __init__(self, fake: Faker, rnd: random.Random) -> None:
        self.cities = NORTH_CITIES + FAR_CITIES
        self.dates = _DatePool()
        self.origin = _POOL_DAYS_BEFORE * _QUARTERS_PER_DAY  # index of FIXTURE_BASE_DATE
        # Per sport and city: titles, descriptions and two candidate location objects.
        self.titles: dict[tuple[int, int], tuple[str, ...]] = {}
        self.locations: dict[tuple[int, int], tuple[dict[str, Any], ...]] = {}
        for sport_index, sport in enumerate(SPORTS):
            for city_index, city in enumerate(self.cities):
                key = (sport_index, city_index)
                self.titles[key] = tuple(_in_city(t, city) for t in sport.titles)
                venue = _in_city(sport.venue, city)
                self.locations[key] = (
                    _extra_location(fake, rnd, venue, city),
                    _extra_location(fake, rnd, venue, city),
                )
        self.pictures = tuple(
            f"https://picsum.photos/seed/sport-{sport.sport_id}-{k}/800/450"
            for sport in SPORTS
            for k in range(4)
        )
        self.product_codes = tuple((f"{rnd.randrange(8_000_000, 8_999_999)}",) for _ in range(30))
        self.child_names = tuple(fake.first_name() for _ in range(40))


def _document_events(users: dict[str, User], pools: _Pools) -> list[Event]:
    """The default user's eight events: the documents' examples and one of each special case."""
    owner = users[DEFAULT_USER_ID]
    base = FIXTURE_BASE_DATE
    croix = {
        "place_id": "ChIJYR2_AuYpw0cRcLCWaO3QHKE",
        "autocomplete_name": "Decathlon Croix, Rue de la Centenaire, Croix, France",
        "custom_adress": {
            "name": "Decathlon Croix",
            "adress": "12 Rue de la Centenaire",
            "address_zip": "59170 Croix, France",
        },
        "formatted_address": "12 Rue de la Centenaire, 59170 Croix, France",
    }

    def event(event_id: int, day: int, at: float, hours: float, **values: Any) -> Event:
        start = base + timedelta(days=day, hours=at)
        defaults: dict[str, Any] = {
            "id": event_id,
            "status": PUBLISHED,
            "start_date": start,
            "end_date": start + timedelta(hours=hours),
            "publish_date": None,
            "picture": None,
            "extra_location": None,
            "owner": owner,
        }
        defaults.update(values)
        return Event(**defaults)

    return [
        event(
            1,
            7,
            17,
            50,
            title="Running meeting",
            description="My little description",
            sport_id=294,
            latitude=50.62925,
            longitude=3.057256,
            level=(5, 10),
            extra_location=croix,
            age_min=1,
            age_max=100,
            slots_limit=7,
        ),
        event(
            2,
            12,
            18,
            3,
            title="Baptême de plongée à Villeneuve-d'Ascq",
            description="Première immersion encadrée par des moniteurs diplômés.",
            picture="http://foo.bar/jdoe.jpg",
            sport_id=186,
            latitude=50.6456406,
            longitude=3.1400856,
            level=(5,),
            age_min=5,
            age_max=49,
            slots_limit=60,
            owner_message="Test organizer message",
            equipment_provided="Test provided equipment",
            equipment_required="Test required equipment",
        ),
        event(
            3,
            5,
            9.5,
            4,
            title="Sortie vélo de route au départ de Roubaix",
            description="Parcours vallonné d'environ 60 km.",
            sport_id=381,
            latitude=50.6942,
            longitude=3.1746,
            level=(10, 20),
            age_min=16,
            age_max=70,
            slots_limit=4,
            equipment_required="Vélo en bon état et casque obligatoire",
        ),
        event(
            4,
            20,
            9,
            5,
            title="Randonnée autour de Croix",
            description="Boucle de 15 km à allure modérée.",
            sport_id=168,
            latitude=50.6781,
            longitude=3.1497,
            level=(5, 10, 20),
            age_min=6,
            age_max=99,
            slots_limit=25,
            extra_location=pools.locations[(3, 4)][0],
        ),
        event(
            5,
            70,
            18,
            2,
            title="Séance natation à la piscine de Lille",
            description="Travail technique du crawl puis 1500 m en continu.",
            sport_id=278,
            latitude=50.6330,
            longitude=3.0450,
            level=(10,),
            age_min=12,
            age_max=99,
            slots_limit=12,
            publish_date=base + timedelta(days=60),
        ),
        event(
            6,
            30,
            20,
            2,
            status=PENDING,
            title="Match de hockey sur glace à Lille",
            description="Match amical en deux tiers temps.",
            sport_id=175,
            latitude=50.6386,
            longitude=3.0740,
            level=(10, 20),
            age_min=16,
            age_max=55,
            slots_limit=20,
            equipment_provided="Crosses et palets",
        ),
        event(
            7,
            9,
            18.5,
            3,
            status=CANCELED,
            title="Escalade en salle à Villeneuve-d'Ascq",
            description="Session libre en salle.",
            sport_id=161,
            latitude=50.6170,
            longitude=3.1300,
            level=(5, 10),
            age_min=8,
            age_max=99,
            slots_limit=10,
        ),
        event(
            8,
            13,
            9,
            1.5,
            title="Footing du dimanche matin à Tourcoing",
            description="Une sortie à allure libre.",
            sport_id=121,
            latitude=50.7239,
            longitude=3.1612,
            level=(5,),
            age_min=12,
            age_max=99,
            slots_limit=15,
            subscription_disabled=True,
        ),
    ]


def _document_subscriptions() -> dict[int, tuple[Subscription, ...]]:
    return {
        2: (
            Subscription(user_id=DEFAULT_USER_ID),
            Subscription(user_id="3d416216-7a1d-11e8-adc0-fa7ae01bbebc"),
        ),
        3: (  # exactly full: 2 + 2 places of 4
            Subscription(user_id="1c4884b6-c92b-4b0a-9808-373049fe6c25", additional_subscribers=1),
            Subscription(
                user_id="4c68165b-3869-4c22-8098-a4a429c97509", children=(Child("Suzie"),)
            ),
        ),
    }


def build_fixtures(seed: int = 42, events: int = 300) -> FixtureSet:
    """Users, ``events`` events and their subscriptions, identical for identical ``seed``.

    ``events`` counts every event, the documents' eight included (fewer keeps a prefix).
    """
    if events < 0:
        raise ValueError("events must be >= 0")
    # Allocating a million events triggers many full GC passes over objects that are all
    # alive; pausing the collector during the build saves a large share of the time.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(seed, events)
    finally:
        if was_enabled:
            gc.enable()


def _build(seed: int, events: int) -> FixtureSet:
    rnd = random.Random(seed)
    fake = Faker("fr_FR")
    fake.seed_instance(seed)

    users = list(DOCUMENT_USERS) + _faker_users(fake, rnd, 50)
    by_id = {user.id: user for user in users}
    pools = _Pools(fake, rnd)

    fixed = _document_events(by_id, pools)[:events]
    subscriptions: dict[int, tuple[Subscription, ...]] = {
        event_id: subs
        for event_id, subs in _document_subscriptions().items()
        if event_id <= len(fixed)
    }
    wide = _WidePools(seed, users) if events >= WIDE_FROM_ID else None
    generated, generated_subs = _generate_events(
        rnd, pools, users, first_id=len(fixed) + 1, count=events - len(fixed), wide=wide
    )
    subscriptions.update(generated_subs)
    for event_id, subs in subscriptions.items():
        if event_id <= len(fixed):
            fixed[event_id - 1] = replace(
                fixed[event_id - 1], places_taken=sum(sub.places for sub in subs)
            )
    all_events = fixed + generated
    return FixtureSet(
        seed=seed, users=tuple(users), events=tuple(all_events), subscriptions=subscriptions
    )


class _WidePools:
    """Cities, titles and locations of the events past ``WIDE_FROM_ID``.

    Drawn from generators of their own (seeded from the seed), never from the main ones, so
    the first 300 events are the same whether 300 or a million are built.
    """

    def __init__(self, seed: int, users: Sequence[User]) -> None:
        rnd = random.Random(f"wide-{seed}")
        fake = Faker("fr_FR")
        fake.seed_instance(seed + 1)
        self.cities = tuple(City(name, lat, lon, zip_code)
                            for name, lat, lon, zip_code, _ in FRANCE_CITIES)
        weights = [population for *_, population in FRANCE_CITIES]
        total = float(sum(weights))
        running = 0.0
        cumulative = []
        for weight in weights:
            running += weight
            cumulative.append(running / total)
        self.cumulative = tuple(cumulative)
        # Spread (degrees) of a city's events around its centre grows with its size:
        # ~8 km for a town, ~30 km for Paris and its suburbs.
        self.spread = tuple(0.06 + 0.0025 * population**0.5 for *_, population in FRANCE_CITIES)
        self.titles: dict[tuple[int, int], tuple[str, ...]] = {}
        self.locations: dict[tuple[int, int], tuple[dict[str, Any], ...]] = {}
        for sport_index, sport in enumerate(SPORTS):
            for city_index, city in enumerate(self.cities):
                key = (sport_index, city_index)
                self.titles[key] = tuple(_in_city(t, city) for t in sport.titles)
                venue = _in_city(sport.venue, city)
                self.locations[key] = (
                    _extra_location(fake, rnd, venue, city),
                    _extra_location(fake, rnd, venue, city),
                )

    def city_index(self, roll: float) -> int:
        return min(bisect.bisect_left(self.cumulative, roll), len(self.cities) - 1)


def _generate_events(
    rnd: random.Random, pools: _Pools, users: Sequence[User], first_id: int, count: int,
    wide: _WidePools | None = None,
) -> tuple[list[Event], dict[int, tuple[Subscription, ...]]]:
    """The bulk of the events: a handful of ``random()`` calls and pool look-ups each."""
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
        start_index = origin + (int(r() * days_span) - 90) * _QUARTERS_PER_DAY + 28 + int(r() * 56)
        low, high = sport.duration_quarters
        end_index = start_index + low + int(r() * (high - low + 1))
        roll = r()
        status = PUBLISHED if roll < 0.86 else PENDING if roll < 0.94 else CANCELED
        publish_date = None
        if status == PUBLISHED and r() < 0.1:
            publish_date = dates[start_index - 14 * _QUARTERS_PER_DAY]
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
    r: Any,
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
