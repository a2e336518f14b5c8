"""The documents' flow with a typed Python client generated from openapi.yaml.

    openapi-python-client generate --path openapi.yaml --meta none \
        --output-path DIR/decathlon_client
    PYTHONPATH=DIR python flow.py --base-url URL --api-key KEY --token TOKEN --photo photo.jpg

List events near Lille, create one, read it back, subscribe a user, upload a photo and put it on
one of the caller's tracking activities, with the generated functions and models only (mypy
checks the calls against them). Every answer is checked; the first surprise stops the script
with exit status 1. openapi-python-client builds bearer authentication into its client but not
API keys, so the key travels as a default header of the same client.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any, NoReturn
from uuid import UUID

from decathlon_client import AuthenticatedClient
from decathlon_client.api.activities import get_activity, list_activities, update_activity
from decathlon_client.api.events import create_event, get_event, list_events
from decathlon_client.api.subscribers import add_subscriber, list_subscribers
from decathlon_client.api.uploads import upload_file
from decathlon_client.models import (
    ActivityUpdate,
    EventCreate,
    EventEnvelope,
    EventPage,
    Level,
    SubscriberPage,
    SubscriptionCreate,
    TrackingActivity,
    TrueEnvelope,
    UploadForm,
    UploadResult,
)
from decathlon_client.types import File, Response

LILLE = (50.6292, 3.0573)
#: Jane D, the user of the documents' subscription example.
JANE = UUID("4c68165b-3869-4c22-8098-a4a429c97509")


def fail(step: str, response: Response[Any]) -> NoReturn:
    raise SystemExit(f"{step}: HTTP {response.status_code} {response.content.decode()[:500]}")


def walk(client: AuthenticatedClient, photo: Path) -> None:
    latitude, longitude = LILLE
    near = list_events.sync_detailed(client=client, latitude=latitude, longitude=longitude,
                                     distance=20, level=[Level.BEGINNER, Level.GOOD],
                                     x_desired_limit=5)
    if not isinstance(near.parsed, EventPage) or not near.parsed.data:
        fail("listEvents", near)
    print(f"listEvents: {near.parsed.meta.total} events within 20 km of Lille, "
          f"{len(near.parsed.data)} on page 1, first {near.parsed.data[0].title!r}")

    start = datetime(2027, 3, 7, 9, 0, tzinfo=UTC)
    body = EventCreate(title="Footing du dimanche (Python client)",
                       description="Ten kilometres along the Deule, all paces welcome.",
                       sport_id=121, start_date=start, end_date=start + timedelta(minutes=90),
                       latitude=latitude, longitude=longitude,
                       level=[Level.BEGINNER, Level.GOOD], age_min=16, age_max=99, slots=12)
    created = create_event.sync_detailed(client=client, body=body)
    if created.status_code != 201 or not isinstance(created.parsed, EventEnvelope):
        fail("createEvent", created)
    event = created.parsed.data
    if (event.title, event.slots, event.start_date) != (body.title, 12, start):
        fail("createEvent: not the event sent", created)
    print(f"createEvent: event {event.id} {event.title!r}, {event.status}, {event.slots} places")

    read = get_event.sync_detailed(event.id, client=client)
    if not isinstance(read.parsed, EventEnvelope) or read.parsed.data.start_date != start:
        fail("getEvent", read)
    print(f"getEvent: event {read.parsed.data.id} starts {read.parsed.data.start_date}")

    subscribed = add_subscriber.sync_detailed(event.id, client=client,
                                              body=SubscriptionCreate(user=JANE))
    if not isinstance(subscribed.parsed, TrueEnvelope) or subscribed.parsed.data is not True:
        fail("addSubscriber", subscribed)
    subscribers = list_subscribers.sync_detailed(event.id, client=client)
    if not isinstance(subscribers.parsed, SubscriberPage):
        fail("listSubscribers", subscribers)
    jane = next((s for s in subscribers.parsed.data if s.id == JANE), None)
    if jane is None:
        fail("listSubscribers: the new subscriber is not listed", subscribers)
    print(f"addSubscriber: {jane.name} subscribed to event {event.id} "
          f"({subscribers.parsed.meta.total} subscriber)")

    content = photo.read_bytes()
    upload = UploadForm(file=File(payload=BytesIO(content), file_name="photo.jpg",
                                  mime_type="image/jpeg"))
    uploaded = upload_file.sync_detailed(client=client, body=upload)
    if not isinstance(uploaded.parsed, UploadResult):
        fail("uploadFile", uploaded)
    url = uploaded.parsed.url
    print(f"uploadFile: {len(content)} bytes stored at {url}")

    listed = list_activities.sync_detailed(client=client)
    if not isinstance(listed.parsed, list) or not listed.parsed:
        fail("listActivities: the caller has no activity", listed)
    activity = listed.parsed[0]
    updated = update_activity.sync_detailed(activity.id, client=client,
                                            body=ActivityUpdate(images=[*activity.images, url]))
    if not isinstance(updated.parsed, TrackingActivity):
        fail("updateActivity", updated)
    back = get_activity.sync_detailed(activity.id, client=client)
    if not isinstance(back.parsed, TrackingActivity) or back.parsed.images[-1:] != [url]:
        fail("getActivity: the photo is not the last image", back)
    print(f"updateActivity: activity {activity.id} now has {len(back.parsed.images)} images, "
          "the photo last")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="one root serving /v1 and /v2")
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--token", required=True, help="a bearer token")
    parser.add_argument("--photo", required=True, type=Path, help="a JPEG to upload")
    args = parser.parse_args(argv)
    with AuthenticatedClient(base_url=args.base_url, token=args.token,
                             headers={"X-Api-Key": args.api_key},
                             raise_on_unexpected_status=True) as client:
        walk(client, args.photo)
    return 0


if __name__ == "__main__":
    sys.exit(main())
