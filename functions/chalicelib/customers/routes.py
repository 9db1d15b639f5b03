"""Customers (issue 15): a member's aggregates for head office and store managers; the
recall list (召回), its outcomes and its rate."""

from __future__ import annotations

from typing import Any

from chalicelib.auth.principal import HQ_ADMIN, STORE_MANAGER, Principal
from chalicelib.customers import schemas as s
from chalicelib.http.routing import Area, respond
from chalicelib.kernel.lazy import lazy_module

stats = lazy_module("chalicelib.customers.stats")

area = Area("customers", __name__, "Customers (客户洞察): members' aggregates, segments.")


@area.route(
    "/admin/members/{customer_id}/stats",
    "GET",
    summary="A member's aggregates: orders, spend, dates, favourite store, categories",
    roles={HQ_ADMIN, STORE_MANAGER},
    response=s.MemberStats,
    errors=(403, 404),
    response_example=s.EXAMPLE,
)
def member_stats(customer_id: str, principal: Principal) -> s.MemberStats:
    """Kept live from order events: an order counts when completed, on what it kept;
    a refund after completion subtracts. Average order value, days and months since the
    last order and months since registration are computed when read. Store managers see
    members of their home store only (403 ``other_store``)."""
    return stats.admin_stats(principal, customer_id)


recall = lazy_module("chalicelib.customers.recall")


@area.route(
    "/admin/customers/recall-settings",
    "GET",
    summary="The recall list's rules (minimum completed orders)",
    roles={HQ_ADMIN},
    response=s.RecallSettings,
    errors=(403,),
    response_example=s.RECALL_SETTINGS_EXAMPLE,
)
def get_recall_settings(principal: Principal) -> s.RecallSettings:
    """Head office only; ``min_orders`` 2 until head office sets it. The window (no order
    in the last 3 months) and the return window (30 days) are fixed."""
    return recall.settings()


@area.route(
    "/admin/customers/recall-settings",
    "PUT",
    summary="Replace the recall list's rules (audited)",
    roles={HQ_ADMIN},
    body=s.RecallSettings,
    response=s.RecallSettings,
    errors=(403, 409, 422),
    request_example=s.RECALL_SETTINGS_EXAMPLE,
    response_example=s.RECALL_SETTINGS_EXAMPLE,
)
def put_recall_settings(body: s.RecallSettings, principal: Principal) -> s.RecallSettings:
    """Head office only; 409 ``settings_changed`` on a concurrent edit."""
    return recall.put_settings(principal, body)


@area.route(
    "/stores/{store_id}/recall",
    "GET",
    summary="The store's recall list (召回) for today, largest past spend first",
    roles={HQ_ADMIN, STORE_MANAGER},
    query=s.RecallQuery,
    response=s.RecallPage,
    errors=(400, 403, 422),
    response_example=s.RECALL_PAGE_EXAMPLE,
)
def recall_list(store_id: str, query: s.RecallQuery, principal: Principal) -> s.RecallPage:
    """Members whose favourite store (most completed orders) is this store, with at least
    ``min_orders`` completed orders and none in today's month nor the 3 months before it
    (Asia/Shanghai), ranked by spend after refunds, with each one's latest outcome in
    this recall round. Members who erased their account or revoked marketing consent are
    left out and counted. The phone in full for the store's manager, masked for head
    office; store staff 403. ``next_cursor`` pages on (400 ``bad_cursor`` for one not
    given out by this list today)."""
    return recall.listing(principal, store_id, query)


@area.route(
    "/stores/{store_id}/recall/{customer_id}/outcomes",
    "POST",
    summary="Record a recall outcome (called, no answer, coupon sent, came back)",
    roles={STORE_MANAGER},
    body=s.OutcomeBody,
    response=s.LatestOutcome,
    status=201,
    replays=True,
    errors=(403, 404, 409, 422),
    request_example=s.OUTCOME_EXAMPLE,
    response_example=s.LATEST_EXAMPLE,
)
def record_recall_outcome(
    store_id: str, customer_id: str, body: s.OutcomeBody, principal: Principal
) -> Any:
    """The store's manager only (audited). The same ``request_id`` again records nothing
    and answers 200 with ``Idempotent-Replayed: true``; with another body 409
    ``request_id_reused``. 404 ``not_on_list`` when the member's favourite store is
    another one; 409 ``marketing_consent_revoked``. The first outcome of a recall round
    starts its 30 days (the recall report)."""
    latest, replayed = recall.record_outcome(principal, store_id, customer_id, body)
    return respond(latest, 200 if replayed else 201)


@area.route(
    "/stores/{store_id}/recall/report",
    "GET",
    summary="The recall rate: members recalled in a period and how many came back",
    roles={HQ_ADMIN, STORE_MANAGER},
    query=s.RecallReportQuery,
    response=s.RecallReport,
    errors=(403, 422),
    response_example=s.RECALL_REPORT_EXAMPLE,
)
def recall_report(
    store_id: str, query: s.RecallReportQuery, principal: Principal
) -> s.RecallReport:
    """``from``/``to`` (local dates, default the last 30 days, at most 366): members whose
    recall round's first outcome fell in the period, and of them those who completed an
    order (at any store) within 30 days after it; ``pending``: not back yet with days left."""
    return recall.report(principal, store_id, query)


# --- tags (标签, issue 15 item 2) ---------------------------------------------------------

from urllib.parse import unquote  # noqa: E402  (imports of this block kept with it)

from chalicelib.auth.principal import STORE_STAFF  # noqa: E402

tags = lazy_module("chalicelib.customers.tags")
TAGGERS = {HQ_ADMIN, STORE_MANAGER, STORE_STAFF}


@area.route(
    "/admin/customers/tag-rules",
    "GET",
    summary="The automatic tags' rules",
    roles={HQ_ADMIN},
    response=s.TagRules,
    errors=(403,),
    response_example=s.TAG_RULES_EXAMPLE,
)
def get_tag_rules(principal: Principal) -> s.TagRules:
    """Head office only; the issue's five examples until head office sets its own."""
    return tags.settings()


@area.route(
    "/admin/customers/tag-rules",
    "PUT",
    summary="Replace the automatic tags' rules (audited)",
    roles={HQ_ADMIN},
    body=s.TagRules,
    response=s.TagRules,
    errors=(403, 409, 422),
    request_example=s.TAG_RULES_EXAMPLE,
    response_example=s.TAG_RULES_EXAMPLE,
)
def put_tag_rules(body: s.TagRules, principal: Principal) -> s.TagRules:
    """Head office only. A member gets a tag when every rule naming it holds. 422 names
    each unknown metric, an operator the metric does not take (>= and <= are for
    numbers) and a value of the wrong type; 409 ``settings_changed`` on a concurrent edit."""
    return tags.put_settings(principal, body)


@area.route(
    "/admin/members/{customer_id}/tags",
    "GET",
    summary="A member's tags: automatic (evaluated now) and manual",
    roles=TAGGERS,
    response=s.MemberTags,
    errors=(403, 404),
    response_example=s.MEMBER_TAGS_EXAMPLE,
)
def member_tags(customer_id: str, principal: Principal) -> s.MemberTags:
    """Head office: any member; store managers and staff: members of their home store
    (403 ``other_store``). Members never see their own tags."""
    return tags.member_tags(principal, customer_id)


@area.route(
    "/admin/members/{customer_id}/tags/{tag}",
    "PUT",
    summary="Add a manual tag to a member (idempotent, audited)",
    roles=TAGGERS,
    response=s.ManualTag,
    errors=(403, 404, 409, 422),
    response_example=s.MANUAL_TAG_EXAMPLE,
)
def put_member_tag(customer_id: str, tag: str, principal: Principal) -> s.ManualTag:
    """``tag`` URL-encoded (Chinese names welcome): 1-20 characters, no control
    characters. Adding a tag the member has writes nothing and answers it as it is. At
    most 20 manual tags a member (409 ``too_many_tags``). Who may: as the GET."""
    return tags.add_tag(principal, customer_id, _path_text(tag))


@area.route(
    "/admin/members/{customer_id}/tags/{tag}",
    "DELETE",
    summary="Remove a manual tag from a member (idempotent, audited)",
    roles=TAGGERS,
    status=204,
    errors=(403, 404),
)
def delete_member_tag(customer_id: str, tag: str, principal: Principal) -> None:
    """Removing a tag the member does not have writes nothing (204 all the same)."""
    tags.remove_tag(principal, customer_id, _path_text(tag))


def _path_text(value: str) -> str:
    """A path parameter as text: the local server hands it on percent-encoded, API
    Gateway decoded (a decoded name has no '%' left to decode: tag names may not hold
    '%' for that reason, tag_rules.tag_problem)."""
    return unquote(value)


# --- staff distribution (员工分销, issue 15 item 5): customers/distribution.py ----------

from chalicelib.auth.principal import CUSTOMER, STORE_STAFF  # noqa: E402
from chalicelib.customers import distribution_schemas as ds  # noqa: E402

distribution = lazy_module("chalicelib.customers.distribution")


@area.route(
    "/staff/me/distribution-qr",
    "GET",
    summary="The caller's personal distribution QR code (store + staff), made on first call",
    roles={STORE_STAFF, STORE_MANAGER},
    response=ds.DistributionQr,
    errors=(403, 404),
    response_example=ds.QR_EXAMPLE,
)
def my_distribution_qr(principal: Principal) -> ds.DistributionQr:
    """One code per staff member (derived from the account, so repeated calls answer
    the same one); ``link`` is what the QR code holds. 404 ``staff_not_found`` for a
    token whose account is gone. A member who registers through
    it is bound to the staff member."""
    return distribution.my_qr(principal)


@area.route(
    "/members/me/inviter",
    "GET",
    summary="The staff member the signed-in member is bound to (我的邀请人), or null",
    roles={CUSTOMER},
    response=ds.MyInviter,
    errors=(403,),
    response_example={"inviter": ds.INVITER_EXAMPLE},
)
def my_inviter(principal: Principal) -> ds.MyInviter:
    """Display name and store only; the member never sees commission."""
    return ds.MyInviter(inviter=distribution.inviter(principal.subject))


@area.route(
    "/members/me/staff-binding",
    "POST",
    summary="Scan a staff member's QR code: bind to them if the binding rules allow",
    roles={CUSTOMER},
    body=ds.StaffBindingBody,
    response=ds.StaffBindingResult,
    errors=(403, 422),
    request_example={"code": "S7KQ2MZ9XP4"},
    response_example=ds.BINDING_EXAMPLE,
)
def staff_binding(body: ds.StaffBindingBody, principal: Principal) -> ds.StaffBindingResult:
    """Bound when nobody holds the member, their binding expired, or (binding "days")
    its protection is over; a change of staff member is audited. ``bound`` false with
    ``reason`` same, protected, permanent or bound otherwise. 422 ``unknown_source``
    for a code that is not an active staff QR code."""
    return distribution.bind_by_code(principal, body.code)


@area.route(
    "/admin/distribution/settings",
    "GET",
    summary="Head office's distribution rules (binding, commission, coupons, guide levels)",
    roles={HQ_ADMIN},
    response=ds.DistributionSettings,
    errors=(403,),
    response_example=ds.SETTINGS_EXAMPLE,
)
def get_distribution_settings(principal: Principal) -> ds.DistributionSettings:
    """The defaults until head office sets them: permanent binding, 7 protection days,
    ¥5 then ¥2, level 2 nothing."""
    return distribution.settings()


@area.route(
    "/admin/distribution/settings",
    "PUT",
    summary="Replace the distribution rules (audited)",
    roles={HQ_ADMIN},
    body=ds.DistributionSettings,
    response=ds.DistributionSettings,
    errors=(403, 409, 422),
    request_example=ds.SETTINGS_EXAMPLE,
    response_example=ds.SETTINGS_EXAMPLE,
)
def put_distribution_settings(
    body: ds.DistributionSettings, principal: Principal
) -> ds.DistributionSettings:
    """409 ``settings_changed`` on a concurrent edit."""
    return distribution.put_settings(principal, body)


@area.route(
    "/admin/distribution/staff/{username}",
    "PUT",
    summary="Set a staff member's upline (level 2 of at most two; audited)",
    roles={HQ_ADMIN},
    body=ds.StaffProfileBody,
    response=ds.StaffProfile,
    errors=(403, 404, 422),
    request_example={"upline": "sh-a-manager"},
    response_example=ds.PROFILE_EXAMPLE,
)
def put_distribution_staff(
    username: str, body: ds.StaffProfileBody, principal: Principal
) -> ds.StaffProfile:
    """422 ``distribution_levels`` for an upline that has an upline, a staff member who
    is someone's upline, or oneself; ``upline`` null removes it."""
    return distribution.set_upline(principal, username, body)


@area.route(
    "/admin/distribution/statements",
    "GET",
    summary="The month's commission statements per staff member",
    roles={HQ_ADMIN, STORE_MANAGER},
    query=ds.MonthQuery,
    response=ds.Statements,
    errors=(403, 422),
    response_example=ds.STATEMENTS_EXAMPLE,
)
def distribution_statements(query: ds.MonthQuery, principal: Principal) -> ds.Statements:
    """Staff members with activity in the month (local months): accrued, reversed, net,
    pending (still in the return window), the balance carried from earlier months and
    payable = carried + net - pending (negative is carried on, never clamped). Head
    office: the chain or ``store_id``; a store manager: their store (403 otherwise)."""
    return distribution.statements(principal, query)


@area.route(
    "/admin/distribution/statements/{username}",
    "GET",
    summary="A staff member's statement for a month, with its entries",
    roles={HQ_ADMIN, STORE_MANAGER},
    query=ds.StaffMonthQuery,
    response=ds.StaffStatement,
    errors=(403, 404, 422),
    response_example=ds.STAFF_STATEMENT_EXAMPLE,
)
def distribution_staff_statement(
    username: str, query: ds.StaffMonthQuery, principal: Principal
) -> ds.StaffStatement:
    """Store managers: their store's staff only."""
    return distribution.staff_statement(principal, username, query.month)


@area.route(
    "/admin/distribution/statements-csv",
    "GET",
    summary="The month's statements as CSV text for payroll",
    roles={HQ_ADMIN, STORE_MANAGER},
    query=ds.MonthQuery,
    response=ds.StatementsCsv,
    errors=(403, 422),
    response_example=ds.CSV_EXAMPLE,
)
def distribution_statements_csv(query: ds.MonthQuery, principal: Principal) -> ds.StatementsCsv:
    """The rows of the statements route, as one CSV document (UTF-8, header row) the
    admin site saves as a file."""
    return ds.StatementsCsv(
        filename=f"distribution-{query.month}.csv",
        csv=distribution.statements_csv(principal, query),
    )


@area.route(
    "/admin/distribution/payouts",
    "POST",
    summary="Mark a staff member's month as paid (its payable now; audited)",
    roles={HQ_ADMIN},
    body=ds.PayoutBody,
    response=ds.StatementLine,
    status=201,
    replays=True,
    errors=(403, 404, 409, 422),
    request_example=ds.PAYOUT_EXAMPLE,
    response_example=ds.LINE_EXAMPLE,
)
def distribution_payout(body: ds.PayoutBody, principal: Principal) -> Any:
    """The same ``request_id`` again answers 200 with ``Idempotent-Replayed: true``; the
    month paid under another request_id: 409 ``already_paid``. A reversal after payout
    lands in a later month and its balance goes negative."""
    line, replayed = distribution.payout(principal, body)
    return respond(line, 200 if replayed else 201)


@area.route(
    "/admin/distribution/leaderboard",
    "GET",
    summary="Staff leaderboard for a month: new members, orders, GMV, commission, levels",
    roles={HQ_ADMIN, STORE_MANAGER},
    query=ds.MonthQuery,
    response=ds.Leaderboard,
    errors=(403, 422),
    response_example=ds.LEADERBOARD_EXAMPLE,
)
def distribution_leaderboard(query: ds.MonthQuery, principal: Principal) -> ds.Leaderboard:
    """Orders and GMV count the bound members' 1st and 2nd completed orders (the
    commissioned ones). Share efficiency: members who ordered ÷ new members. Cost per
    acquired customer: (net commission + face value of the distribution coupons issued)
    ÷ new members, next to the seed's benchmark ¥30–35."""
    return distribution.leaderboard(principal, query)


# --- segments (issue 15 items 3 and 8; docs/segments.md "Segments") ---------------------

segments = lazy_module("chalicelib.customers.segments")


@area.route(
    "/admin/segments/count",
    "POST",
    summary="Count a segment as it is built (from the nightly snapshot)",
    roles={HQ_ADMIN},
    body=s.CountBody,
    response=s.SegmentCount,
    errors=(403, 404, 422),
    request_example=s.COUNT_EXAMPLE,
    response_example=s.SEGMENT_COUNT_EXAMPLE,
)
def count_segment(body: s.CountBody, principal: Principal) -> s.SegmentCount:
    """Members matching the filter in the current snapshot (built nightly, ``as_of``),
    of them how many may get marketing (consent not revoked), and their spend. Lifecycle
    stages are today's. Milliseconds: bitmaps in memory, one GetItem of the snapshot
    pointer. 404 ``no_snapshot`` before the first snapshot."""
    return segments.count(body.filter)


@area.route(
    "/admin/customers/overview",
    "GET",
    summary="Customer overview: lifecycle stages, RFM groups, 20/80, new members per day",
    roles={HQ_ADMIN},
    response=s.Overview,
    errors=(403, 404),
    response_example=s.OVERVIEW_EXAMPLE,
)
def customers_overview(principal: Principal) -> s.Overview:
    """From the nightly snapshot: members by lifecycle stage (today's) and RFM group, the
    share of spend of the top 20 % of members with orders and its curve, new members per
    day by source over the last 90 days, and the RFM cut-offs."""
    return segments.overview()


@area.route(
    "/admin/segments",
    "POST",
    summary="Save a segment (name and filter; audited)",
    roles={HQ_ADMIN},
    body=s.SegmentBody,
    response=s.Segment,
    status=201,
    errors=(403, 422),
    request_example=s.SEGMENT_BODY_EXAMPLE,
    response_example=s.SEGMENT_EXAMPLE,
)
def create_segment(body: s.SegmentBody, principal: Principal) -> Any:
    return respond(segments.create_segment(principal, body), 201)


@area.route(
    "/admin/segments",
    "GET",
    summary="Saved segments, by name",
    roles={HQ_ADMIN},
    response=s.SegmentList,
    errors=(403,),
    response_example={"items": [s.SEGMENT_EXAMPLE]},
)
def list_segments(principal: Principal) -> s.SegmentList:
    return segments.list_segments()


@area.route(
    "/admin/segments/{segment_id}",
    "GET",
    summary="A saved segment",
    roles={HQ_ADMIN},
    response=s.Segment,
    errors=(403, 404),
    response_example=s.SEGMENT_EXAMPLE,
)
def get_segment(segment_id: str, principal: Principal) -> s.Segment:
    return segments.get_segment(segment_id)


@area.route(
    "/admin/segments/{segment_id}",
    "PUT",
    summary="Replace a saved segment's name and filter (audited)",
    roles={HQ_ADMIN},
    body=s.SegmentBody,
    response=s.Segment,
    errors=(403, 404, 422),
    request_example=s.SEGMENT_BODY_EXAMPLE,
    response_example=s.SEGMENT_EXAMPLE,
)
def put_segment(segment_id: str, body: s.SegmentBody, principal: Principal) -> s.Segment:
    return segments.put_segment(principal, segment_id, body)


@area.route(
    "/admin/segments/{segment_id}",
    "DELETE",
    summary="Delete a saved segment (audited)",
    roles={HQ_ADMIN},
    status=204,
    errors=(403, 404),
)
def delete_segment(segment_id: str, principal: Principal) -> None:
    segments.delete_segment(principal, segment_id)


@area.route(
    "/admin/segments/actions",
    "POST",
    summary="A bulk action on a segment: issue a coupon or add a tag (in the background)",
    roles={HQ_ADMIN},
    body=s.ActionBody,
    response=s.Action,
    status=202,
    replays=True,
    errors=(403, 404, 409, 422),
    request_example=s.ACTION_BODY_EXAMPLE,
    response_example=s.ACTION_EXAMPLE,
)
def create_segment_action(body: s.ActionBody, principal: Principal) -> Any:
    """The members are those of the current snapshot matching the saved segment or the
    filter, fixed now. ``issue_coupon`` leaves out members who revoked marketing consent
    (``excluded_no_consent``) and issues in chunks of 500 whose batch ids come from the
    action, so a retried chunk issues nothing new; ``add_tag`` tags every member
    matching (a tag is head office's note, not a contact). The same ``request_id`` again
    answers the same action with 200 ``Idempotent-Replayed: true``; with another body
    409 ``request_id_reused``. Audited."""
    action, replayed = segments.create_action(principal, body)
    return respond(action, 200 if replayed else 202)


@area.route(
    "/admin/segments/actions/{action_id}",
    "GET",
    summary="A bulk action's progress",
    roles={HQ_ADMIN},
    response=s.Action,
    errors=(403, 404),
    response_example=s.ACTION_EXAMPLE,
)
def get_segment_action(action_id: str, principal: Principal) -> s.Action:
    return segments.get_action(action_id)


@area.route(
    "/admin/segments/refresh",
    "POST",
    summary="Build the segments snapshot now (in the background)",
    roles={HQ_ADMIN},
    response=s.Refresh,
    status=202,
    errors=(403,),
    response_example=s.REFRESH_EXAMPLE,
)
def refresh_segments(principal: Principal) -> Any:
    """The nightly job (03:00 Asia/Shanghai), now: a new snapshot replaces the current
    one when it is written. Poll ``GET /admin/segments/refresh``."""
    return respond(segments.request_refresh(principal), 202)


@area.route(
    "/admin/segments/refresh",
    "GET",
    summary="The latest refresh's state",
    roles={HQ_ADMIN},
    response=s.Refresh,
    errors=(403, 404),
    response_example=s.REFRESH_EXAMPLE,
)
def refresh_state(principal: Principal) -> s.Refresh:
    return segments.refresh_state()
