"""The documents' whole flow again, through HAProxy in front of two replicas on PostgreSQL.

The same tests as ``test_documented_requests`` (imported, so they cannot drift apart), with
their ``server`` being the balancer: consecutive requests of one flow land on different
replicas, which must answer as one mock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fleet import Balancer, start_balancer
from test_documented_requests import (  # noqa: F401 - collected here again, behind the balancer
    api,
    test_concurrent_subscriptions_take_exactly_the_free_places,
    test_documented_errors,
    test_event_lifecycle_as_documented,
    test_list_of_sport_activities_as_documented,
    test_subscribers_as_documented,
    test_the_documented_upload_curl_works_verbatim,
    test_users_and_auth_as_documented,
    tokens,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@dataclass
class BalancedServer:
    """What the documents' tests use of a server, with the balancer's URL."""

    url: str
    replica: Any

    def token(self, user: str | None = None, *, ttl: int | None = None) -> str:
        return str(self.replica.token(user, ttl=ttl))


@pytest.fixture(scope="module")
def server(postgres: Any, server_control: Any) -> Iterator[BalancedServer]:
    flags = ("--state-url", postgres.create_database(), "--workers", "1", "--quiet")
    replicas = [server_control.start(*flags) for _ in range(2)]
    balancer: Balancer = start_balancer([r.port for r in replicas], server_control.free_port())
    yield BalancedServer(balancer.url, replicas[0])
    balancer.stop()
    for replica in replicas:
        server_control.stop(replica)
