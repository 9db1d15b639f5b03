"""Tags (标签, issue 15 item 2): automatic tags from head office's rules, evaluated on a
member's aggregates and member item (customers/tag_rules.py), and manual tags added by
head office and store staff (``member_tags``). docs/segments.md, "Tags".

Reads: a member's tags are one BatchGetItem (aggregates, member, paid card) and one Query
of their manual tags; the member list's tag filter reads the ``by_tag`` index (KEYS_ONLY)
a page at a time. Writes: adding a tag is one transaction (the tag on condition it does
not exist yet, the audit entry), so adding it again, or twice at once, leaves one item
and one entry. The nightly segment snapshot reads every manual tag with a parallel Scan
(``scan_manual_tags``): never a request path.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.audit import service as audit
from chalicelib.auth.principal import Principal
from chalicelib.customers import aggregates, tag_rules
from chalicelib.customers import schemas as s
from chalicelib.customers.models import MemberStatsModel, MemberTagModel
from chalicelib.customers.rules import TZ
from chalicelib.customers.schemas import TagRule as TagRule  # the snapshot imports it here
from chalicelib.db.transactions import TransactionCancelled, Tx, batch_get, transact
from chalicelib.db.writes import is_condition_failure
from chalicelib.identity.models import CustomerModel
from chalicelib.kernel import clock
from chalicelib.kernel.errors import Conflict, Forbidden, NotFound
from chalicelib.loyalty import paid_membership, programme_settings
from chalicelib.loyalty.paid_models import PaidCardModel

SETTINGS_AREA = "tags"  # an item of loyalty_settings (programme_settings.put/read)


# --- head office's rules ----------------------------------------------------------------


def rules() -> list[TagRule]:
    """Head office's rules (the issue's examples until it sets its own)."""
    return programme_settings.read(SETTINGS_AREA, s.TagRules).rules


def settings() -> s.TagRules:
    return programme_settings.read(SETTINGS_AREA, s.TagRules)


def put_settings(principal: Principal, body: s.TagRules) -> s.TagRules:
    """Replace the rules (422 naming each bad field), audited, version-conditioned."""
    tag_rules.check_rules(body.rules)
    return programme_settings.put(principal, SETTINGS_AREA, body, action="customers.tag_rules")


def auto_tags(
    rule_list: list[TagRule],
    stats: MemberStatsModel | None,
    member: CustomerModel,
    *,
    paid: bool,
    today: date,
) -> list[str]:
    """The automatic tags ``member`` has on ``today`` (the chain's local day). No I/O:
    ``stats`` is the member's ``member_stats`` item as read by the caller (None: no
    completed order yet); ``paid``: a paid membership running now."""
    figs = tag_rules.figures(
        aggregates.decode(stats),
        level=member.level,
        source_kind=member.source_kind,
        registered_at=member.created_at,
        paid=paid,
        today=today,
    )
    return tag_rules.evaluate(rule_list, figs)


# --- manual tags ------------------------------------------------------------------------


def _view(t: MemberTagModel) -> s.ManualTag:
    return s.ManualTag(tag=t.tag, by=t.by, at=t.at, store_id=t.store_id)


def manual_tags(customer_id: str, consistent: bool = False) -> list[MemberTagModel]:
    """The member's manual tags (one Query: at most 20 items)."""
    return list(MemberTagModel.query(customer_id, consistent_read=consistent))


def _member(principal: Principal, customer_id: str) -> CustomerModel:
    """The member, if the caller may see them: head office any member, store staff and
    managers members of their home store (as the member profile, members/admin.py)."""
    try:
        m = CustomerModel.get(customer_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such member.", code="member_not_found") from None
    if m.erased_at:
        raise NotFound("No such member.", code="member_not_found")
    _check_access(principal, m)
    return m


def _check_access(principal: Principal, m: CustomerModel) -> None:
    if not principal.is_hq and m.home_store_id != principal.store_id:
        raise Forbidden("That member belongs to another store.", code="other_store")


def member_tags(principal: Principal, customer_id: str) -> s.MemberTags:
    """Automatic tags evaluated now (one BatchGetItem: aggregates, member, paid card) and
    the manual ones (one Query)."""
    got = batch_get(
        {
            CustomerModel: [{"customer_id": customer_id}],
            MemberStatsModel: [{"customer_id": customer_id}],
            **paid_membership.card_keys(customer_id),
        },
        consistent=False,
    )
    members = got.of(CustomerModel)
    if not members or members[0].erased_at:
        raise NotFound("No such member.", code="member_not_found")
    m = members[0]
    _check_access(principal, m)
    stats = next(iter(got.of(MemberStatsModel)), None)
    card = next(iter(got.of(PaidCardModel)), None)
    now = clock.now()
    auto = auto_tags(
        rules(),
        stats,
        m,
        paid=paid_membership.running(card, now),
        today=now.astimezone(TZ).date(),
    )
    manual = sorted(manual_tags(customer_id), key=lambda t: (t.at, t.tag))
    return s.MemberTags(customer_id=customer_id, auto=auto, manual=[_view(t) for t in manual])


def add_tag(principal: Principal, customer_id: str, tag: str) -> s.ManualTag:
    """Tag the member (audited in the same transaction). A tag already there writes
    nothing and answers the tag as it is; 409 ``too_many_tags`` beyond 20."""
    tag_rules.check_tag(tag)
    m = _member(principal, customer_id)
    have = {t.tag: t for t in manual_tags(customer_id, consistent=True)}
    if tag in have:
        return _view(have[tag])
    if len(have) >= tag_rules.MAX_MANUAL_TAGS:
        raise Conflict(
            f"A member has at most {tag_rules.MAX_MANUAL_TAGS} manual tags; remove one first.",
            code="too_many_tags",
        )
    item = MemberTagModel(
        customer_id,
        tag,
        by=principal.subject,
        at=clock.now_iso(),
        store_id=None if principal.is_hq else principal.store_id,
    )
    entry = audit.new_entry(
        principal,
        "customers.tag_added",
        audit.Target("member", customer_id, m.home_store_id),
        {},
        {"tag": tag},
        always=True,
    )

    def build(tx: Tx) -> None:
        tx.save(item, condition=MemberTagModel.tag.does_not_exist(), label="tag")
        audit.with_entry(tx, entry)

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "tag" not in exc.failed:
            raise
        # added meanwhile (the same tag at once from another request): that one stands
        return _view(MemberTagModel.get(customer_id, tag, consistent_read=True))
    return _view(item)


def add_tags(principal: Principal, customer_id: str, tags: list[str]) -> list[s.ManualTag]:
    """Several tags, each as ``add_tag`` (a bulk action tags members one by one)."""
    return [add_tag(principal, customer_id, t) for t in tags]


def add_manual_tags(customer_ids: list[str], tag: str, *, by: str) -> tuple[int, int]:
    """A segment's bulk "add tag" (customers/segments.py): the tag on each member, written
    only if absent (a redelivered chunk writes nothing new). The action itself is the
    audit entry (one per action, not per member). A member already at the manual-tag
    limit is not tagged and counts as failed. Returns (tagged or already tagged, failed)."""
    tag_rules.check_tag(tag)
    now = clock.now_iso()
    tagged = failed = 0
    for customer_id in customer_ids:
        if MemberTagModel.count(customer_id) >= tag_rules.MAX_MANUAL_TAGS:
            try:
                MemberTagModel.get(customer_id, tag)
                tagged += 1  # already there: nothing to add
            except DoesNotExist:
                failed += 1
            continue
        try:
            MemberTagModel(customer_id, tag, by=by, at=now, store_id=None).save(
                condition=MemberTagModel.tag.does_not_exist()
            )
        except PutError as exc:
            if not is_condition_failure(exc):
                raise
        tagged += 1
    return tagged, failed


def remove_tag(principal: Principal, customer_id: str, tag: str) -> None:
    """Untag the member (audited in the same transaction); a tag not there writes nothing."""
    m = _member(principal, customer_id)
    entry = audit.new_entry(
        principal,
        "customers.tag_removed",
        audit.Target("member", customer_id, m.home_store_id),
        {"tag": tag},
        {"tag": None},
        always=True,
    )

    def build(tx: Tx) -> None:
        tx.delete(
            MemberTagModel(customer_id, tag),
            condition=MemberTagModel.tag.exists(),
            label="tag",
        )
        audit.with_entry(tx, entry)

    try:
        transact(build)
    except TransactionCancelled as exc:
        if "tag" not in exc.failed:
            raise


# --- reading by tag ---------------------------------------------------------------------


def tagged(tag: str, after: str | None, count: int) -> tuple[list[str], str | None]:
    """Up to ``count`` members with the manual tag, by member id after ``after`` (the
    ``by_tag`` index, eventually consistent), and the last id read when more may follow.
    The member list's tag filter (members/admin.py, through members/providers.py)."""
    m = MemberTagModel
    cond = m.customer_id > after if after else None
    it = m.by_tag.query(tag, cond, limit=count, page_size=count)
    ids = [k.customer_id for k in it]
    more = len(ids) == count and it.last_evaluated_key is not None
    return ids, (ids[-1] if more and ids else None)


def scan_manual_tags(segment: int, total_segments: int) -> Iterator[tuple[str, str]]:
    """Every manual tag as (customer_id, tag), one segment of a parallel Scan: for the
    nightly segment snapshot only, never a request path."""
    for t in MemberTagModel.scan(
        segment=segment, total_segments=total_segments, attributes_to_get=["customer_id", "tag"]
    ):
        yield t.customer_id, t.tag
