"""Payment providers behind one interface shaped like WeChat Pay / Alipay: create a
payment for an order; the provider later calls our webhook with a signed notification;
refunds go back through the provider, keyed by our refund id (their out_refund_no), so a
retried refund is never paid twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Protocol

from chalicelib.kernel import clock, config
from chalicelib.kernel.errors import BadRequest, NotFound, ServiceUnavailable

log = logging.getLogger("daojia.payments")
SIGNATURE_HEADER = "x-daojia-signature"

if TYPE_CHECKING:
    from chalicelib.orders.models import PaymentModel


@dataclass(frozen=True)
class PaymentNotice:
    """A verified notification that money was captured."""

    provider: str
    transaction_id: str
    order_id: str
    amount_fen: int
    paid_at: str
    # Who paid, as the provider names them (WeChat Pay's payer openid, Alipay's
    # buyer_id); None when it does not say. Only kept hashed, for new-customer offers.
    payer: str | None = None

    @property
    def payment_id(self) -> str:
        return f"{self.provider}:{self.transaction_id}"

    def record(self, order_id: str, outcome: str) -> PaymentModel:
        """The payment record of this notice (keyed by the provider's transaction id) for
        ``order_id`` (an order or a coupon sale), with what became of the money."""
        from chalicelib.orders.models import PaymentModel

        return PaymentModel(
            self.payment_id,
            order_id=order_id,
            provider=self.provider,
            amount_fen=self.amount_fen,
            outcome=outcome,
            received_at=clock.now_iso(),
        )


class RefundFailed(Exception):
    """The provider refused or could not be reached; the refund stays pending and is retried."""


class PaymentProvider(Protocol):
    name: str

    def create_payment(self, order_id: str, amount_fen: int, description: str) -> dict[str, str]:
        """Parameters the storefront passes to the provider's payment sheet."""

    def parse_notification(self, headers: dict[str, str], body: bytes) -> PaymentNotice:
        """Verify the signature and read the notice; BadRequest if it is not genuine."""

    def refund(self, payment_id: str, refund_id: str, refund_fen: int, total_fen: int) -> str:
        """Refund part of a payment; returns the provider's refund id. Idempotent per refund_id."""


class LocalPaymentProvider:
    """Development provider: notifications are signed with HMAC-SHA256 like a real
    provider's, and the local stage offers a route that makes one (the customer "pays")."""

    name = "local"

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self.refunds: dict[str, int] = {}  # refund id -> fen, to prove idempotency in tests

    def sign(self, body: bytes) -> str:
        return hmac.new(self._secret, body, hashlib.sha256).hexdigest()

    def create_payment(self, order_id: str, amount_fen: int, description: str) -> dict[str, str]:
        return {"simulate_url": f"/local/payments/{order_id}/complete", "description": description}

    def make_notification(
        self, order_id: str, amount_fen: int, payer: str | None = None
    ) -> tuple[dict[str, str], bytes]:
        doc: dict[str, object] = {
            "transaction_id": "lp" + secrets.token_hex(10),
            "order_id": order_id,
            "amount_fen": amount_fen,
            "paid_at": clock.now_iso(),
        }
        if payer is not None:
            doc["payer"] = payer
        body = json.dumps(doc).encode()
        return {SIGNATURE_HEADER: self.sign(body), "content-type": "application/json"}, body

    def parse_notification(self, headers: dict[str, str], body: bytes) -> PaymentNotice:
        given = {k.lower(): v for k, v in headers.items()}.get(SIGNATURE_HEADER, "")
        if not hmac.compare_digest(given, self.sign(body)):
            raise BadRequest("The notification's signature is not valid.", code="bad_signature")
        try:
            doc = json.loads(body)
            payer = doc.get("payer")
            return PaymentNotice(
                self.name,
                str(doc["transaction_id"]),
                str(doc["order_id"]),
                int(doc["amount_fen"]),
                str(doc["paid_at"]),
                None if payer is None else str(payer),
            )
        except (ValueError, KeyError, TypeError):
            raise BadRequest("The notification is not readable.", code="bad_notification") from None

    def refund(self, payment_id: str, refund_id: str, refund_fen: int, total_fen: int) -> str:
        if refund_fen <= 0 or refund_fen > total_fen:
            raise RefundFailed(f"refund of {refund_fen} fen on a payment of {total_fen}")
        self.refunds.setdefault(refund_id, refund_fen)
        return "lr" + hashlib.sha256(refund_id.encode()).hexdigest()[:16]


KNOWN_PROVIDERS = ("local",)


@cache
def provider(name: str | None = None) -> PaymentProvider:
    """The provider by name (default: the configured one). A name we have no provider for
    is a 404 (e.g. a webhook URL with a typo); a configured provider we lack is a 503."""
    if name is not None and name not in KNOWN_PROVIDERS:
        raise NotFound(
            f"There is no payment provider {name[:40]!r}; known: {', '.join(KNOWN_PROVIDERS)}.",
            code="unknown_provider",
        )
    name = name or config.PAYMENT_PROVIDER
    if name == "local":
        from chalicelib.auth.tokens import signing_key

        return LocalPaymentProvider(
            hmac.new(signing_key().encode(), b"local-payments", hashlib.sha256).digest()
        )
    raise ServiceUnavailable(
        f"Payment provider {name or '(none)'} is not configured.", code="payments_unavailable"
    )
