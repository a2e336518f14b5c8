"""The seeded data never changes by accident: digests of everything a seed builds, pinned.

Contract tests, screenshots and the documents' examples name fixture ids and values, so a
refactoring of the seed (its tables moved to ``fixtures/tables/``, its generator split into
modules) must give the same users, events, subscriptions and tracking activities, byte for
byte, for every seed and size. These digests were taken before the tables became data files
and are the same after; a change here means the fixtures changed.

The digest is of each object's ``repr``: it sees every field, its type (a list where a tuple
was is a change) and the order of everything. The fixtures also depend on Faker's ``fr_FR``
data (names, streets): if a Faker upgrade is what moved them, the message says which Faker ran;
re-pin only after checking the change comes from there. Pinned with Faker 40.63.0, Python 3.11.
"""

from __future__ import annotations

import hashlib

import faker
import pytest

from mock_server.seed import build_fixtures, fixture_activities

#: (seed, events) -> sha256 of the build, as ``digest`` computes it.
PINNED = {
    (42, 0): "bcb4d444ac85ccf319dd73d82f61fff3f75b5d6a6f8712370f99def7bd349197",
    (42, 300): "51767109c1c542b03d320be87b53a4371cf163e467104499f317fa5e2c4faf86",
    (42, 5_000): "9bac0241082ad0e432c38906a5d6cc92bc6ef0dd91afa3e07b7630bc96812555",
    (7, 0): "cb11ac256a9bc2922c10c55f7006ea14c5df90167571280155a9b6a76ea7fd5e",
    (7, 300): "4a7699bede9ce06cef76dd521f7d7623051fdf4d6a8069e94a19766b60090d4a",
    (7, 5_000): "71295338abb7ae47bd2010b7d4eed9fa09958c8053980d2cf9c7905339f1403d",
}
# Checked by hand, too slow for the suite (about 20 s each):
# (42, 1_000_000): 653d045739c4033278d69adcded97b52c2b68a7803d5b4c2dbb3efcd0baafc78
# (7, 1_000_000):  db20fca1c2a811f56f5b0cafb4613e9bb5a6c260ed364ef1deac80be821493bd


def digest(seed: int, events: int) -> str:
    """sha256 over the set's size, then every user, event, subscription list and tracking
    activity (three per user, from the same seed, as the mock starts with)."""
    fixtures = build_fixtures(seed, events)
    h = hashlib.sha256()
    h.update(repr(("FixtureSet", fixtures.seed, len(fixtures.users),
                   len(fixtures.events))).encode())
    for user in fixtures.users:
        h.update(repr(user).encode())
    for event in fixtures.events:
        h.update(repr(event).encode())
    for event_id, subscriptions in fixtures.subscriptions.items():
        h.update(repr((event_id, subscriptions)).encode())
    for activity in fixture_activities(fixtures):
        h.update(repr(activity).encode())
    return h.hexdigest()


@pytest.mark.parametrize(("seed", "events"), sorted(PINNED))
def test_a_seed_builds_exactly_what_it_always_built(seed: int, events: int) -> None:
    assert digest(seed, events) == PINNED[(seed, events)], (
        f"the fixtures of seed {seed} at {events} events changed (Faker {faker.VERSION})"
    )


def test_the_digest_sees_a_change_of_one_field() -> None:
    """The check itself: a different seed, or one event fewer, gives another digest."""
    assert digest(42, 299) != PINNED[(42, 300)]
    assert digest(43, 300) != PINNED[(42, 300)]
