"""Group buy rules with no I/O: ids, masks, what a seat's order may hold."""

from __future__ import annotations

import hashlib

SIZE_MIN, SIZE_MAX = 2, 100
HELD_PREFIX = "group:"


def group_id_for(offer_id: str, customer_id: str, idempotency_key: str) -> str:
    """The group an opening request creates, "<offer id>-<hash>": derived from the
    customer and the Idempotency-Key, so a retried open makes no second group; it names
    its offer, so an order's give-back finds the member's tally without a read."""
    digest = hashlib.sha256(f"{customer_id}#{idempotency_key}".encode()).hexdigest()
    return f"{offer_id}-{digest[:12].upper()}"


def offer_of(group_id: str) -> str:
    return group_id.rsplit("-", 1)[0]


def held(group_id: str) -> str:
    """The order's ``held`` value while it waits for its group."""
    return HELD_PREFIX + group_id


def mask(customer_id: str) -> str:
    """A member as shown in the group: never their id or phone, the last two characters."""
    tail = customer_id[-2:] if len(customer_id) > 2 else "*"
    return f"会员***{tail}"


def refund_id(group_id: str, order_id: str) -> str:
    """A failed group's refund of one order: one id per (group, order), so a replayed or
    concurrent expiry job never pays twice (the provider de-duplicates on it too)."""
    return f"{order_id}:group:{group_id}"


def timeout_outcome(on_timeout: str, seats_paid: int) -> str:
    """What an unfilled group becomes at its expiry: "succeeded" when the offer says
    the chain completes it and someone paid (at the group price, without fake members),
    "failed" otherwise (every paid member refunded in full)."""
    return "succeeded" if on_timeout == "complete" and seats_paid > 0 else "failed"


# A group this large at one store prints one consolidated picking list besides its
# orders' tickets: from ten orders of one SKU on, a picker fetching the units once and
# bagging them against one list beats walking the shelf ticket by ticket (a 百人团 prints
# up to 100 tickets of one line each); below it the tickets alone are easier.
PICK_LIST_MIN_SIZE = 10


def needs_pick_list(size: int) -> bool:
    return size >= PICK_LIST_MIN_SIZE


def pick_list_job_id(group_id: str) -> str:
    """The group's one picking-list print job: named from the group, so a replayed or
    resumed success creates it once (a conditional put)."""
    return f"{group_id}-picklist"
