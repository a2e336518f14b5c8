"""The seeded fixtures: the generators, beside the domain; their static tables, as data.

``build_fixtures(seed, events)`` gives the Sport Activities side (users, events,
subscriptions) and ``fixture_activities(fixtures)`` the Sports Tracking side, both the same for
the same seed. The cities, sites, sport profiles and the documents' own users and events are
JSON files under the repository's ``fixtures/tables/`` (its README says what each one is),
read and checked once, when this package is first imported.

Modules, each one job: ``tables`` (reading and checking the tables), ``dates`` (the base date
and the shared instants), ``documents`` (the documents' users, events and subscriptions),
``users`` (Faker users), ``pools`` (what events draw from), ``events`` (the bulk of the
events), ``fixtures`` (the build), ``tracking`` (tracking activities). The package imports
only ``mock_server.domain`` (tests/test_architecture.py).
"""

from mock_server.seed.dates import FIXTURE_BASE_DATE
from mock_server.seed.documents import DEFAULT_USER_ID, DOCUMENT_USERS
from mock_server.seed.fixtures import FixtureSet, build_fixtures
from mock_server.seed.pools import WIDE_FROM_ID
from mock_server.seed.tables import (
    FAR_CITIES,
    FED_TITLES,
    FRANCE_CITIES,
    LEVEL_CHOICES,
    LILLE,
    NORTH_CITIES,
    OWNER_MESSAGES,
    SITES,
    SPORTS,
    City,
    FixtureTablesError,
    SportProfile,
    TrackingSportProfile,
)
from mock_server.seed.tracking import (
    FIXTURE_ANCHOR,
    FIXTURE_SPORTS,
    build_activities,
    fixture_activities,
)

__all__ = [
    "DEFAULT_USER_ID",
    "DOCUMENT_USERS",
    "FAR_CITIES",
    "FED_TITLES",
    "FIXTURE_ANCHOR",
    "FIXTURE_BASE_DATE",
    "FIXTURE_SPORTS",
    "FRANCE_CITIES",
    "LEVEL_CHOICES",
    "LILLE",
    "NORTH_CITIES",
    "OWNER_MESSAGES",
    "SITES",
    "SPORTS",
    "WIDE_FROM_ID",
    "City",
    "FixtureSet",
    "FixtureTablesError",
    "SportProfile",
    "TrackingSportProfile",
    "build_activities",
    "build_fixtures",
    "fixture_activities",
]
