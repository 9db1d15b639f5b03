"""Tasks (任务): complete the profile, a first order, N orders in a month, invite a
friend. Each rewards points and/or growth once per period ("once", the month
"YYYY-MM", or per invited friend), idempotent per event:

- the points and growth are keyed ``task:<task>:<period>`` (points.award, growth
  entries: each written once whatever the retries);
- the order tasks ride on the order's change of the loyalty account
  (``on_order_completed``): the month's order count and the tasks rewarded through
  orders are on the account, changed once per order in the update that adds its points
  and growth (no item per order);
- ``done:<task>:<period>`` (task_progress) records the other tasks' rewards for the
  member's progress view, written when a task is achieved (a crash before it is healed
  by the redelivered event); the order tasks' are the account's ``order_tasks``.
"""

from __future__ import annotations

import logging
from datetime import date
from fractions import Fraction
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.db.writes import is_condition_failure
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock
from chalicelib.kernel.errors import Conflict, NotFound
from chalicelib.loyalty import growth, points
from chalicelib.loyalty import levels as rules
from chalicelib.loyalty import programme_schemas as s
from chalicelib.loyalty.models import LoyaltyAccountModel
from chalicelib.loyalty.programme_models import TaskProgressModel
from chalicelib.loyalty.programme_schemas import Task
from chalicelib.loyalty.programme_settings import levels_settings, tasks_settings

log = logging.getLogger("daojia.tasks")


def _active(kind: str) -> list[Task]:
    return [t for t in tasks_settings().tasks if t.active and t.kind == kind]


def month_of(at: str) -> str:
    d: date = growth.local_today(at)
    return f"{d.year:04d}-{d.month:02d}"


def reward(customer_id: str, task: Task, period: str, at: str) -> bool:
    """Give the task's points and growth for ``period`` (each once), then mark it done.
    True when this call marked it."""
    ref = f"task:{task.task_id}:{period}"
    points.award(customer_id, task.points, ref=ref, kind="earn", reason=task.name, occurred_at=at)
    # its own key: the points entry and the growth entry share a table (decisions.md 32)
    growth.add_growth(customer_id, task.growth, ref=f"growth:{ref}", kind="task", reason=task.name)
    return _mark_done(customer_id, task.task_id, period, at)


def on_order_completed(
    customer_id: str,
    order_id: str,
    paid_fen: int,
    refunded_fen: int,
    at: str,
    extra_multiplier: str | None = None,
) -> bool:
    """An order's completion on the member's loyalty account, as ONE UpdateItem without a
    transaction (growth.apply_once, keyed ``order:<id>``; decisions.md entries 28, 32):

    - its points (``earn:order:<id>``): on what the customer kept paying for, times the
      level's multiplier and the member day's the order recorded when placed
      (``extra_multiplier``, decimal text; the two multiply), pending for the
      settings' days so a return can take them back;
    - its growth, the month's order count and the order tasks it achieves (first order,
      N orders in a month): the tasks rewarded are on the account (``order_tasks``), so
      an order counts once and a task is rewarded once per period whatever the retries
      and races; a task's growth is an entry of the change and its points a lot of their
      own (``task:<task>:<period>``) in the same update.

    Then the points entries and the growth entries are put, the order's growth entry
    last: its presence means the whole change is written. True when applied now."""
    from chalicelib.loyalty.settings import points_settings

    kept = paid_fen - refunded_fen
    levels = levels_settings()
    n = rules.growth_for_order(kept, levels.growth_per_yuan)
    earning = points_settings()
    first = _active("first_order")
    monthly = _active("orders_in_month")

    def plan(account: LoyaltyAccountModel | None, month: str) -> growth.Plan | None:
        parts: list[growth.Part] = []
        actions: list[Any] = []
        achieved: list[tuple[Task, str]] = []
        if first or monthly:
            done = set(account.order_tasks or []) if account is not None else set()
            same = account is not None and account.orders_month == month
            count = (int(account.orders_in_month or 0) if same and account else 0) + 1
            keep = {d for d in done if d.endswith((":once", f":{month}"))}
            achieved = [(t, "once") for t in first if f"{t.task_id}:once" not in done]
            achieved += [
                (t, month)
                for t in monthly
                if count >= t.target and f"{t.task_id}:{month}" not in done
            ]
            for task, period in achieved:
                keep.add(f"{task.task_id}:{period}")
                if task.growth:
                    ref = f"task:{task.task_id}:{period}"
                    parts.append(growth.Part(ref, "task", task.growth, task.name))
            m = LoyaltyAccountModel
            actions = [
                m.orders_month.set(month),
                m.orders_in_month.set(count),
                m.order_tasks.set(sorted(keep)),
            ]
        multiplier = Fraction(str(growth.level_of(account, levels).points_multiplier))
        if extra_multiplier:
            multiplier *= Fraction(extra_multiplier)
        earns = [
            points.Earn(
                f"earn:order:{order_id}",
                points.order_points(kept, earning.points_per_yuan, multiplier),
                "earn",
                "订单完成",
                at,
                pending_days=earning.pending_days,
                order_id=order_id,
                extra={"base_fen": kept, "refunded_base_fen": refunded_fen, "reversed_points": 0},
            )
        ]
        earns += [
            points.Earn(f"task:{t.task_id}:{period}", t.points, "earn", t.name, at)
            for t, period in achieved
        ]
        now = clock.now_iso()
        update = points.earn_update(customer_id, account, earns, now, earning)
        if n == 0 and not actions and update is None:
            return None
        extra = {
            "order_id": order_id,
            "base_fen": kept,
            "refunded_base_fen": refunded_fen,
            "reversed_growth": 0,
        }
        key = growth.order_entry_key(order_id)  # its points earn's key: one item for both
        parts.append(growth.Part(key, "order", n, "order completed", extra))
        if update is None:
            return growth.Plan(parts, actions)
        # the points entries of a cause with a growth entry go in the same item; the
        # others (lots expired or debt repaid by the settling) on their own
        shared = {p.key for p in parts}
        merged = {ref: {**attrs, "at": now} for ref, attrs in update.rows if ref in shared}
        alone = [[ref, attrs] for ref, attrs in update.rows if ref not in shared]
        return growth.Plan(
            parts,
            actions + update.actions,
            [alone] if alone else [],
            condition=update.condition,
            merged=merged,
        )

    return growth.apply_once(customer_id, growth.order_entry_key(order_id), plan, _put_points)


def _put_points(customer_id: str, rewards: list[Any], at: str) -> None:
    """The points entries of an order's change that have no growth entry to share an
    item with (lots the settling expired, debt it repaid), each once."""
    for rows in rewards:
        points.complete_rows(customer_id, at, rows)


def _mark_done(customer_id: str, task_id: str, period: str, at: str) -> bool:
    m = TaskProgressModel
    try:
        TaskProgressModel(customer_id, f"done:{task_id}:{period}", at=at).save(
            condition=m.key.does_not_exist()
        )
    except PutError as exc:
        if not is_condition_failure(exc):
            raise
        return False  # marked before
    return True


def on_registered(customer_id: str, invited_by: str | None, at: str) -> None:
    """A friend registered with ``invited_by``'s invitation: the inviter's invite task,
    once per friend."""
    if not invited_by or invited_by == customer_id:
        return
    for task in _active("invite"):
        reward(invited_by, task, customer_id, at)


def profile_complete(customer_id: str) -> bool:
    try:
        member = CustomerModel.get(customer_id)
    except DoesNotExist:
        return False
    return bool(member.nickname) and bool(getattr(member, "birthday", None))


def claim(customer_id: str, task_id: str) -> s.TaskClaimResult:
    """The member claims a task the server can check on demand (the profile task):
    404 for an unknown or inactive task, 409 ``task_not_claimable`` for the others,
    409 ``task_not_done`` while the profile lacks a nickname or birthday."""
    task = next((t for t in tasks_settings().tasks if t.task_id == task_id and t.active), None)
    if task is None:
        raise NotFound(f"No task {task_id!r}.", code="task_not_found")
    if task.kind != "profile":
        raise Conflict("This task is rewarded by itself when done.", code="task_not_claimable")
    if not profile_complete(customer_id):
        raise Conflict("Add your nickname and birthday first.", code="task_not_done")
    rewarded = reward(customer_id, task, "once", clock.now_iso())
    return s.TaskClaimResult(task_id=task_id, rewarded=rewarded)


def progress(customer_id: str) -> s.TaskList:
    """Every active task with the member's progress (one Query of their items)."""
    records = {x.key for x in TaskProgressModel.query(customer_id)}
    month = month_of(clock.now_iso())
    account = growth.account_of(customer_id)
    this_month = account is not None and account.orders_month == month
    orders = int(account.orders_in_month or 0) if account is not None and this_month else 0
    # the order tasks are recorded on the account ("<task>:once", "<task>:<month>")
    by_orders = {f"done:{d}" for d in (account.order_tasks or [])} if account else set()
    if not this_month:
        by_orders = {d for d in by_orders if d.endswith(":once")}
    items = records | by_orders
    out = []
    for t in tasks_settings().tasks:
        if not t.active:
            continue
        if t.kind == "orders_in_month":
            period = month
            count = orders
            done = f"done:{t.task_id}:{month}" in items
        elif t.kind == "invite":
            period = "each"
            prefix = f"done:{t.task_id}:"
            count = sum(1 for k in items if k.startswith(prefix))
            done = False  # every friend counts again
        else:
            period = "once"
            done = f"done:{t.task_id}:once" in items
            count = 1 if done else 0
        out.append(
            s.TaskProgress(
                task_id=t.task_id,
                kind=t.kind,
                name=t.name,
                points=t.points,
                growth=t.growth,
                target=t.target,
                progress=min(count, t.target) if t.kind != "invite" else count,
                done=done,
                period=period,
            )
        )
    return s.TaskList(items=out)
