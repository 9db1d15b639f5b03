"""The subscription as a payable kind of orders' payment callback (orders/payables.py),
registered when the routes are imported. Light on purpose: the service (and with it
PynamoDB and botocore) is imported at the first payment, not at the Lambda's cold
start (tests/api/test_cold_start.py)."""

from __future__ import annotations

from typing import Any

from chalicelib.orders import payables

PREFIX = "SB"  # a subscription's id: "SB" + 16 hex digits (service.subscription_id_for)


def _service() -> Any:
    from chalicelib.subscriptions import service

    return service


def is_subscription_id(value: str) -> bool:
    return value.startswith(PREFIX)


payables.register(
    payables.Payable(
        name="subscriptions",
        is_id=is_subscription_id,
        record_payment=lambda notice: _service().record_payment(notice),
        payable=lambda principal, value: _service().payable(principal, value),
        payment_total=lambda value: _service().payment_total(value),
        not_found_code="subscription_not_found",
    )
)
