"""The broken variants and what must catch them: one table for the test and the measurement.

`test_breakers.py` runs every behaviour check (and the shape phase that finds the bug) on
each variant; `measure_breakers.py` runs the default `contracts run` on each and reports the
catch rate, the time and the requests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import breakers


@dataclass(frozen=True)
class Case:
    breaker: Callable[[Any, dict[str, str]], Any]
    #: The check whose failure message must say why (`reason`).
    check: str
    reason: str
    #: Other checks that must fail too: the bug breaks their rule as well.
    also: tuple[str, ...] = ()
    #: Checks whose rule the bug breaks too, but which see it only for some inputs (a value
    #: read back, a filter drawn), so they may or may not fail with a given seed.
    may_also: tuple[str, ...] = ()
    #: Shape phases to run besides `behaviour` (the one that finds the bug, if any).
    phases: tuple[str, ...] = ()
    #: From issue 13's second held-out set (the classes of bug beyond the schema).
    beyond_schema: bool = False
    #: Another case on the same broken deployment (seen by another check or phase).
    same_deployment_as: str = ""
    #: Threads of the run (None: the default). One for a bug whose effect on *other* checks
    #: depends on which of them run at the same time.
    workers: int | None = None

    @property
    def caught_by(self) -> set[str]:
        return {self.check, *self.also}

    def explains(self, failed: set[str]) -> bool:
        """Whether exactly the expected checks failed (and perhaps some of `may_also`)."""
        return self.caught_by <= failed <= self.caught_by | set(self.may_also)


#: Checks that compare `sport_id` with what was sent or asked only when their drawn input
#: has it (a patch of `sport_id`, a `sport` filter).
SPORT_ID_READERS = ("patch_changes_only_given_fields",
                    "listed_events_lie_within_distance_and_match_filters",
                    "every_list_filter_selects_exactly_the_matching_events")
#: A server that lets requests without a valid token through also takes forged tokens and
#: answers 2xx where "no token" must be 401: one bug, three documented rules.
TOKEN_RULES = ("tampered_tokens_are_refused", "missing_token_is_401_and_forbidden_is_403")
MACHINE = "subscription_takes_places_and_unsubscription_gives_them_back"

CASES: dict[str, Case] = {
    "ignores X-Desired-Limit": Case(
        lambda app, t: breakers.IgnoresDesiredLimit(app),
        "desired_limit_is_honoured", "answered meta.per_page 25"),
    "lists cancelled events": Case(
        lambda app, t: breakers.ListsCanceledEvents(app),
        "cancel_gives_canceled_and_hides_from_public_list", "is still in the public list"),
    "skips the API key check": Case(
        lambda app, t: breakers.SkipsApiKeyCheck(app),
        "api_key_is_required_everywhere", "without an API key answered 200, expected 401"),
    "skips the API key check (schemathesis)": Case(
        lambda app, t: breakers.SkipsApiKeyCheck(app),
        "ignored_auth", "API accepts requests without authentication",
        also=("api_key_is_required_everywhere",), phases=("examples",),
        same_deployment_as="skips the API key check"),
    "skips the token check": Case(
        lambda app, t: breakers.SkipsTokenCheck(app, t["main"], t["other"]),
        "token_is_required_everywhere_but_public_list",
        "without a bearer token answered 201, expected 401", also=TOKEN_RULES),
    # The state machine checks the free places after any sequence: it sees it when its
    # sequence fills the event.
    "oversubscribes": Case(
        lambda app, t: breakers.Oversubscribes(app),
        "full_event_refuses_subscription", "answered 201, expected 422", may_also=(MACHINE,)),
    "wrong type in one field": Case(
        lambda app, t: breakers.WrongTypeSportId(app),
        "response_schema_conformance", "sport_id", also=("created_event_reads_back_as_sent",),
        may_also=SPORT_ID_READERS, phases=("examples",)),
    "wrong type in one field (read back)": Case(
        lambda app, t: breakers.WrongTypeSportId(app),
        "created_event_reads_back_as_sent", "sport_id: expected", may_also=SPORT_ID_READERS,
        same_deployment_as="wrong type in one field"),
    # desired_limit_is_honoured lists at the maximum distance too, and rightly fails on the 500.
    "500 on an edge input": Case(
        lambda app, t: breakers.FailsOnMaximumDistance(app),
        "not_a_server_error", "answered 500", also=("desired_limit_is_honoured",),
        phases=("coverage",)),
    # Another user's patch answered 200 instead of 403 breaks both statements of the rule.
    "lets anyone change an event": Case(
        lambda app, t: breakers.LetsAnyoneChangeEvents(app, t["main"], t["other"]),
        "other_users_event_cannot_be_changed", "another user modifying the event answered 200",
        also=("missing_token_is_401_and_forbidden_is_403",)),
    "patch touches other fields": Case(
        lambda app, t: breakers.PatchTouchesOtherFields(app),
        "patch_changes_only_given_fields", "owner_message"),
    "appends photos instead of replacing them": Case(
        lambda app, t: breakers.AppendsImages(app),
        "activity_photos_and_thumbnail_are_replaced_as_sent", "images: expected"),
    "corrupts uploaded files": Case(
        lambda app, t: breakers.CorruptsUploads(app),
        "uploaded_file_comes_back_byte_for_byte", "differ from the"),
    # -- issue 13: beyond the schema --------------------------------------------------------
    # The machine also leaves or changes a subscription under an event it is not subscribed
    # to, and then sees 200. That request lands on the event the same user joined last, in
    # whichever check is running beside it: so the checks run one at a time here.
    "a subscriber reachable under another event": Case(
        lambda app, t: breakers.SubscriberReachableUnderAnyEvent(app, t["main"], t["other"]),
        "subscribers_belong_to_their_event", "answered 200, expected 404",
        may_also=(MACHINE,), beyond_schema=True, workers=1),
    "another user's activities listed": Case(
        lambda app, t: breakers.ListsOthersActivities(app, t["main"], t["other"]),
        "other_users_activity_is_private", "is in another user's list", beyond_schema=True),
    "mass assignment of slots_limit": Case(
        lambda app, t: breakers.AppliesSlotsLimit(app),
        "server_fields_cannot_be_set_by_the_client", "slots_limit is 9999",
        beyond_schema=True),
    "a refused create still creates": Case(
        lambda app, t: breakers.RefusedCreateStillCreates(app),
        "refused_writes_leave_no_trace", "refused creates left events behind",
        beyond_schema=True),
    "alg none accepted": Case(
        lambda app, t: breakers.AcceptsAlgNone(app, t["main"], t["other"]),
        "tampered_tokens_are_refused", '`alg: "none"` and no signature answered 200',
        beyond_schema=True),
    "403 answered as 401": Case(
        lambda app, t: breakers.ForbiddenSubscriberChangeIs401(app),
        "missing_token_is_401_and_forbidden_is_403", "answered 401, expected the documented 403",
        beyond_schema=True),
    "a filter that drops matches": Case(
        lambda app, t: breakers.LevelFilterRequiresAll(app),
        "every_list_filter_selects_exactly_the_matching_events", "matches but is left out",
        beyond_schema=True),
    "mine ignores its type": Case(
        lambda app, t: breakers.MineIgnoresType(app),
        "mine_lists_created_and_subscribed_events_by_type", "mixes up its types",
        beyond_schema=True),
    "a write answered but not kept": Case(
        lambda app, t: breakers.DropsAttendance(app),
        "subscription_changes_are_kept", "has_attended: expected True", beyond_schema=True),
    "auth/me not the token's user": Case(
        lambda app, t: breakers.AuthMeFlipsType(app),
        "auth_me_is_the_token_user", "type: auth/me says", beyond_schema=True),
    "an extension off the whitelist accepted": Case(
        lambda app, t: breakers.AcceptsAnyExtension(app),
        "upload_accepts_only_the_documented_extensions", "answered 200, expected 422",
        beyond_schema=True),
    "generated thumbnails missing": Case(
        lambda app, t: breakers.ThumbnailsMissing(app),
        "every_activity_has_a_thumbnail_that_is_served", "answered 404", beyond_schema=True),
    "tracking dates not in UTC": Case(
        lambda app, t: breakers.LocalTimeTrackingDates(app),
        "dates_are_utc_without_milliseconds", "+02:00", beyond_schema=True),
    "a second subscription of the same user accepted": Case(
        lambda app, t: breakers.AcceptsSecondSubscription(app),
        MACHINE, "a second subscription of the same user", beyond_schema=True),
    "a link that leads nowhere": Case(
        lambda app, t: breakers.CancelAnswersAnotherId(app),
        "every_link_leads_to_a_resource", "link cancelEvent -[200 GetEvent]-> getEvent",
        beyond_schema=True,
        # the cancel check reads the cancelled event back by the id it sent, not by the
        # answer's: only the links (and the answer's own id, when a check compares it) see it
        may_also=("cancel_gives_canceled_and_hides_from_public_list",)),
}
