"""operationId -> handler: the routing table the app checks against the spec at start."""

from __future__ import annotations

from collections.abc import Callable

from mock_server.api.calls import Call, Reply
from mock_server.api.handlers import activities, tracking
from mock_server.services import Services

Handler = Callable[[Services, Call], Reply]

HANDLERS: dict[str, Handler] = {
    "listEvents": activities.list_events,
    "createEvent": activities.create_event,
    "getEvent": activities.get_event,
    "patchEvent": activities.patch_event,
    "cancelEvent": activities.cancel_event,
    "duplicateEvent": activities.duplicate_event,
    "listMyEvents": activities.list_my_events,
    "listSubscribers": activities.list_subscribers,
    "addSubscriber": activities.add_subscriber,
    "updateSubscriber": activities.update_subscriber,
    "removeSubscriber": activities.remove_subscriber,
    "getMySubscription": activities.get_my_subscription,
    "searchUserByExternalId": activities.search_user_by_external_id,
    "getAuthenticatedUser": activities.get_authenticated_user,
    "uploadFile": tracking.upload_file,
    "listActivities": tracking.list_activities,
    "getActivity": tracking.get_activity,
    "updateActivity": tracking.update_activity,
}
