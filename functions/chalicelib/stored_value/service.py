"""Stored value (储值): balance, ledger, settings, adjustments and the liability report.

Every change of a balance is ``ledger.pieces`` in one transaction with what caused it.
Top-ups and withdrawals (money through the payment provider) are in top_ups.py; paying
orders with balance is in payment.py (checkout and orders call it).
"""

from __future__ import annotations

from typing import Any, cast

from pynamodb.exceptions import DoesNotExist

from chalicelib.audit import service as audit
from chalicelib.auth.principal import Principal
from chalicelib.db.transactions import TransactionCancelled, Tx, transact
from chalicelib.kernel import clock, cursors
from chalicelib.kernel.errors import Conflict, NotFound, ValidationFailed, field_error
from chalicelib.stored_value import ledger, rules
from chalicelib.stored_value import schemas as s
from chalicelib.stored_value.models import (
    NO_STORE,
    StoredValueAccountModel,
    StoredValueEntryModel,
    StoredValueSettingsModel,
    StoredValueTotalsModel,
    TierAttribute,
)

AREA = "stored_value"
DEFAULT_TIERS = (rules.Tier(50_000, 5_000), rules.Tier(100_000, 12_000))  # ¥500→¥50, ¥1000→¥120
DEFAULT_CAP_FEN = 500_000  # ¥5,000: the cap on a registered prepaid card


# --- settings -------------------------------------------------------------------------


def settings_item() -> StoredValueSettingsModel:
    """The settings (one GetItem), defaults from code when head office set none."""
    try:
        return StoredValueSettingsModel.get(AREA)
    except DoesNotExist:
        return StoredValueSettingsModel(
            AREA,
            tiers=[TierAttribute(min_fen=t.min_fen, bonus_fen=t.bonus_fen) for t in DEFAULT_TIERS],
            cap_fen=DEFAULT_CAP_FEN,
            version=0,
        )


def tiers_of(item: StoredValueSettingsModel) -> list[rules.Tier]:
    return [rules.Tier(int(t.min_fen), int(t.bonus_fen)) for t in item.tiers]


def settings_view(item: StoredValueSettingsModel) -> s.Settings:
    return s.Settings(
        tiers=[s.Tier(min_fen=t.min_fen, bonus_fen=t.bonus_fen) for t in tiers_of(item)],
        cap_fen=int(item.cap_fen),
        trial_threshold_fen=None
        if item.trial_threshold_fen is None
        else int(item.trial_threshold_fen),
        updated_at=item.updated_at,
        updated_by=item.updated_by,
        version=int(item.version or 0),
    )


def _settings_dict(item: StoredValueSettingsModel) -> dict[str, Any]:
    return {
        "tiers": [[t.min_fen, t.bonus_fen] for t in tiers_of(item)],
        "cap_fen": int(item.cap_fen),
        "trial_threshold_fen": item.trial_threshold_fen,
    }


def update_settings(principal: Principal, body: s.SettingsUpdate) -> s.Settings:
    """Head office sets the tiers and the cap; 409 ``settings_changed`` when ``version``
    is not the one read (someone saved meanwhile). Audited in the same transaction."""
    tiers = sorted(
        (rules.Tier(t.min_fen, t.bonus_fen) for t in body.tiers), key=lambda t: t.min_fen
    )
    problems = rules.check_tiers(tiers)
    if problems:
        raise ValidationFailed(
            "The bonus tiers are not valid.",
            code="invalid_tiers",
            details=[field_error("tiers", p) for p in problems],
        )
    before = settings_item()
    if int(before.version or 0) != body.version:
        raise Conflict(
            "The settings were changed meanwhile; reload them.",
            code="settings_changed",
            details={"version": int(before.version or 0)},
        )
    after = StoredValueSettingsModel(
        AREA,
        tiers=[TierAttribute(min_fen=t.min_fen, bonus_fen=t.bonus_fen) for t in tiers],
        cap_fen=body.cap_fen,
        trial_threshold_fen=body.trial_threshold_fen,
        updated_at=clock.now_iso(),
        updated_by=principal.subject,
        version=body.version + 1,
    )
    entry = audit.new_entry(
        principal,
        "stored_value.settings",
        audit.Target("loyalty_settings", AREA),
        _settings_dict(before),
        _settings_dict(after),
    )
    m = StoredValueSettingsModel
    condition = m.area.does_not_exist() if body.version == 0 else m.version == body.version

    def build(tx: Tx) -> None:
        tx.save(after, condition=condition, label="settings")
        audit.with_entry(tx, entry)

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "settings" in exc.failed:
            raise Conflict(
                "The settings were changed meanwhile; reload them.", code="settings_changed"
            ) from None
        raise
    return settings_view(after)


# --- reading --------------------------------------------------------------------------


def account(customer_id: str) -> StoredValueAccountModel:
    """The member's account; an empty one (not saved) when they never had one."""
    try:
        return StoredValueAccountModel.get(customer_id, consistent_read=True)
    except DoesNotExist:
        return empty_account(customer_id)


def empty_account(customer_id: str) -> StoredValueAccountModel:
    return StoredValueAccountModel(
        customer_id, principal_fen=0, bonus_fen=0, balance_fen=0, bonus_spent_fen=0
    )


def split_of(a: StoredValueAccountModel) -> rules.Split:
    return rules.Split(int(a.principal_fen or 0), int(a.bonus_fen or 0))


def balance_view(a: StoredValueAccountModel, cap_fen: int | None = None) -> s.Balance:
    held = split_of(a)
    spent = int(a.bonus_spent_fen or 0)
    return s.Balance(
        customer_id=a.customer_id,
        balance_fen=held.total_fen,
        principal_fen=held.principal_fen,
        bonus_fen=held.bonus_fen,
        bonus_spent_fen=spent,
        withdrawable_fen=rules.withdrawal_quote(held.principal_fen, spent),
        cap_fen=int(settings_item().cap_fen) if cap_fen is None else cap_fen,
    )


def balance(customer_id: str) -> s.Balance:
    return balance_view(account(customer_id))


def entry_view(e: StoredValueEntryModel) -> s.Entry:
    p, b = int(e.principal_fen), int(e.bonus_fen)
    return s.Entry(
        ref=e.ref,
        kind=cast(Any, e.kind),
        amount_fen=p + b,
        principal_fen=p,
        bonus_fen=b,
        reason=e.reason,
        order_id=e.order_id,
        created_at=e.created_at,
    )


def entries(customer_id: str, query: s.EntryQuery) -> s.EntryPage:
    """A member's ledger, newest first (one Query of the by_time index)."""
    results = StoredValueEntryModel.by_time.query(
        customer_id,
        scan_index_forward=False,
        limit=query.limit,
        page_size=query.limit,
        last_evaluated_key=cursors.decode(
            query.cursor, ("customer_id", "created_key", "ref"), {"customer_id": customer_id}
        ),
    )
    items = list(results)
    more = len(items) == query.limit and results.last_evaluated_key
    return s.EntryPage(
        items=[entry_view(e) for e in items],
        next_cursor=cursors.encode(results.last_evaluated_key) if more else None,
    )


def liability() -> s.Liability:
    """Outstanding principal and bonus per store and in total: one Query of the running
    totals the movements ADD to (no scan of accounts)."""
    stores = [
        s.StoreLiability(
            store_id=t.store_id,
            principal_fen=int(t.principal_fen or 0),
            bonus_fen=int(t.bonus_fen or 0),
            total_fen=int(t.principal_fen or 0) + int(t.bonus_fen or 0),
        )
        for t in StoredValueTotalsModel.query(ledger.SCOPE)
    ]
    p = sum(x.principal_fen for x in stores)
    b = sum(x.bonus_fen for x in stores)
    return s.Liability(principal_fen=p, bonus_fen=b, total_fen=p + b, stores=stores)


# --- head office adjustments ----------------------------------------------------------


def adjust(
    principal: Principal, customer_id: str, body: s.StoredValueAdjustment
) -> s.AdjustmentResult:
    """Head office adds to (or takes from) a member's principal and/or bonus, with a
    reason; audited in the same transaction. A take is refused (409
    ``insufficient_stored_value``) rather than letting a balance go below zero. The same
    ``request_id`` again changes nothing and answers the entry it wrote."""
    if body.principal_fen == 0 and body.bonus_fen == 0:
        raise ValidationFailed(
            "An adjustment moves principal or bonus.",
            code="empty_adjustment",
            details=[field_error("principal_fen", "principal_fen or bonus_fen must not be 0")],
        )
    held = account(customer_id)
    ref = f"adjust:{body.request_id}"
    movement = ledger.Movement(
        customer_id,
        ref,
        "adjust",
        rules.Split(body.principal_fen, body.bonus_fen),
        body.reason,
        store_id=held.store_id or NO_STORE,
        actor=principal.subject,
    )
    entry = audit.new_entry(
        principal,
        "stored_value.adjust",
        audit.Target("stored_value_account", customer_id),
        {},
        {"principal_fen": body.principal_fen, "bonus_fen": body.bonus_fen, "reason": body.reason},
        key=body.request_id,
    )

    def build(tx: Tx) -> None:
        tx.add(*ledger.pieces(movement))
        audit.with_entry(tx, entry)

    try:
        transact(build)
    except TransactionCancelled as exc:
        if ledger.ENTRY_LABEL in exc.failed or "audit" in exc.failed:
            pass  # a retry: answer what the first request wrote
        elif ledger.ACCOUNT_LABEL in exc.failed:
            raise Conflict(
                "The member does not hold that much; adjust by less.",
                code="insufficient_stored_value",
                details=balance_view(account(customer_id)),
            ) from None
        else:
            raise
    try:
        written = StoredValueEntryModel.get(customer_id, ref, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such adjustment.", code="not_found") from None
    return s.AdjustmentResult(entry=entry_view(written), balance=balance(customer_id))
