"""The state machines of orders, refunds, returns and print jobs, written down as data.

A transition not listed here is refused with 409. Every transition that happens is
recorded on its object (actor, role, time, from, to, reason).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.kernel.errors import Conflict


@dataclass(frozen=True)
class Machine:
    """A named state machine: ``transitions[action] = (allowed from-states, to-state)``."""

    name: str
    initial: str
    transitions: dict[str, tuple[frozenset[str], str]]
    final: frozenset[str]
    # action -> the action a request may take first, in the same write, when the object is
    # in that action's source state instead (an order picked straight from paid).
    leads: dict[str, str] = field(default_factory=dict)

    def _transition(self, action: str) -> tuple[frozenset[str], str]:
        try:
            return self.transitions[action]
        except KeyError:
            raise ValueError(f"{self.name}: unknown action {action!r}") from None

    def _refusal(self, action: str, current: str, allowed: frozenset[str]) -> Conflict:
        return Conflict(
            f"Cannot {action.replace('_', ' ')} a {self.name} that is {current.replace('_', ' ')}.",
            code="illegal_transition",
            details={
                "machine": self.name,
                "action": action,
                "from": current,
                "allowed_from": sorted(allowed),
            },
        )

    def target(self, action: str, current: str) -> str:
        """The state ``action`` leads to from ``current``, or 409 if it is not allowed."""
        sources, to = self._transition(action)
        if current not in sources:
            raise self._refusal(action, current, sources)
        return to

    def path(self, action: str, current: str) -> list[str]:
        """The actions that perform ``action`` from ``current``: ``[action]``, or
        ``[lead, action]`` from the source state of its lead (``leads``); 409 (with every
        state it may start from) otherwise."""
        sources, _ = self._transition(action)
        if current in sources:
            return [action]
        lead = self.leads.get(action)
        if lead is None:
            raise self._refusal(action, current, sources)
        lead_sources, via = self._transition(lead)
        if current in lead_sources and via in sources:
            return [lead, action]
        raise self._refusal(action, current, sources | lead_sources)

    def walk(self, actions: list[str], current: str) -> list[tuple[str, str, str]]:
        """(action, from, to) of each of ``actions`` taken in turn from ``current``; 409 at
        the first that does not fit."""
        steps = []
        for action in actions:
            to = self.target(action, current)
            steps.append((action, current, to))
            current = to
        return steps

    def states(self) -> set[str]:
        out = {self.initial} | set(self.final)
        for sources, to in self.transitions.values():
            out |= sources | {to}
        return out


def _t(sources: set[str] | str, to: str) -> tuple[frozenset[str], str]:
    return (frozenset({sources} if isinstance(sources, str) else sources), to)


# 订单. Delivery: awaiting_payment -> paid -> picking -> picked -> checked_out ->
# out_for_delivery -> delivered -> completed. Pickup: ... checked_out -> ready_for_pickup
# -> completed. Cancellation before picking starts (or by the store when nothing at all
# could be picked); expiry of unpaid orders. The pick may come straight from paid (the
# picker works from the printed ticket): start_picking and its outcome in one write.
ORDER = Machine(
    name="order",
    initial="awaiting_payment",
    transitions={
        "pay": _t("awaiting_payment", "paid"),
        "expire": _t("awaiting_payment", "expired"),
        "cancel": _t({"awaiting_payment", "paid"}, "cancelled"),
        # the picker found none of the goods: refunded in full and cancelled by the store
        "cancel_out_of_stock": _t("picking", "cancelled"),
        "start_picking": _t("paid", "picking"),
        "finish_picking": _t("picking", "picked"),
        "checkout": _t("picked", "checked_out"),
        "dispatch": _t("checked_out", "out_for_delivery"),
        "deliver": _t("out_for_delivery", "delivered"),
        "ready_for_pickup": _t("checked_out", "ready_for_pickup"),
        "collect": _t("ready_for_pickup", "completed"),
        "confirm_receipt": _t("delivered", "completed"),
        "auto_complete": _t("delivered", "completed"),
    },
    final=frozenset({"completed", "cancelled", "expired"}),
    leads={"finish_picking": "start_picking", "cancel_out_of_stock": "start_picking"},
)

# The store's work queue (the orders table's by_store_queue index) keys an order by store
# and a bucket that stays the same while the store works on it, so a step rewrites one
# small index entry (the status is projected) instead of moving it (delete + insert). An
# order is "open" from payment until it is delivered; delivered orders wait days for the
# customer (auto-completion reads their bucket), so they keep a bucket of their own rather
# than making every work-queue read walk past them. Unpaid orders (the store cannot act on
# them) and final ones (which would pile up for ever) are in no bucket: the order enters
# the index when paid and leaves it (one delete, not a key change) when final; the store's
# lists of those come from its business days (the by_store_day index).
OPEN_QUEUE = "open"
DELIVERED_QUEUE = "delivered"


def order_queue(status: str) -> str | None:
    """The work-queue bucket of an order in ``status``; None: in no bucket."""
    if status == ORDER.initial or status in ORDER.final:
        return None
    return DELIVERED_QUEUE if status == "delivered" else OPEN_QUEUE


# 退款: a refund is created, sent to the payment provider, and confirmed by it.
REFUND = Machine(
    name="refund",
    initial="pending",
    transitions={
        "succeed": _t("pending", "succeeded"),
        "fail": _t("pending", "failed"),
        "retry": _t("failed", "pending"),
    },
    final=frozenset({"succeeded"}),
)

# 退货. A return is opened on lines of a completed order, in one of two entry states:
# fresh goods (生鲜) start in "refund_at_once" and are refunded in the same write that
# opens them (the store does not take spoilt produce back); other goods start in
# "awaiting_verification", are verified (or rejected), then collected at the door or
# received at the service desk, and refunded in the same write as that last step.
# A return whose goods turn out not to match at the door can still be rejected.
RETURN_FRESH_ENTRY = "refund_at_once"
RETURN_OTHER_ENTRY = "awaiting_verification"
RETURN = Machine(
    name="return",
    initial=RETURN_OTHER_ENTRY,
    transitions={
        "verify": _t("awaiting_verification", "verified"),
        "reject": _t({"awaiting_verification", "verified"}, "rejected"),
        "collect": _t("verified", "goods_received"),
        "receive_at_counter": _t("verified", "goods_received"),
        "refund": _t({"goods_received", RETURN_FRESH_ENTRY}, "refunded"),
    },
    final=frozenset({"refunded", "rejected"}),
)

# 打印任务: written with the order's state change, sent to the store's queue, acknowledged
# by the relay copy by copy. A job not acknowledged in time is re-sent and counts as a
# missed print (漏单) until it is acknowledged, or until staff resolve it (they dealt with
# the order another way and say how): a resolved job is no longer re-sent, but a relay
# that prints it later still acknowledges it and it becomes printed.
PRINT_JOB = Machine(
    name="print job",
    initial="pending",
    transitions={
        "send": _t({"pending", "missed"}, "sent"),
        "miss": _t({"pending", "sent"}, "missed"),
        "print": _t({"pending", "sent", "missed", "resolved"}, "printed"),
        "resolve": _t("missed", "resolved"),
    },
    final=frozenset({"printed"}),
)

# 售券: a coupon sold for money. Paid when the provider's notification issues the coupon;
# refunded in full while the coupon is unused ("refund"), or at once when the coupon
# could not be issued after all ("refund_unissued": sold out, limit reached, paused).
# An unpaid sale past its deadline reads as expired.
COUPON_SALE = Machine(
    name="coupon sale",
    initial="awaiting_payment",
    transitions={
        "pay": _t("awaiting_payment", "paid"),
        "expire": _t("awaiting_payment", "expired"),
        "refund_unissued": _t("awaiting_payment", "refunded"),
        "refund": _t("paid", "refunded"),
    },
    final=frozenset({"refunded", "expired"}),
)

# Orders whose payment has been captured and not wholly refunded.
PAID_STATES = frozenset(
    {
        "paid",
        "picking",
        "picked",
        "checked_out",
        "out_for_delivery",
        "delivered",
        "ready_for_pickup",
        "completed",
    }
)

# 活动 (issue 16): a campaign is drafted, launched (the checklist passed: scheduled),
# goes live at its start and ends at its end (the campaigns_tick job, and on read), or
# is ended early by head office; head office's review note makes it reviewed. A
# scheduled campaign goes back to draft to be changed.
CAMPAIGN = Machine(
    name="campaign",
    initial="draft",
    transitions={
        "launch": _t("draft", "scheduled"),
        "unschedule": _t("scheduled", "draft"),
        "start": _t("scheduled", "live"),
        "end": _t("live", "ended"),
        "review": _t("ended", "reviewed"),
    },
    final=frozenset({"reviewed"}),
)
