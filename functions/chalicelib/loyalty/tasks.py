"""Tasks (任务): complete the profile, a first order, N orders in a month, invite a
friend. Each rewards points and/or growth once per period ("once", the month
"YYYY-MM", or per invited friend), idempotent per event:

- the points and growth are keyed ``task:<task>:<period>`` (points.award, growth.
  add_growth: each written once whatever the retries);
- an order counts once towards a month: its marker ``<task>:<period>:order:<id>`` is
  written with ``attribute_not_exists`` in the transaction that ADDs to the counter;
- ``done:<task>:<period>`` records the reward for the member's progress view, written
  last (a crash before it is healed by the redelivered event: the rewards are keyed).
"""

from __future__ import annotations

import logging
from datetime import date

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.db.transactions import TransactionCancelled, Tx, transact
from chalicelib.db.writes import is_condition_failure
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock
from chalicelib.kernel.errors import Conflict, NotFound
from chalicelib.loyalty import growth, points
from chalicelib.loyalty import programme_schemas as s
from chalicelib.loyalty.programme_models import TaskProgressModel
from chalicelib.loyalty.programme_schemas import Task
from chalicelib.loyalty.programme_settings import tasks_settings

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
    growth.add_growth(customer_id, task.growth, ref=ref, kind="task", reason=task.name)
    m = TaskProgressModel
    try:
        TaskProgressModel(customer_id, f"done:{task.task_id}:{period}", at=at).save(
            condition=m.key.does_not_exist()
        )
    except PutError as exc:
        if not is_condition_failure(exc):
            raise
        return False  # marked before
    return True


def on_order_completed(customer_id: str, order_id: str, at: str) -> None:
    for task in _active("first_order"):
        reward(customer_id, task, "once", at)
    month = month_of(at)
    for task in _active("orders_in_month"):
        count = _count_order(customer_id, f"{task.task_id}:{month}", order_id, at)
        if count >= task.target:
            reward(customer_id, task, month, at)


def _count_order(customer_id: str, counter: str, order_id: str, at: str) -> int:
    """Count the order towards ``counter`` once; the counter after it."""
    m = TaskProgressModel

    def build(tx: Tx) -> None:
        tx.save(
            TaskProgressModel(customer_id, f"{counter}:order:{order_id}", at=at),
            condition=m.key.does_not_exist(),
            label="marker",
        )
        tx.update(
            TaskProgressModel(customer_id, counter),
            actions=[m.n.add(1), m.at.set(at)],
            label="counter",
        )

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "marker" not in exc.failed:
            raise
        # counted before (a redelivered event): fall through to the reward check
    return int(TaskProgressModel.get(customer_id, counter, consistent_read=True).n or 0)


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
    items = {x.key: x for x in TaskProgressModel.query(customer_id)}
    month = month_of(clock.now_iso())
    out = []
    for t in tasks_settings().tasks:
        if not t.active:
            continue
        if t.kind == "orders_in_month":
            period = month
            counter = items.get(f"{t.task_id}:{month}")
            count = int(counter.n or 0) if counter else 0
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
