"""Staff distribution (员工分销 / 销售员, issue 15 item 5): a staff member's personal QR
code, the member's binding to a staff member, commission on the bound member's first and
second completed orders (accrued, pending during the return window, reversed on refund,
two levels at most), monthly statements and payouts, the leaderboard.
docs/segments.md, "Staff distribution".

Costs: the binding lives on the member's aggregates item (``member_stats.ds``), which
the order's completion reads and writes anyway (customers/aggregates.py): an order of a
member without a binding costs nothing more. Only a bound member's 1st and 2nd orders
(and refunds of them) write here: one transaction per accrual or reversal (the entry,
under ``attribute_not_exists``, and the staff member's month counter).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import random
import time
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.audit import service as audit
from chalicelib.auth.principal import Principal
from chalicelib.customers import distribution_rules as r
from chalicelib.customers import distribution_schemas as s
from chalicelib.customers import rules
from chalicelib.customers.distribution_models import DistributionModel
from chalicelib.customers.models import MemberStatsModel
from chalicelib.db.transactions import TransactionCancelled, Tx, transact
from chalicelib.identity.models import StaffModel
from chalicelib.kernel import clock
from chalicelib.kernel.errors import Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.loyalty import programme_settings

log = logging.getLogger(__name__)

SETTINGS_AREA = "distribution"  # an item of loyalty_settings (programme_settings.put/read)
ATTEMPTS = 10
BENCHMARK_FEN = [3000, 3500]  # the seed's cost per acquired customer: ¥30–35


class BindingBusy(Exception):
    """The member's aggregates item kept changing under the binding (retry)."""


# --- settings ------------------------------------------------------------------------


def settings() -> s.DistributionSettings:
    return programme_settings.read(SETTINGS_AREA, s.DistributionSettings)


def put_settings(principal: Principal, body: s.DistributionSettings) -> s.DistributionSettings:
    return programme_settings.put(
        principal, SETTINGS_AREA, body, action="customers.distribution_settings"
    )


def terms_of(cfg: s.DistributionSettings) -> r.Terms:
    return r.Terms(
        binding=cfg.binding,
        binding_days=cfg.binding_days,
        protection_days=cfg.protection_days,
        mode=cfg.mode,
        first_order_fen=cfg.first_order_fen,
        second_order_fen=cfg.second_order_fen,
        rate_bp=cfg.rate_bp,
        level2_first_order_fen=cfg.level2_first_order_fen,
        level2_second_order_fen=cfg.level2_second_order_fen,
        level2_rate_bp=cfg.level2_rate_bp,
    )


def _pending_days() -> int:
    from chalicelib.loyalty import settings as loyalty_settings

    return int(loyalty_settings.points_settings().pending_days)


# --- the staff member's QR code --------------------------------------------------------


def staff_code(username: str) -> str:
    """The staff member's QR code: derived from the username with the signing key, so
    one per staff member without a lookup table, and not guessable from the username."""
    from chalicelib.auth import tokens

    mac = hmac.new(tokens.signing_key().encode(), f"staff-qr:{username}".encode(), hashlib.sha256)
    return "S" + base64.b32encode(mac.digest()).decode()[:11]


def my_qr(principal: Principal) -> s.DistributionQr:
    """The caller's staff QR code (made on the first call, through members' QR codes)."""
    from chalicelib.members import schemas as ms
    from chalicelib.members import sources
    from chalicelib.members.models import MemberQrCodeModel

    code = staff_code(principal.subject)
    try:
        qr = sources.qr_view(MemberQrCodeModel.get(code, consistent_read=True))
    except DoesNotExist:
        if not principal.store_id:
            raise Forbidden("Only store staff have a distribution QR code.") from None
        body = ms.QrCodeCreate(
            kind="staff",
            label=f"导购 {principal.subject}",
            store_id=principal.store_id,
            staff_username=principal.subject,
        )
        try:
            qr = sources.create_qr_code(body, principal, code=code)
        except TransactionCancelled:  # made by a concurrent first call
            qr = sources.qr_view(MemberQrCodeModel.get(code, consistent_read=True))
    return s.DistributionQr(
        code=qr.code,
        store_id=str(qr.store_id),
        staff_username=str(qr.staff_username),
        link=qr.link,
        registered=qr.registered,
    )


# --- binding ---------------------------------------------------------------------------


def _state(item: MemberStatsModel | None) -> dict[str, Any]:
    ds = None if item is None else item.distribution
    return {"k": {}, **(ds or {})}


def bind(
    customer_id: str,
    staff: str,
    store_id: str,
    at: str,
    principal: Principal | None = None,
) -> tuple[bool, str, dict[str, Any] | None]:
    """Bind the member to ``staff`` from ``at`` if the rules allow (distribution_rules
    may_bind): (bound, why, the binding now). Written under the aggregates item's
    ``version`` (as every aggregates change is), so two staff QR codes claiming the same
    member at once give one binding: the second reads the first's and is refused (or,
    for an expired/unprotected one, takes it over audited). The new member is counted on
    the staff member's month in the same transaction; the welcome coupon after it."""
    cfg = settings()
    terms = terms_of(cfg)
    m = MemberStatsModel
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(random.uniform(0, 0.01 * attempt))
        item = _load(customer_id)
        ds = _state(item)
        before = ds.get("b")
        ok, why = r.may_bind(before, staff, at)
        if not ok:
            if why == "same" and principal is None:
                _issue(cfg.welcome_template_id, customer_id, "dist")  # a redelivery: idempotent
            return False, why, before
        ds["b"] = r.new_binding(staff, store_id, at, terms)
        version = 0 if item is None else int(item.version or 0)
        condition = m.version.does_not_exist() if item is None else m.version == version
        entry = None
        if before and principal is not None:
            entry = audit.new_entry(
                principal,
                "distribution.rebind",
                audit.Target("member", customer_id, store_id),
                {"staff": before.get("staff")},
                {"staff": staff, "reason": why},
                always=True,
            )

        new_member = not before or before.get("staff") != staff

        def write(
            tx: Tx,
            new_member: bool = new_member,
            ds: dict[str, Any] = ds,
            version: int = version,
            entry: Any = entry,
            condition: Any = condition,
        ) -> None:
            tx.update(
                MemberStatsModel(customer_id),
                actions=[m.distribution.set(ds), m.version.set(version + 1)],
                condition=condition,
                label="stats",
            )
            if new_member:  # (the same staff member again: not a new member)
                _count(tx, r.local_month(at), staff, store_id, {"new_members": 1}, label="month")
            audit.with_entry(tx, entry)

        try:
            transact(write)
        except TransactionCancelled as exc:
            if "stats" in exc.failed:
                continue
            raise
        _issue(cfg.welcome_template_id, customer_id, "dist")
        return True, why, ds["b"]
    raise BindingBusy(f"member {customer_id}: binding raced {ATTEMPTS} times")


def _load(customer_id: str) -> MemberStatsModel | None:
    try:
        return MemberStatsModel.get(customer_id, consistent_read=True)
    except DoesNotExist:
        return None


def _count(
    tx: Tx, month: str, staff: str, store_id: str | None, add: dict[str, int], *, label: str
) -> None:
    """ADD to a staff member's month (created by the first ADD)."""
    d = DistributionModel
    actions: list[Any] = [getattr(d, k).add(v) for k, v in add.items()]
    actions += [d.staff.set(staff), d.month.set(month), d.updated_at.set(clock.now_iso())]
    if store_id:
        actions.append(d.store_id.set(store_id))
    tx.update(DistributionModel(f"m#{month}", staff), actions=actions, label=label)


def _issue(template_id: str | None, customer_id: str, key: str) -> None:
    """A distribution coupon, idempotent ("<template>:<key>:<customer>")."""
    if not template_id:
        return
    from chalicelib.coupons import service as coupons
    from chalicelib.coupons.repo import get_template

    try:
        template = get_template(template_id)
        coupons.issue(template, customer_id, f"{template_id}:{key}:{customer_id}", "distribution")
    except (coupons.IssueRefused, NotFound) as exc:  # refused (sold out...): the binding stays
        log.info("no distribution coupon %s for %s: %s", template_id, customer_id, exc)


def staff_of_code(code: str) -> tuple[str, str] | None:
    from chalicelib.members.models import MemberQrCodeModel

    try:
        qr = MemberQrCodeModel.get(code)
    except DoesNotExist:
        return None
    if qr.kind != "staff" or not qr.active or not qr.staff_username or not qr.store_id:
        return None
    return qr.staff_username, qr.store_id


def on_registered(customer_id: str, source: str | None, at: str) -> None:
    """A member registered through a staff QR code is bound to that staff member from
    the registration's time (a redelivery finds the binding: "same", nothing written)."""
    if not source:
        return
    found = staff_of_code(source)
    if found is not None:
        bind(customer_id, found[0], found[1], at)


def bind_by_code(principal: Principal, code: str) -> s.StaffBindingResult:
    found = staff_of_code(code)
    if found is None:
        raise ValidationFailed(
            "This is not a staff member's QR code, or it is no longer in use.",
            code="unknown_source",
            details=[field_error("code", "not a staff QR code")],
        )
    bound, why, _ = bind(principal.subject, found[0], found[1], clock.now_iso(), principal)
    return s.StaffBindingResult(bound=bound, reason=why, inviter=inviter(principal.subject))


def inviter(customer_id: str) -> s.Inviter | None:
    """The staff member the member is bound to now (display name and store only)."""
    item = _load(customer_id)
    b = _state(item).get("b")
    if not b or not r.is_valid(b, clock.now_iso()):
        return None
    try:
        staff = StaffModel.get(b["staff"])
        name = staff.display_name
    except DoesNotExist:
        name = "—"
    return s.Inviter(display_name=name, store_id=b.get("store"), bound_at=b["at"])


# --- two levels ------------------------------------------------------------------------


def _profile(username: str) -> DistributionModel | None:
    try:
        return DistributionModel.get(f"p#{username}", "-")
    except DoesNotExist:
        return None


def set_upline(principal: Principal, username: str, body: s.StaffProfileBody) -> s.StaffProfile:
    """Head office sets a staff member's upline (level 2). Refused (422): an upline that
    has an upline itself (a chain of three), a staff member who is someone's upline
    getting one, or oneself (a cycle)."""
    try:
        staff = StaffModel.get(username)
    except DoesNotExist:
        raise NotFound(f"No account {username!r}.", code="staff_not_found") from None
    upline = body.upline
    if upline is not None:
        if upline == username:
            raise _chain("upline", "a staff member cannot be their own upline")
        try:
            StaffModel.get(upline)
        except DoesNotExist:
            raise NotFound(f"No account {upline!r}.", code="staff_not_found") from None
        up = _profile(upline)
        if up is not None and up.upline:
            raise _chain("upline", "the upline has an upline: at most two levels")
        if _downlines(username):
            raise _chain("upline", "this staff member is an upline: at most two levels")
    current = _profile(username)
    before = {"upline": None if current is None else current.upline}
    entry = audit.new_entry(
        principal,
        "distribution.upline",
        audit.Target("staff", username, staff.store_id),
        before,
        {"upline": upline},
    )
    d = DistributionModel

    def write(tx: Tx) -> None:
        actions: list[Any] = [d.store_id.set(staff.store_id), d.updated_at.set(clock.now_iso())]
        actions.append(d.upline.remove() if upline is None else d.upline.set(upline))
        tx.update(
            DistributionModel(f"p#{username}", "-"),
            actions=actions,
            # nobody chose this staff member as upline meanwhile (a chain of three)
            condition=None if upline is None else d.downlines.does_not_exist(),
            label="self",
        )
        if upline is not None:  # the upline must not have got one meanwhile
            tx.update(
                DistributionModel(f"p#{upline}", "-"),
                actions=[d.downlines.add({username})],
                condition=d.upline.does_not_exist(),
                label="upline",
            )
        if before["upline"] and before["upline"] != upline:
            tx.update(
                DistributionModel(f"p#{before['upline']}", "-"),
                actions=[d.downlines.delete({username})],
                label="old",
            )
        audit.with_entry(tx, entry)

    try:
        transact(write)
    except TransactionCancelled as exc:
        if "upline" in exc.failed or "self" in exc.failed:
            raise _chain("upline", "at most two levels (changed meanwhile)") from None
        raise
    return s.StaffProfile(username=username, store_id=staff.store_id, upline=upline)


def _downlines(username: str) -> set[str]:
    p = _profile(username)
    return set() if p is None or not p.downlines else set(p.downlines)


def _chain(field: str, why: str) -> ValidationFailed:
    return ValidationFailed(
        "Distribution has two levels at most (WeChat's rules): " + why + ".",
        code="distribution_levels",
        details=[field_error(field, why)],
    )


# --- commission: hooks of customers/aggregates.py ---------------------------------------


def on_counted(
    item: MemberStatsModel | None,
    stats: rules.Stats,
    order_id: str,
    completed_at: str,
    paid_fen: int,
    refunded_fen: int,
) -> dict[str, Any] | None:
    """Called by the completion's aggregates change once the order is counted: the
    distribution state with this order's accrual when the member is bound (at the
    completion) and this is their 1st or 2nd completed order; None otherwise — for a
    member without a binding this reads nothing."""
    if item is None or not item.distribution:
        return None
    ds = _state(item)
    b = ds.get("b")
    nth = stats.orders
    if nth not in r.COMMISSIONED_ORDERS or not r.is_valid(b, completed_at) or order_id in ds["k"]:
        return None
    assert b is not None
    terms = terms_of(settings())
    kept = paid_fen - refunded_fen
    l1, l2 = r.amounts(terms, nth, kept)
    levels = [(str(b["staff"]), str(b.get("store") or ""), l1)]
    profile = _profile(str(b["staff"]))
    if profile is not None and profile.upline and l2:
        levels.append((profile.upline, str(profile.store_id or b.get("store") or ""), l2))
    ds["k"][order_id] = r.accrual(
        order_id,
        nth,
        completed_at,
        kept,
        refunded_fen,
        levels,
        r.available_at(completed_at, _pending_days()),
    )
    return ds


def charge_campaign(ds: dict[str, Any] | None, order_id: str, campaign_ids: list[str]) -> None:
    """The commission an order of a campaign earned is a cost of that campaign (issue 16
    item 2): accrued once per order (a redelivery accrues nothing more) to the first of
    the campaigns whose budget the order spent, so it is never counted twice. A later
    reversal on refund is not given back to the campaign: its cost stays as accrued."""
    if not ds or not campaign_ids:
        return
    record = ds.get("k", {}).get(order_id)
    if record is None:
        return
    from chalicelib.campaign_budgets.repo import accrue

    amount = sum(int(level[2]) for level in record["levels"])
    accrue(sorted(campaign_ids)[0], "commission", amount, f"commission:{order_id}")


def on_refunded(
    item: MemberStatsModel | None, order_id: str, refunded_now: int, at: str
) -> dict[str, Any] | None:
    """Called by a refund's aggregates change: the state with the accrual's reversal
    brought up to the order's refunds now, or None (no accrual on this order)."""
    if item is None or not item.distribution:
        return None
    ds = _state(item)
    record = ds["k"].get(order_id)
    if record is None or not r.reverse(record, refunded_now, at):
        return None
    return ds


def settle(customer_id: str, ds: dict[str, Any] | None, order_id: str) -> None:
    """Write the entries the member's state records for the order (after its aggregates
    write, and again on every redelivery: each entry is put once, with its month's
    counter in the same transaction). At the first order, the second coupon."""
    if not ds:
        return
    record = ds.get("k", {}).get(order_id)
    if record is None:
        return
    nth = int(record["n"])
    for i, (staff, store, amount, _) in enumerate(record["levels"]):
        level = i + 1
        add = {"accrued_fen": int(amount)}
        if level == 1:
            add |= {"orders": 1, "gmv_fen": int(record["kept"])}
            if nth == 1:
                add["ordered_members"] = 1
        _put_entry(
            staff,
            store,
            f"e#{record['month']}#{order_id}#a{level}",
            record["month"],
            add,
            kind="accrued",
            level=level,
            order_id=order_id,
            customer_id=customer_id,
            amount_fen=int(amount),
            nth=nth,
            at=record["at"],
            available_at=record["avail"],
        )
    for refunded, at, month, deltas in record["rev"]:
        for i, delta in enumerate(deltas):
            if not delta:
                continue
            staff, store = record["levels"][i][0], record["levels"][i][1]
            _put_entry(
                staff,
                store,
                f"e#{month}#{order_id}#r{i + 1}#{refunded}",
                month,
                {"reversed_fen": int(delta)},
                kind="reversed",
                level=i + 1,
                order_id=order_id,
                customer_id=customer_id,
                amount_fen=-int(delta),
                nth=nth,
                at=at,
                available_at=None,
            )
    if nth == 1:
        _issue(settings().second_template_id, customer_id, "dist2")


def _put_entry(
    staff: str, store: str, sk: str, month: str, add: dict[str, int], **fields: Any
) -> None:
    entry = DistributionModel(f"s#{staff}", sk, store_id=store or None, **fields)

    def write(tx: Tx) -> None:
        tx.save(entry, condition=DistributionModel.pk.does_not_exist(), label="entry")
        _count(tx, month, staff, store or None, add, label="month")

    try:
        transact(write)
    except TransactionCancelled as exc:
        if "entry" not in exc.failed:
            raise  # written before (a redelivery): nothing to do


# --- statements, payouts, leaderboard --------------------------------------------------


def _check_scope(principal: Principal, store_id: str | None) -> str | None:
    if principal.is_hq:
        return store_id
    if store_id is not None and store_id != principal.store_id:
        raise Forbidden("Your account belongs to another store.", code="other_store")
    return principal.store_id


def _months(month: str, store_id: str | None) -> list[DistributionModel]:
    rows = list(DistributionModel.query(f"m#{month}"))
    return [x for x in rows if store_id is None or x.store_id == store_id]


def _n(v: Any) -> int:
    return int(v or 0)


def _line(username: str, month: str, row: DistributionModel | None) -> s.StatementLine:
    """A staff member's month: its entries (pending ones: still in the return window)
    and the balance carried from earlier months (their net less what was paid)."""
    carried = 0
    for x in DistributionModel.by_staff.query(username, DistributionModel.month < month):
        carried += _n(x.accrued_fen) - _n(x.reversed_fen) - _n(x.paid_fen)
    now = clock.now_iso()
    pending = sum(
        _n(e.amount_fen)
        for e in _entries(username, month)
        if e.kind == "accrued" and e.available_at and e.available_at > now
    )
    accrued = _n(row.accrued_fen) if row else 0
    reversed_ = _n(row.reversed_fen) if row else 0
    net = accrued - reversed_
    return s.StatementLine(
        username=username,
        store_id=row.store_id if row else None,
        accrued_fen=accrued,
        reversed_fen=reversed_,
        net_fen=net,
        pending_fen=pending,
        carried_fen=carried,
        payable_fen=carried + net - pending,
        paid_fen=None if row is None or row.paid_fen is None else int(row.paid_fen),
        paid_at=None if row is None else row.paid_at,
    )


def _entries(username: str, month: str) -> list[DistributionModel]:
    return list(
        DistributionModel.query(f"s#{username}", DistributionModel.sk.startswith(f"e#{month}#"))
    )


def statements(principal: Principal, query: s.MonthQuery) -> s.Statements:
    store_id = _check_scope(principal, query.store_id)
    rows = sorted(_months(query.month, store_id), key=lambda x: x.sk)
    return s.Statements(month=query.month, items=[_line(x.sk, query.month, x) for x in rows])


def _month_row(month: str, username: str) -> DistributionModel | None:
    try:
        return DistributionModel.get(f"m#{month}", username, consistent_read=True)
    except DoesNotExist:
        return None


def _staff_store(username: str) -> str | None:
    try:
        return StaffModel.get(username).store_id
    except DoesNotExist:
        raise NotFound(f"No account {username!r}.", code="staff_not_found") from None


def staff_statement(principal: Principal, username: str, month: str) -> s.StaffStatement:
    row = _month_row(month, username)
    store = row.store_id if row is not None else _staff_store(username)
    if not principal.is_hq and store != principal.store_id:
        raise Forbidden("Your account belongs to another store.", code="other_store")
    now = clock.now_iso()
    entries = [
        s.Entry(
            kind=str(e.kind),
            level=_n(e.level),
            order_id=str(e.order_id),
            nth=_n(e.nth),
            amount_fen=_n(e.amount_fen),
            at=str(e.at),
            available_at=e.available_at,
            pending=e.kind == "accrued" and bool(e.available_at) and str(e.available_at) > now,
        )
        for e in sorted(_entries(username, month), key=lambda e: (str(e.at), e.sk))
    ]
    return s.StaffStatement(month=month, line=_line(username, month, row), entries=entries)


def statements_csv(principal: Principal, query: s.MonthQuery) -> str:
    """The month's statements as CSV for payroll (UTF-8 with a BOM for Excel)."""
    import csv
    import io

    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(
        [
            "month",
            "username",
            "store_id",
            "accrued_fen",
            "reversed_fen",
            "net_fen",
            "pending_fen",
            "carried_fen",
            "payable_fen",
            "paid_fen",
            "paid_at",
        ]
    )
    for x in statements(principal, query).items:
        w.writerow(
            [
                query.month,
                x.username,
                x.store_id or "",
                x.accrued_fen,
                x.reversed_fen,
                x.net_fen,
                x.pending_fen,
                x.carried_fen,
                x.payable_fen,
                "" if x.paid_fen is None else x.paid_fen,
                x.paid_at or "",
            ]
        )
    return "\ufeff" + out.getvalue()


def payout(principal: Principal, body: s.PayoutBody) -> tuple[s.StatementLine, bool]:
    """Mark the month's payable as paid (head office, audited): ``paid_fen`` = payable
    now, so the balance carried into later months is 0 plus what changes after (a
    reversal after payout then makes it negative). The same request_id again: the same
    answer, replayed; the month paid under another request_id: 409 ``already_paid``."""
    from chalicelib.kernel.errors import Conflict

    row = _month_row(body.month, body.username)
    if row is not None and row.paid_request:
        if row.paid_request == body.request_id:
            return _line(body.username, body.month, row), True
        raise Conflict("This month is paid already.", code="already_paid")
    store = row.store_id if row is not None else _staff_store(body.username)
    line = _line(body.username, body.month, row)
    amount = line.payable_fen
    d = DistributionModel
    now = clock.now_iso()
    entry = audit.new_entry(
        principal,
        "distribution.payout",
        audit.Target("staff", body.username, store),
        {},
        {"month": body.month, "paid_fen": amount, "request_id": body.request_id},
        always=True,
    )

    def write(tx: Tx) -> None:
        tx.update(
            DistributionModel(f"m#{body.month}", body.username),
            actions=[
                d.paid_fen.set(amount),
                d.paid_at.set(now),
                d.paid_by.set(principal.subject),
                d.paid_request.set(body.request_id),
                d.staff.set(body.username),
                d.month.set(body.month),
                *([d.store_id.set(store)] if store else []),
            ],
            condition=d.paid_request.does_not_exist(),
            label="month",
        )
        audit.with_entry(tx, entry)

    try:
        transact(write)
    except TransactionCancelled as exc:
        if "month" in exc.failed:
            return payout(principal, body)  # paid meanwhile: answered as above
        raise
    return _line(body.username, body.month, _month_row(body.month, body.username)), False


def _face(template_id: str | None) -> int:
    if not template_id:
        return 0
    from chalicelib.coupons.repo import get_template

    try:
        t = get_template(template_id)
    except Exception:
        return 0
    return int(t.amount_off_fen or 0)


def leaderboard(principal: Principal, query: s.MonthQuery) -> s.Leaderboard:
    """From the month counters (one Query of the month's partition). Orders and GMV are
    the bound members' 1st and 2nd completed orders (the commissioned ones: no write for
    other orders). Cost per acquired customer = (net commission + face value of the
    distribution coupons issued: welcome per new member, second per member who ordered,
    at the templates' current face value) ÷ new members."""
    store_id = _check_scope(principal, query.store_id)
    cfg = settings()
    levels = [
        r.GuideLevel(x.name, x.min_gmv_fen, x.min_new_members, x.min_share_efficiency_bp)
        for x in cfg.guide_levels
    ]
    items = []
    for x in _months(query.month, store_id):
        new, ordered = _n(x.new_members), _n(x.ordered_members)
        eff = r.share_efficiency_bp(new, ordered)
        items.append(
            s.LeaderRow(
                username=x.sk,
                store_id=x.store_id,
                new_members=new,
                ordered_members=ordered,
                orders=_n(x.orders),
                gmv_fen=_n(x.gmv_fen),
                commission_fen=_n(x.accrued_fen) - _n(x.reversed_fen),
                share_efficiency_bp=eff,
                guide_level=r.guide_level(levels, _n(x.gmv_fen), new, eff),
            )
        )
    items.sort(key=lambda i: (-i.gmv_fen, -i.new_members, i.username))
    new_total = sum(i.new_members for i in items)
    commission = sum(i.commission_fen for i in items)
    coupons = new_total * _face(cfg.welcome_template_id) + sum(
        i.ordered_members for i in items
    ) * _face(cfg.second_template_id)
    return s.Leaderboard(
        month=query.month,
        store_id=store_id,
        items=items,
        new_members=new_total,
        commission_fen=commission,
        coupon_face_fen=coupons,
        cost_per_member_fen=(commission + coupons) // new_total if new_total else None,
        benchmark_fen=BENCHMARK_FEN,
    )
