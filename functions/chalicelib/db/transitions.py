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
from typing import Any, NamedTuple, Protocol

from pynamodb.attributes import MapAttribute, UnicodeAttribute
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
