"""Stored value (储值): the member's balance, ledger, top-ups and withdrawal; head
office's settings, liability report, a member's ledger and adjustments."""

from __future__ import annotations

from chalice import Response

from chalicelib.auth.principal import CUSTOMER, HQ_ADMIN, Principal
from chalicelib.http.routing import Area, current_request_of, respond
from chalicelib.kernel.lazy import lazy_module
from chalicelib.stored_value import schemas as s

service = lazy_module("chalicelib.stored_value.service")
top_ups = lazy_module("chalicelib.stored_value.top_ups")

area = Area("stored value", __name__, "Stored value (储值): top-up, balance, ledger, liability.")

BALANCE_EXAMPLE = {
    "customer_id": "c-3f2a9b1c4d5e6f70",
    "balance_fen": 38500,
    "principal_fen": 35000,
    "bonus_fen": 3500,
    "bonus_spent_fen": 1500,
    "withdrawable_fen": 33500,
    "cap_fen": 500000,
}
ENTRY_EXAMPLE = {
    "ref": "pay:261124K7QX3M9P",
    "kind": "pay",
    "amount_fen": -16500,
    "principal_fen": -15000,
    "bonus_fen": -1500,
    "reason": "order 261124K7QX3M9P",
    "order_id": "261124K7QX3M9P",
    "created_at": "2026-11-24T02:30:00.123Z",
}
TOP_UP_EXAMPLE = {
    "top_up_id": "TU3F2A9B1C4D5E6F70",
    "customer_id": "c-3f2a9b1c4d5e6f70",
    "amount_fen": 50000,
    "bonus_fen": 5000,
    "status": "awaiting_payment",
    "created_at": "2026-11-24T02:30:00.123Z",
    "expires_at": "2026-11-24T02:45:00Z",
    "paid_at": None,
    "payment": {
        "order_id": "TU3F2A9B1C4D5E6F70",
        "provider": "local",
        "amount_fen": 50000,
        "params": {"pay_url": "/local/payments/TU3F2A9B1C4D5E6F70/complete"},
    },
}
QUOTE_EXAMPLE = {
    "principal_fen": 35000,
    "bonus_spent_fen": 1500,
    "refund_fen": 33500,
    "deducted_fen": 1500,
    "bonus_forfeited_fen": 3500,
}
SETTINGS_EXAMPLE = {
    "tiers": [{"min_fen": 50000, "bonus_fen": 5000}, {"min_fen": 100000, "bonus_fen": 12000}],
    "cap_fen": 500000,
    "trial_threshold_fen": None,
    "updated_at": "2026-11-24T02:30:00Z",
    "updated_by": "hq-admin",
    "version": 3,
}
LIABILITY_EXAMPLE = {
    "principal_fen": 12_500_000,
    "bonus_fen": 1_100_000,
    "total_fen": 13_600_000,
    "stores": [
        {
            "store_id": "sh-jingan",
            "principal_fen": 12_500_000,
            "bonus_fen": 1_100_000,
            "total_fen": 13_600_000,
        }
    ],
}


# --- the member -------------------------------------------------------------------------


@area.route(
    "/members/me/stored-value",
    "GET",
    summary="My stored value: balance, principal and bonus",
    roles={CUSTOMER},
    response=s.Balance,
    response_example=BALANCE_EXAMPLE,
)
def my_balance(principal: Principal) -> s.Balance:
    return service.balance(principal.subject)


@area.route(
    "/members/me/stored-value/entries",
    "GET",
    summary="My stored-value ledger, newest first",
    roles={CUSTOMER},
    query=s.EntryQuery,
    response=s.EntryPage,
    response_example={"items": [ENTRY_EXAMPLE], "next_cursor": None},
)
def my_entries(query: s.EntryQuery, principal: Principal) -> s.EntryPage:
    return service.entries(principal.subject, query)


@area.route(
    "/members/me/stored-value/top-ups",
    "POST",
    summary="Top up (send an Idempotency-Key)",
    roles={CUSTOMER},
    body=s.TopUpCreate,
    response=s.TopUp,
    status=201,
    errors=(400, 422),
    request_example={"amount_fen": 50000, "store_id": "sh-jingan"},
    response_example=TOP_UP_EXAMPLE,
    idempotency_key=True,
    replays=True,
)
def create_top_up(body: s.TopUpCreate, principal: Principal) -> Response:
    """201 with the top-up awaiting payment (15 minutes) and ``payment``, the provider's
    payment sheet; the same Idempotency-Key again answers the same top-up (200). The
    bonus follows head office's tiers (the highest reached). 422 ``stored_value_cap``
    when the balance with this top-up and its bonus would exceed the cap per member; a
    payment that arrives when the cap was reached meanwhile is refunded in full."""
    request = current_request_of(area)
    top_up, created = top_ups.create(principal, request.headers.get("idempotency-key"), body)
    return respond(top_up, 201 if created else 200)


@area.route(
    "/members/me/stored-value/top-ups/{top_up_id}",
    "GET",
    summary="One of my top-ups",
    roles={CUSTOMER},
    response=s.TopUp,
    errors=(404,),
    response_example=dict(TOP_UP_EXAMPLE, status="paid", payment=None),
)
def get_top_up(top_up_id: str, principal: Principal) -> s.TopUp:
    return top_ups.get_own(principal, top_up_id)


@area.route(
    "/members/me/stored-value/withdrawal-quote",
    "POST",
    summary="What a withdrawal of my stored value would pay back",
    roles={CUSTOMER},
    response=s.WithdrawalQuote,
    response_example=QUOTE_EXAMPLE,
)
def withdrawal_quote(principal: Principal) -> s.WithdrawalQuote:
    """The unused principal less the bonus already spent; the unspent bonus is
    forfeited (docs/loyalty.md, Stored value)."""
    return top_ups.quote(principal.subject)


@area.route(
    "/members/me/stored-value/withdrawals",
    "POST",
    summary="Withdraw: pay back my unused principal and close the balance",
    roles={CUSTOMER},
    body=s.WithdrawalRequest,
    response=s.Withdrawal,
    status=201,
    errors=(409, 422),
    request_example={"expected_refund_fen": 33500, "request_id": "w-20261124-1"},
    response_example={
        "withdrawal_ref": "withdraw:w-20261124-1",
        "refund_fen": 33500,
        "refund_ids": ["TU3F2A9B1C4D5E6F70:withdraw:w-20261124-1"],
        "balance": dict(
            BALANCE_EXAMPLE,
            balance_fen=0,
            principal_fen=0,
            bonus_fen=0,
            bonus_spent_fen=0,
            withdrawable_fen=0,
        ),
    },
)
def withdraw(body: s.WithdrawalRequest, principal: Principal) -> s.Withdrawal:
    """Send the quote's ``refund_fen`` as ``expected_refund_fen``: 409 ``quote_changed``
    if it moved. The money goes back through the payments of the top-ups, newest first."""
    return top_ups.withdraw(principal, body)


# --- head office ------------------------------------------------------------------------


@area.route(
    "/admin/stored-value/liability",
    "GET",
    summary="Outstanding stored value (prepaid liability) per store and in total",
    roles={HQ_ADMIN},
    response=s.Liability,
    response_example=LIABILITY_EXAMPLE,
)
def liability(principal: Principal) -> s.Liability:
    return service.liability()


@area.route(
    "/admin/stored-value/settings",
    "GET",
    summary="Top-up bonus tiers and the cap per member",
    roles={HQ_ADMIN},
    response=s.Settings,
    response_example=SETTINGS_EXAMPLE,
)
def get_settings(principal: Principal) -> s.Settings:
    return service.settings_view(service.settings_item())


@area.route(
    "/admin/stored-value/settings",
    "PUT",
    summary="Set the top-up bonus tiers and the cap (audited)",
    roles={HQ_ADMIN},
    body=s.SettingsUpdate,
    response=s.Settings,
    errors=(409, 422),
    request_example={
        "tiers": SETTINGS_EXAMPLE["tiers"],
        "cap_fen": 500000,
        "trial_threshold_fen": None,
        "version": 3,
    },
    response_example=dict(SETTINGS_EXAMPLE, version=4),
)
def put_settings(body: s.SettingsUpdate, principal: Principal) -> s.Settings:
    """``version``: the one read (0 before anything was saved); 409 ``settings_changed``
    when someone saved meanwhile."""
    return service.update_settings(principal, body)


@area.route(
    "/admin/stored-value/members/{customer_id}",
    "GET",
    summary="A member's stored value",
    roles={HQ_ADMIN},
    response=s.Balance,
    response_example=BALANCE_EXAMPLE,
)
def member_balance(customer_id: str, principal: Principal) -> s.Balance:
    return service.balance(customer_id)


@area.route(
    "/admin/stored-value/members/{customer_id}/entries",
    "GET",
    summary="A member's stored-value ledger, newest first",
    roles={HQ_ADMIN},
    query=s.EntryQuery,
    response=s.EntryPage,
    response_example={"items": [ENTRY_EXAMPLE], "next_cursor": None},
)
def member_entries(customer_id: str, query: s.EntryQuery, principal: Principal) -> s.EntryPage:
    return service.entries(customer_id, query)


@area.route(
    "/admin/stored-value/members/{customer_id}/adjustments",
    "POST",
    summary="Adjust a member's stored value, with a reason (audited)",
    roles={HQ_ADMIN},
    body=s.StoredValueAdjustment,
    response=s.AdjustmentResult,
    status=201,
    errors=(409, 422),
    request_example={
        "principal_fen": 0,
        "bonus_fen": 1000,
        "reason": "门店补偿：配送延误",
        "request_id": "adj-20261124-0001",
    },
    response_example={
        "entry": dict(
            ENTRY_EXAMPLE,
            ref="adjust:adj-20261124-0001",
            kind="adjust",
            amount_fen=1000,
            principal_fen=0,
            bonus_fen=1000,
            reason="门店补偿：配送延误",
            order_id=None,
        ),
        "balance": BALANCE_EXAMPLE,
    },
)
def adjust(
    customer_id: str, body: s.StoredValueAdjustment, principal: Principal
) -> s.AdjustmentResult:
    """A take larger than the balance is refused (409 ``insufficient_stored_value``):
    a balance never goes below zero. The same ``request_id`` again changes nothing."""
    return service.adjust(principal, customer_id, body)
