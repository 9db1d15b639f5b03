"""The one transition writer: the update that moves an item (order, return, coupon sale,
refund, print job) through its state machine (kernel/states.py), and the history entry
it records.

``move`` gives the update actions and the condition for one write: the status set, the
time of the change (for a model that keeps one), one history entry per step, and any
notes recorded in the same write (a print job's acks and re-sends); the condition is that
the item is still in a state the action may start from, so two people pressing the same
button at once make one transition and one 409. The caller adds its own actions (queue
and index keys, amounts), ANDs its own conditions (a print job's attempts) and writes it,
alone or in a transaction. A write that changes no state (a note alone) uses ``entry``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

from pynamodb.attributes import ListAttribute, MapAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.kernel import clock
from chalicelib.kernel.states import Machine


class TransitionAttribute(MapAttribute[str, Any]):
    """One recorded state change: who, when, from, to, why."""

    at = UnicodeAttribute()
    actor = UnicodeAttribute()
    role = UnicodeAttribute()
    action = UnicodeAttribute()
    from_state = UnicodeAttribute(attr_name="from", null=True)
    to_state = UnicodeAttribute(attr_name="to")
    reason = UnicodeAttribute(null=True)


# A history entry is stored as one string, "<epoch s>|<action>|<from>|<to>|<actor>|<role>|
# <reason>", the role as a letter (ROLE_CODES), instead of a map with long names: ~55
# bytes, not ~107. An order keeps 8 entries when completed and its item must stay within
# 1 KB (one write unit per step), so its history also leaves ``from`` out
# (``HistoryAttribute(derive_from=True)``): every change of an order's state records an
# entry, so an entry's ``from`` is the ``to`` of the one before (None for the first).
# An entry the string cannot hold exactly (a "|" in a field, an empty reason or from, a
# time not at second precision) is stored as the map; map entries written before are
# read too.
_SEP = "|"
_FIELDS = 7
ROLE_CODES = {
    "customer": "c",
    "store_staff": "s",
    "store_manager": "m",
    "hq_admin": "h",
    "relay": "r",
    "system": "y",
}
_ROLES = {code: role for role, code in ROLE_CODES.items()}


def encode(h: TransitionAttribute, derive_from: bool = False) -> str | None:
    """The compact string of an entry, or None when only the map holds it exactly.
    ``derive_from``: leave ``from`` out (read back as the previous entry's ``to``)."""
    try:
        at = datetime.fromisoformat(str(h.at).replace("Z", "+00:00"))
    except ValueError:
        return None
    if at.tzinfo is None or clock.iso(at) != h.at:
        return None
    frm = "" if derive_from else h.from_state or ""
    fields = [h.action, frm, h.to_state, h.actor, ROLE_CODES.get(h.role, h.role)]
    if any(_SEP in f for f in fields) or "" in (h.reason, h.from_state) or h.role in _ROLES:
        return None
    return _SEP.join([str(int(at.timestamp())), *fields, h.reason or ""])


def decode(value: str, previous_to: str | None = None) -> dict[str, Any]:
    """A compact entry as the map would hold it (stored names: ``from``, ``to``): the
    history readers of stream images (events/records.py) see the same either way. An
    empty ``from`` reads as ``previous_to`` (the previous entry's ``to``, if derived)."""
    epoch, action, frm, to, actor, role, reason = value.split(_SEP, _FIELDS - 1)
    return {
        "at": clock.iso(datetime.fromtimestamp(int(epoch), UTC)),
        "action": action,
        "from": frm or previous_to,
        "to": to,
        "actor": actor,
        "role": _ROLES.get(role, role),
        "reason": reason or None,
    }


class HistoryAttribute(ListAttribute[TransitionAttribute]):
    """A list of TransitionAttribute entries, each stored compactly (``encode``); reads
    both the compact and the map form. ``derive_from``: for a model whose every change
    of state records an entry (orders), ``from`` is not stored."""

    def __init__(self, derive_from: bool = False, **kwargs: Any) -> None:
        super().__init__(of=TransitionAttribute, **kwargs)
        self.derive_from = derive_from

    def serialize(self, values: Any, *, null_check: bool = True) -> Any:
        out: list[dict[str, Any]] = []
        for h in values:
            text = encode(h, self.derive_from)
            out += [{"S": text}] if text is not None else super().serialize([h])
        return out

    def deserialize(self, values: Any) -> Any:
        out: list[TransitionAttribute] = []
        for v in values:
            if "S" in v:
                previous = out[-1].to_state if out and self.derive_from else None
                d = decode(v["S"], previous)
                d["from_state"], d["to_state"] = d.pop("from"), d.pop("to")
                out.append(TransitionAttribute(**d))
            else:
                out += super().deserialize([v])
        return out


def stored_entry(value: Any) -> dict[str, Any]:
    """A history entry of a stream image (plain Python: a string or a map) as a map;
    ``from`` of a compact entry of an order is not given (the readers need ``to``)."""
    return decode(value) if isinstance(value, str) else dict(value)


class Actor(Protocol):
    """Who did it: a Principal, or a ``Who`` for what no token carries."""

    @property
    def subject(self) -> str: ...

    @property
    def role(self) -> str: ...


class Who(NamedTuple):
    subject: str
    role: str


def entry(
    action: str, from_state: str | None, to_state: str, actor: Actor, reason: str | None = None
) -> TransitionAttribute:
    """The history entry of one transition (or note: from = to), stamped now."""
    return TransitionAttribute(
        at=clock.now_iso(),
        actor=actor.subject,
        role=actor.role,
        action=action,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
    )


@dataclass(frozen=True)
class Move:
    to: str
    actions: list[Any]
    condition: Any


def move(
    model: type[Model],
    machine: Machine,
    current: str,
    steps: Sequence[tuple[str, str | None]],
    actor: Actor,
    *,
    exact: bool = False,
    history: bool = True,
    stamp: str | None = "updated_at",
    notes_before: Sequence[TransitionAttribute] = (),
    notes_after: Sequence[TransitionAttribute] = (),
    recorded_as: str | None = None,
) -> Move:
    """Take an item of ``model`` read in state ``current`` through ``steps`` ((action,
    reason) each, in turn) in one write; 409 ``illegal_transition`` at the first step
    that does not fit.

    The condition: for one step, the item is in a state the action may start from; for
    several (or ``exact``), it is still in ``current``, since the path and the entries
    were worked out from it. ``history=False`` for a model that records no history;
    ``stamp``: the attribute that holds the time of the change, None for a model without
    one. ``notes_before``/``notes_after``: entries (notes) appended with the step entries,
    before/after them. ``recorded_as``: the action a one-step move records, when the
    history names the cause (a relay's failure) rather than the machine's action (miss)."""
    path = machine.walk([action for action, _ in steps], current)
    to = path[-1][2]
    m: Any = model
    actions = [m.status.set(to)]
    if stamp is not None:
        actions.append(getattr(m, stamp).set(clock.now_iso()))
    if recorded_as is not None:
        if len(steps) != 1:
            raise ValueError("recorded_as names the action of a one-step move")
        path = [(recorded_as, *path[0][1:])]
    if history:
        entries = [
            *notes_before,
            *(
                entry(action, frm, dest, actor, reason)
                for (action, frm, dest), (_, reason) in zip(path, steps, strict=True)
            ),
            *notes_after,
        ]
        actions.append(m.history.set(m.history.append(entries)))
    if len(steps) == 1 and not exact:
        condition = m.status.is_in(*machine.transitions[steps[0][0]][0])
    else:
        condition = m.status == current
    return Move(to, actions, condition)
