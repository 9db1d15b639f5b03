"""What an item looks like after an update, computed here instead of read back.

A TransactWriteItems returns nothing, so code that changed an order inside a transaction
used to read the order again to answer the request (one more round trip per store step).
When the transaction committed, the item is exactly the image we read (consistently)
with our update actions applied, because the transaction's conditions held. ``applied``
evaluates PynamoDB's update actions (SET with values, paths, ``+``/``-``, list_append
and if_not_exists; REMOVE; ADD to numbers and sets; DELETE from sets) on the serialized
item, the way DynamoDB does. A test compares its result with the item read back for
every kind of transition that uses it.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from typing import Any, TypeVar

from pynamodb.expressions.operand import (
    Path,
    Value,
    _Decrement,
    _IfNotExists,
    _Increment,
    _ListAppend,
)
from pynamodb.expressions.update import AddAction, DeleteAction, RemoveAction, SetAction
from pynamodb.models import Model

M = TypeVar("M", bound=Model)
_SEGMENT = re.compile(r"^([^\[]+)((?:\[\d+\])*)$")
_MISSING = object()


def applied(item: M, actions: list[Any]) -> M:
    """A new model instance: ``item`` with ``actions`` applied (``item`` is unchanged).

    The version attribute is left as PynamoDB keeps it on ``item``: a committed
    transaction has already bumped it there (and appended its own ``version + 1`` action
    to ``actions``, which is skipped here)."""
    data = copy.deepcopy(item.serialize())
    version = item._version_attribute_name
    version_name = item.get_attributes()[version].attr_name if version else None
    for action in actions:
        if version_name is None or action.values[0].path != [version_name]:
            _apply(data, action)
    return type(item).from_raw_data(data)


def _steps(path: Path) -> list[str | int]:
    """``["lines[2]", "picked_qty"]`` -> ``["lines", 2, "picked_qty"]``."""
    out: list[str | int] = []
    for segment in path.path:
        match = _SEGMENT.match(segment)
        if match is None:  # a name with brackets of its own: take it whole
            out.append(segment)
            continue
        out.append(match.group(1))
        out += [int(i) for i in re.findall(r"\[(\d+)\]", match.group(2))]
    return out


def _children(node: dict[str, Any]) -> Any:
    """The container inside a DynamoDB value: {"M": {...}} or {"L": [...]}."""
    return node["M"] if "M" in node else node["L"]


def _get(data: dict[str, Any], steps: list[str | int]) -> Any:
    node: Any = data
    for i, step in enumerate(steps):
        container = node if i == 0 else _children(node)
        try:
            node = container[step]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return node


def _set(data: dict[str, Any], steps: list[str | int], value: dict[str, Any]) -> None:
    parent: Any = data if len(steps) == 1 else _children(_get(data, steps[:-1]))
    last = steps[-1]
    if isinstance(parent, list) and isinstance(last, int) and last >= len(parent):
        parent.append(value)  # DynamoDB appends when SET names an index past the end
    else:
        parent[last] = value


def _remove(data: dict[str, Any], steps: list[str | int]) -> None:
    parent = data if len(steps) == 1 else _get(data, steps[:-1])
    if parent is _MISSING:
        return
    container: Any = parent if len(steps) == 1 else _children(parent)
    last = steps[-1]
    if isinstance(container, list):
        if isinstance(last, int) and last < len(container):
            del container[last]
    else:
        container.pop(last, None)


def _number(value: dict[str, Any]) -> Decimal:
    return Decimal(value["N"])


def _num(n: Decimal) -> dict[str, str]:
    return {"N": str(n.normalize()) if n != n.to_integral() else str(int(n))}


def _operand(data: dict[str, Any], operand: Any) -> Any:
    """An update operand's value, or _MISSING for a path that does not exist."""
    if isinstance(operand, Value):
        return copy.deepcopy(operand.value)
    if isinstance(operand, Path):
        found = _get(data, _steps(operand))
        return found if found is _MISSING else copy.deepcopy(found)
    if isinstance(operand, _Increment | _Decrement):
        lhs, rhs = (_operand(data, v) for v in operand.values)
        if lhs is _MISSING or rhs is _MISSING:
            raise ValueError(f"{operand}: an operand does not exist")
        sign = 1 if isinstance(operand, _Increment) else -1
        return _num(_number(lhs) + sign * _number(rhs))
    if isinstance(operand, _ListAppend):
        first, second = (_operand(data, v) for v in operand.values)
        if first is _MISSING or second is _MISSING:
            raise ValueError(f"{operand}: an operand does not exist")
        return {"L": first["L"] + second["L"]}
    if isinstance(operand, _IfNotExists):
        path, default = operand.values
        found = _operand(data, path)
        return _operand(data, default) if found is _MISSING else found
    raise TypeError(f"cannot evaluate update operand {operand!r}")


def _apply(data: dict[str, Any], action: Any) -> None:
    path, *rest = action.values
    steps = _steps(path)
    if isinstance(action, SetAction):
        _set(data, steps, _operand(data, rest[0]))
    elif isinstance(action, RemoveAction):
        _remove(data, steps)
    elif isinstance(action, AddAction):
        given = _operand(data, rest[0])
        current = _get(data, steps)
        if current is _MISSING:
            _set(data, steps, given)
        elif "N" in given:
            _set(data, steps, _num(_number(current) + _number(given)))
        else:
            ((kind, members),) = given.items()
            merged = list(dict.fromkeys([*current[kind], *members]))
            _set(data, steps, {kind: merged})
    elif isinstance(action, DeleteAction):
        given = _operand(data, rest[0])
        current = _get(data, steps)
        if current is _MISSING:
            return
        ((kind, members),) = given.items()
        left = [m for m in current[kind] if m not in members]
        if left:
            _set(data, steps, {kind: left})
        else:
            _remove(data, steps)  # DynamoDB drops an emptied set
    else:
        raise TypeError(f"cannot apply update action {action!r}")
