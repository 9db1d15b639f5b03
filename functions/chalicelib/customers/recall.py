"""The recall list (召回, issue 15 item 4): a store's members who ordered at least N times
but not in the last 3 months, ranked by past spend; outcomes recorded by the store's
manager; the recall rate. docs/segments.md, "Recall list".

Reads: the store's partition of ``member_stats.by_store_month`` for the months before the
cut-off (KEYS_ONLY), one BatchGetItem of those members' aggregates and one of their member
items (ranking by spend needs every candidate's spend; never a scan), then the page's
recall rounds. Writes: one transaction per outcome (the outcome, its round, the audit
entry) and, at a round's first outcome, the round noted on the member's aggregates so the
order that brings the member back is noticed when it is counted (no extra write per order).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.audit import service as audit
from chalicelib.auth.principal import STORE_MANAGER, Principal
from chalicelib.customers import aggregates, rules
from chalicelib.customers import schemas as s
from chalicelib.customers.models import MemberStatsModel, RecallModel
from chalicelib.db.transactions import TransactionCancelled, Tx, batch_get, transact
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock, cursors
from chalicelib.kernel.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
    field_error,
)
from chalicelib.kernel.privacy import mask_phone
from chalicelib.loyalty import programme_settings

SETTINGS_AREA = "recall"  # an item of loyalty_settings (programme_settings.put/read)
REPORT_MAX_DAYS = 366


def settings() -> s.RecallSettings:
    return programme_settings.read(SETTINGS_AREA, s.RecallSettings)


def put_settings(principal: Principal, body: s.RecallSettings) -> s.RecallSettings:
    """Replace the recall rules, audited, version-conditioned (409 on a concurrent edit)."""
    return programme_settings.put(
        principal, SETTINGS_AREA, body, action="customers.recall_settings"
    )


def _today() -> date:
    return clock.now().astimezone(rules.TZ).date()


def _check_store(principal: Principal, store_id: str) -> None:
    if not principal.can_act_for_store(store_id):
        raise Forbidden("Your account belongs to another store.", code="other_store")


def round_key(customer_id: str, month: str) -> str:
    return f"r#{customer_id}#{month}"


# --- the list ---------------------------------------------------------------------------


def _candidates(store_id: str, before: str, min_orders: int) -> list[MemberStatsModel]:
    """The store's members with ``min_orders`` or more, last order before ``before``."""
    m = MemberStatsModel
    ids = [
        k.customer_id
        for k in m.by_store_month.query(store_id, m.last_month < before, page_size=1000)
    ]
    got = batch_get({m: [{"customer_id": c} for c in ids]}, consistent=False)
    # the index is eventually consistent: the item itself decides
    return [
        x
        for x in got.of(m)
        if x.favourite_store == store_id
        and (x.last_month or "") < before
        and int(x.orders or 0) >= min_orders
    ]


def listing(principal: Principal, store_id: str, query: s.RecallQuery) -> s.RecallPage:
    """The whole ranked list is read (spend is not in the index's key), the page cut
    from it after the cursor's (spend, member)."""
    _check_store(principal, store_id)
    today = _today()
    before = rules.recall_cutoff(today)
    n = settings().min_orders
    after: tuple[int, str] | None = None
    start = cursors.decode(
        query.cursor, ("store_id", "before", "after"), {"store_id": store_id, "before": before}
    )
    if start is not None:
        try:
            spend, _, cid = start["after"]["S"].partition("#")
            after = (-int(spend), cid)
        except ValueError:
            raise cursors.foreign() from None
        if not cid:
            raise cursors.foreign()
    stats = {x.customer_id: x for x in _candidates(store_id, before, n)}
    got = batch_get({CustomerModel: [{"customer_id": c} for c in stats]}, consistent=False)
    erased = no_consent = 0
    members: dict[str, CustomerModel] = {}
    for m in got.of(CustomerModel):
        if m.erased_at:
            erased += 1
        elif m.marketing_consent == "revoked":
            no_consent += 1  # a recall call is marketing (issue 15 item 3)
        else:
            members[m.customer_id] = m
    erased += len(stats) - len(got.of(CustomerModel))  # no member item left at all
    ranked = sorted(members, key=lambda c: (-int(stats[c].spend_fen or 0), c))
    if after is not None:
        ranked = [c for c in ranked if (-int(stats[c].spend_fen or 0), c) > after]
    page = ranked[: query.limit]
    rounds = _rounds(store_id, [(c, stats[c].last_month or "") for c in page])
    full = principal.role == STORE_MANAGER  # the store's own manager (checked above)
    items = [_row(stats[c], members[c], rounds.get(c), today, full_phone=full) for c in page]
    next_cursor = None
    if len(ranked) > query.limit:
        last = page[-1]
        next_cursor = cursors.encode(
            {
                "store_id": {"S": store_id},
                "before": {"S": before},
                "after": {"S": f"{int(stats[last].spend_fen or 0)}#{last}"},
            }
        )
    return s.RecallPage(
        store_id=store_id,
        day=today.isoformat(),
        before_month=before,
        min_orders=n,
        total=len(members),
        excluded_erased=erased,
        excluded_no_consent=no_consent,
        items=items,
        next_cursor=next_cursor,
    )


def _rounds(store_id: str, members: list[tuple[str, str]]) -> dict[str, RecallModel]:
    if not members:
        return {}
    keys = [{"store_id": store_id, "key": round_key(c, month)} for c, month in members]
    got = batch_get({RecallModel: keys}, consistent=False)
    return {r.customer_id: r for r in got.of(RecallModel)}


def _latest(r: RecallModel | None) -> s.LatestOutcome | None:
    if r is None:
        return None
    return s.LatestOutcome(
        outcome=r.outcome,  # type: ignore[arg-type]  # written from the Literal
        at=r.at,
        by=r.by,
        note=r.note,
        first_at=r.first_at or r.at,
        outcomes=int(r.outcomes or 1),
    )


def _row(
    st: MemberStatsModel,
    m: CustomerModel,
    r: RecallModel | None,
    today: date,
    *,
    full_phone: bool,
) -> s.RecallRow:
    phone = m.phone or ""
    return s.RecallRow(
        customer_id=m.customer_id,
        phone=phone if full_phone else mask_phone(phone),
        nickname=m.nickname,
        orders=int(st.orders or 0),
        spend_fen=int(st.spend_fen or 0),
        last_order_date=st.last_date,
        months_since_last_order=rules.months_between(st.last_date, today),
        latest_outcome=_latest(r),
    )


# --- outcomes ---------------------------------------------------------------------------


def _current_round(store_id: str, customer_id: str, stats: MemberStatsModel) -> str:
    """The round an outcome belongs to, by the month it began from: the member's latest
    round at this store, unless the member ordered since and lapsed again (their last
    order month is newer and before today's cut-off), which begins a new one."""
    lm = stats.last_month or ""
    latest = next(
        iter(
            RecallModel.query(
                store_id,
                RecallModel.key.startswith(f"r#{customer_id}#"),
                scan_index_forward=False,
                limit=1,
                consistent_read=True,
            )
        ),
        None,
    )
    if latest is None or latest.round_month is None:
        return lm
    if lm > latest.round_month and lm < rules.recall_cutoff(_today()):
        return lm
    return latest.round_month


def record_outcome(
    principal: Principal, store_id: str, customer_id: str, body: s.OutcomeBody
) -> tuple[s.LatestOutcome, bool]:
    """Record an outcome (the store's manager). True with it: a retry of a recorded
    request_id (nothing written again)."""
    _check_store(principal, store_id)
    stats = aggregates.load(customer_id)
    if stats is None or stats.favourite_store != store_id or not stats.last_month:
        raise NotFound("That member is not on this store's recall list.", code="not_on_list")
    try:
        member = CustomerModel.get(customer_id)
    except DoesNotExist:
        member = None
    if member is None or member.erased_at:
        raise NotFound("No such member.", code="member_not_found")
    if member.marketing_consent == "revoked":
        raise Conflict(
            "The member revoked marketing consent: no recall.", code="marketing_consent_revoked"
        )
    month = _current_round(store_id, customer_id, stats)
    at = clock.now_iso()
    m = RecallModel
    outcome = m(
        store_id,
        f"o#{body.request_id}",
        customer_id=customer_id,
        round_month=month,
        outcome=body.outcome,
        note=body.note,
        at=at,
        by=principal.subject,
    )
    entry = audit.new_entry(
        principal,
        "customers.recall_outcome",
        audit.Target("member", customer_id, store_id),
        {},
        {"outcome": body.outcome, "note": body.note, "round": month},
        key=f"{store_id}|{body.request_id}",
        always=True,
    )
    day = rules.local_date(at)
    actions: list[Any] = [
        m.customer_id.set(customer_id),
        m.round_month.set(month),
        m.outcome.set(body.outcome),
        m.note.set(body.note) if body.note else m.note.remove(),
        m.at.set(at),
        m.by.set(principal.subject),
        m.first_at.set(m.first_at | at),
        m.first_day.set(m.first_day | day),
        m.outcomes.add(1),
    ]

    def build(tx: Tx) -> None:
        tx.save(outcome, condition=m.key.does_not_exist(), label="outcome")
        tx.update(m(store_id, round_key(customer_id, month)), actions=actions, label="round")
        audit.with_entry(tx, entry)

    replayed = False
    try:
        transact(build)
    except TransactionCancelled as exc:
        if "outcome" not in exc.failed and "audit" not in exc.failed:
            raise
        replayed = True
        first = m.get(store_id, f"o#{body.request_id}", consistent_read=True)
        if (first.customer_id, first.outcome, first.note) != (
            customer_id,
            body.outcome,
            body.note,
        ):
            raise Conflict(
                "This request_id was used for another outcome; use a new one.",
                code="request_id_reused",
                details=[field_error("request_id", "used with another body")],
            ) from None
        month = first.round_month or month
    r = m.get(store_id, round_key(customer_id, month), consistent_read=True)
    # The round noted on the member's aggregates (also on a retry: the first request may
    # have stopped before): the order that brings the member back is seen when counted.
    first_at = r.first_at or r.at
    aggregates.change(
        customer_id, lambda st: rules.mark_recalled(st, f"{store_id}#{month}", first_at)
    )
    latest = _latest(r)
    assert latest is not None
    return latest, replayed


# --- the report -------------------------------------------------------------------------


def _period(query: s.RecallReportQuery) -> tuple[str, str]:
    today = _today()
    to = date.fromisoformat(query.to) if query.to else today
    since = date.fromisoformat(query.from_) if query.from_ else to - timedelta(days=29)
    if since > to:
        raise ValidationFailed(
            "The period ends before it starts.", details=[field_error("from", "after to")]
        )
    if (to - since).days >= REPORT_MAX_DAYS:
        raise ValidationFailed(
            f"Ask for at most {REPORT_MAX_DAYS} days.",
            details=[field_error("from", f"more than {REPORT_MAX_DAYS} days before to")],
        )
    return since.isoformat(), to.isoformat()


def report(principal: Principal, store_id: str, query: s.RecallReportQuery) -> s.RecallReport:
    """Members whose round's first outcome fell in the period (the store's rounds by
    first day: one Query), and how many of them completed an order within 30 days after
    it (the round as noted on their aggregates: one BatchGetItem). O(members recalled)."""
    _check_store(principal, store_id)
    since, to = _period(query)
    rounds = list(
        RecallModel.by_first_day.query(store_id, RecallModel.first_day.between(since, to))
    )
    ids = sorted({r.customer_id for r in rounds})
    got = batch_get({MemberStatsModel: [{"customer_id": c} for c in ids]}, consistent=False)
    noted = {x.customer_id: aggregates.decode(x).recalls for x in got.of(MemberStatsModel)}
    now = clock.now_iso()
    back = pending = 0
    for r in rounds:
        first = r.first_at or r.at
        record = noted.get(r.customer_id, {}).get(f"{store_id}#{r.round_month}")
        if record and record[1]:
            back += 1
        elif rules.came_back_within(first, now):  # its 30 days are not over
            pending += 1
    return s.RecallReport(
        store_id=store_id,
        date_from=since,
        date_to=to,
        recalled=len(rounds),
        came_back=back,
        pending=pending,
        recall_rate=round(back / len(rounds), 4) if rounds else 0.0,
    )
