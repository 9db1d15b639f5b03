"""The campaign calendar (issue 16 item 1): a year is its seed nodes, computed
(calendar_rules.py), merged with head office's changes stored in ``calendar_nodes``.
Reading a year costs three queries (changes, stores' opening dates, the campaigns
created from its nodes) and writes nothing; every change is audited in its own
transaction and conditioned on the node's version."""

from __future__ import annotations

import secrets
from dataclasses import asdict
from datetime import date
from typing import Any

from msgspec import UNSET
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from chalicelib.audit import service as audit
from chalicelib.auth.principal import Principal
from chalicelib.campaign_budgets.models import CampaignModel
from chalicelib.campaigns import calendar_rules as rules
from chalicelib.campaigns import calendar_schemas as s
from chalicelib.campaigns.models import CalendarNodeModel
from chalicelib.db.transactions import TransactionCancelled, Tx, transact
from chalicelib.kernel import clock
from chalicelib.kernel.errors import BadRequest, Conflict, NotFound, ValidationFailed, field_error
from chalicelib.stores.models import StoreModel


# --- reading -------------------------------------------------------------------------------
def parse_year(value: str) -> int:
    """The path's year, or 400 ``calendar_year_invalid``."""
    try:
        year = int(value)
        rules.check_year(year)
    except ValueError:
        raise BadRequest(
            f"{value!r} is not a year of the calendar: use {rules.FIRST_YEAR}-{rules.LAST_YEAR}.",
            code="calendar_year_invalid",
        ) from None
    return year


def _openings(store_id: str | None = None) -> list[rules.StoreOpening]:
    """Active stores with an opening date (one store when ``store_id`` is given)."""
    if store_id is None:
        models = list(StoreModel.by_listing.query("stores"))
    else:
        try:
            models = [StoreModel.get(store_id)]
        except DoesNotExist:
            models = []
    return [
        rules.StoreOpening(m.store_id, m.name, date.fromisoformat(m.opened_on))
        for m in models
        if m.active and m.opened_on
    ]


def _node_of(item: CalendarNodeModel) -> rules.Node:
    return rules.Node(
        item.node_id,
        item.key,
        item.name_zh,
        item.name_en,
        item.grade,
        date.fromisoformat(item.starts_on),
        date.fromisoformat(item.ends_on),
        item.kind,
        item.store_id,
    )


def _override(item: CalendarNodeModel) -> rules.Override:
    return rules.Override(_node_of(item), bool(item.hidden), int(item.version))


def _campaigns(year: int, node_id: str | None = None) -> dict[str, list[s.CalendarNodeCampaign]]:
    """Campaigns created from the year's nodes, by node: one query of the campaigns'
    listing over the year with a margin (a campaign may warm up before its node)."""
    condition = (
        CampaignModel.node_id == node_id
        if node_id
        else CampaignModel.node_id.startswith(f"{year}:")
    )
    found: dict[str, list[s.CalendarNodeCampaign]] = {}
    for c in CampaignModel.by_listing.query(
        "campaigns",
        CampaignModel.starts_key.between(f"{year - 1}-10-01", f"{year + 1}-02-01"),
        filter_condition=condition,
    ):
        found.setdefault(c.node_id or "", []).append(
            s.CalendarNodeCampaign(
                campaign_id=c.campaign_id,
                name=c.name,
                grade=c.grade,
                state=c.state,
                starts_at=c.starts_at,
                ends_at=c.ends_at,
            )
        )
    return found


def _view(
    node: rules.Node,
    version: int,
    campaigns: list[s.CalendarNodeCampaign] | None = None,
    *,
    hidden: bool = False,
) -> s.CalendarNode:
    return s.CalendarNode(
        node_id=node.node_id,
        key=node.key,
        kind=node.kind,  # type: ignore[arg-type]
        grade=node.grade,  # type: ignore[arg-type]
        name_zh=node.name_zh,
        name_en=node.name_en,
        starts_on=node.starts_on.isoformat(),
        ends_on=node.ends_on.isoformat(),
        store_id=node.store_id,
        notes=None,
        hidden=hidden,
        moved=version > 0 and node.kind != "adhoc",
        version=version,
        campaigns=campaigns or [],
    )


def year_calendar(year: int) -> s.CalendarYear:
    """The year's nodes by start, each with its campaigns, and the hidden seeds."""
    items = {i.node_id: i for i in CalendarNodeModel.query(year)}
    visible, hidden = rules.merge(
        rules.seed_nodes(year, _openings()), {k: _override(i) for k, i in items.items()}
    )
    campaigns = _campaigns(year)

    def view(node: rules.Node, version: int, is_hidden: bool) -> s.CalendarNode:
        out = _view(node, version, campaigns.get(node.node_id), hidden=is_hidden)
        item = items.get(node.node_id)
        out.notes = item.notes if item else None
        return out

    return s.CalendarYear(
        year=year,
        nodes=[view(n, v, False) for n, v in visible],
        hidden=[view(n, v, True) for n, v in hidden],
    )


def _year_of(node_id: str) -> int:
    head = node_id.split(":", 1)[0]
    if not head.isdigit():
        raise _not_found(node_id)
    try:
        return parse_year(head)
    except BadRequest:
        raise _not_found(node_id) from None


def _not_found(node_id: str) -> NotFound:
    return NotFound(f"No calendar node {node_id!r}.", code="calendar_node_not_found")


def _current(year: int, node_id: str) -> tuple[rules.Node, CalendarNodeModel | None]:
    """The node as it reads now and its stored change (None: the seed as computed)."""
    if not node_id.startswith(f"{year}:"):
        raise _not_found(node_id)
    try:
        item = CalendarNodeModel.get(year, node_id)
        return _node_of(item), item
    except DoesNotExist:
        pass
    parts = node_id.split(":")
    store_id = parts[2] if len(parts) == 3 and parts[1] == "anniversary" else None
    for seed in rules.seed_nodes(year, _openings(store_id) if store_id else ()):
        if seed.node_id == node_id:
            return seed, None
    raise _not_found(node_id)


def get_node(node_id: str) -> s.CalendarNode:
    """One node with its campaigns (the campaign editor prefills from it); a hidden
    seed is returned with ``hidden`` true."""
    year = _year_of(node_id)
    node, item = _current(year, node_id)
    out = _view(
        node,
        int(item.version) if item else 0,
        _campaigns(year, node_id).get(node_id),
        hidden=bool(item and item.hidden),
    )
    out.notes = item.notes if item else None
    return out


# --- head office's changes -----------------------------------------------------------------
def _audited(node: rules.Node, item: CalendarNodeModel | None) -> dict[str, Any]:
    fields = {k: v for k, v in asdict(node).items() if k != "node_id"}
    fields["starts_on"] = node.starts_on.isoformat()
    fields["ends_on"] = node.ends_on.isoformat()
    fields["notes"] = item.notes if item else None
    fields["hidden"] = bool(item and item.hidden)
    return fields


def _day(field: str, value: str, errors: list[dict[str, str]]) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(field_error(field, f"{value!r} is not a date"))
        return date.min


def _check_window(year: int, starts_on: date, ends_on: date, errors: list[dict[str, str]]) -> None:
    if not errors:
        errors += [
            field_error(f, reason) for f, reason in rules.window_errors(year, starts_on, ends_on)
        ]
    if errors:
        raise ValidationFailed("The calendar node has invalid fields.", details=errors)


def _item(
    year: int, node: rules.Node, version: int, principal: Principal, notes: str | None, hidden: bool
) -> CalendarNodeModel:
    return CalendarNodeModel(
        year,
        node.node_id,
        key=node.key,
        kind=node.kind,
        name_zh=node.name_zh,
        name_en=node.name_en,
        grade=node.grade,
        starts_on=node.starts_on.isoformat(),
        ends_on=node.ends_on.isoformat(),
        store_id=node.store_id,
        notes=notes,
        hidden=hidden,
        version=version,
        updated_by=principal.subject,
        updated_at=clock.now_iso(),
    )


def _write(
    principal: Principal,
    action: str,
    before: rules.Node | None,
    before_item: CalendarNodeModel | None,
    item: CalendarNodeModel,
    *,
    delete: bool = False,
) -> None:
    """Save (or delete) ``item`` if the stored node is still the one read, with its
    audit entry in the same transaction; 409 ``edit_conflict`` otherwise."""
    condition: Condition
    if before_item is None:
        condition = CalendarNodeModel.node_id.does_not_exist()
    else:
        condition = CalendarNodeModel.version == int(before_item.version)
    was = {} if before is None else _audited(before, before_item)
    after = dict.fromkeys(was) if delete else _audited(_node_of(item), item)

    def write(tx: Tx) -> None:
        if delete:
            tx.delete(item, condition=condition, label="node")
        else:
            tx.save(item, condition=condition, label="node")
        audit.add(tx, principal, action, audit.Target("calendar_node", item.node_id), was, after)

    try:
        transact(write)
    except TransactionCancelled as exc:
        if "node" in exc.failed:
            raise Conflict(
                "The calendar node was changed at the same time; reload and retry.",
                code="edit_conflict",
            ) from None
        raise


def add_node(principal: Principal, year: int, body: s.CalendarNodeCreate) -> s.CalendarNode:
    """An ad hoc node (new product, single-item special, member exclusive...)."""
    errors: list[dict[str, str]] = []
    starts_on = _day("starts_on", body.starts_on, errors)
    ends_on = _day("ends_on", body.ends_on, errors)
    _check_window(year, starts_on, ends_on, errors)
    node = rules.Node(
        f"{year}:adhoc:{secrets.token_hex(6)}",
        body.key,
        body.name_zh.strip(),
        (body.name_en or body.name_zh).strip(),
        body.grade,
        starts_on,
        ends_on,
        "adhoc",
    )
    item = _item(year, node, 1, principal, body.notes, False)
    _write(principal, "calendar_node.create", None, None, item)
    out = _view(node, 1)
    out.notes = body.notes
    return out


def update_node(
    principal: Principal, year: int, node_id: str, body: s.CalendarNodeUpdate
) -> s.CalendarNode:
    """Move, regrade, rename a node or bring a hidden seed back. ``version`` must be
    the node's as read (0 for a seed never changed): 409 ``edit_conflict`` otherwise."""
    node, item = _current(year, node_id)
    version = int(item.version) if item else 0
    if body.version != version:
        raise Conflict(
            "The calendar node was changed since you read it; reload and retry.",
            code="edit_conflict",
            details={"version": version},
        )
    fields = {f: getattr(body, f) for f in body.__struct_fields__}
    errors: list[dict[str, str]] = []
    starts_on = node.starts_on
    ends_on = node.ends_on
    if isinstance(body.starts_on, str):
        starts_on = _day("starts_on", body.starts_on, errors)
    if isinstance(body.ends_on, str):
        ends_on = _day("ends_on", body.ends_on, errors)
    if isinstance(body.hidden, bool) and body.hidden and node.kind == "adhoc":
        errors.append(field_error("hidden", "an added node is deleted, not hidden"))
    _check_window(year, starts_on, ends_on, errors)
    changes: dict[str, Any] = {"starts_on": starts_on, "ends_on": ends_on}
    for name in ("grade", "name_zh", "name_en"):
        if isinstance(fields[name], str):
            changes[name] = fields[name].strip()
    notes = item.notes if item else None
    if body.notes is not UNSET:
        notes = body.notes or None  # null or "" clears them
    hidden = bool(item and item.hidden)
    if isinstance(body.hidden, bool):
        hidden = body.hidden
    new = rules.moved(node, **changes)
    after = _item(year, new, version + 1, principal, notes, hidden)
    _write(principal, "calendar_node.update", node, item, after)
    out = _view(new, version + 1, _campaigns(year, node_id).get(node_id), hidden=hidden)
    out.notes = notes
    return out


def remove_node(principal: Principal, year: int, node_id: str) -> None:
    """Hide a seed (or an anniversary) from the year, or delete an added node. A node
    that campaigns were created from stays: 409 ``calendar_node_has_campaigns``."""
    node, item = _current(year, node_id)
    if item is not None and item.hidden:
        return  # hidden already: nothing to write
    if _campaigns(year, node_id).get(node_id):
        raise Conflict(
            "Campaigns were created from this node; end or move them first.",
            code="calendar_node_has_campaigns",
        )
    version = int(item.version) if item else 0
    if node.kind == "adhoc":
        assert item is not None  # an added node only exists stored
        _write(principal, "calendar_node.delete", node, item, item, delete=True)
        return
    after = _item(year, node, version + 1, principal, item.notes if item else None, True)
    _write(principal, "calendar_node.hide", node, item, after)
