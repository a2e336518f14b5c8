"""A signed bearer token for a fixture user, for the commands that hand one out.

`mock-server token` prints it and `mock-server postman` writes it into a Postman environment;
both must sign exactly as a mock started with the same seed and secret verifies, so they share
this one function. It signs on the wall clock: a running mock whose clock was moved mints its
own through `POST /__admin/tokens`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from mock_server.api.auth import Tokens
from mock_server.domain.activities.models import User
from mock_server.domain.clock import SystemClock
from mock_server.seed import DEFAULT_USER_ID, build_fixtures
from mock_server.settings import Settings


class UnknownFixtureUser(LookupError):
    """No fixture user of this seed has that uuid or external id."""


def find_user(users: Sequence[User], wanted: str) -> User | None:
    for user in users:
        if wanted in (user.id, user.external_id):
            return user
    return None


def fixture_token(user: str | None = None, *, seed: int | None = None,
                  token_secret: str | None = None,
                  ttl: timedelta = timedelta(hours=12)) -> tuple[User, str]:
    """The user (`user`: uuid or external id; default John D, who owns events near Lille) and
    a token for them, signed with the secret a mock of these settings uses."""
    settings = Settings.from_environment(seed=seed, token_secret=token_secret)
    users = build_fixtures(seed=settings.seed, events=0).users
    found = find_user(users, user or DEFAULT_USER_ID)
    if found is None:
        raise UnknownFixtureUser(f"no fixture user {user!r} for seed {settings.seed}")
    tokens = Tokens(settings.token_secret, SystemClock())
    return found, tokens.issue(found.id, found.type, ttl=ttl, name=found.name)
