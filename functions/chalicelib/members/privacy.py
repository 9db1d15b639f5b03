"""A member's data: export (PIPL Art. 45) and account deletion (Art. 47).

Deletion erases or anonymises the personal data and keeps what accounting needs:

- erased: the phone (and its phone -> member mapping, so the phone can register again as
  a new member), nickname, birthday, gender, saved addresses, the receiver's name, phone,
  address and coordinates on every order, and order remarks (free text);
- kept, under the bare member id that no longer leads to a person: the member item with
  its registration time and source (store, shelf, staff, campaign: staff commissions and
  store attribution are accounting), orders with their amounts, lines and history,
  coupons, and the ledgers other parts keep (points, stored value): refunds, invoices and
  prepaid-card liability need them; the marketing-consent history (proof that past
  marketing was consented), with the state set to revoked;
- every session ends (token generation bumped), and the member leaves the admin list.

Each step is idempotent and the member item is erased last, so a deletion that fails
half-way is simply asked for again (the token still works until the last step)."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib.auth import sessions
from chalicelib.db.transactions import TransactionCancelled, Tx, transact
from chalicelib.identity.models import CustomerModel, CustomerPhoneModel
from chalicelib.kernel import clock
from chalicelib.kernel.errors import NotFound
from chalicelib.members import providers
from chalicelib.members import schemas as s
from chalicelib.members.models import MemberConsentModel
from chalicelib.members.service import (
    address_models,
    address_view,
    consent_history,
    member,
    profile_view,
)


def source_view(m: CustomerModel) -> s.MemberSource:
    return s.MemberSource(
        kind=m.source_kind,
        code=m.source,
        invited_by=m.invited_by,
        store_id=m.source_store_id,
        shelf=m.source_shelf,
        staff_username=m.source_staff,
        campaign_id=m.source_campaign,
        order_id=m.source_order_id,
        at=m.source_at,
    )


def export(customer_id: str) -> s.MemberExport:
    """Everything held on the member: profile, source, addresses, consent history, and
    each provider's section (orders, coupons; the ledgers once their parts add them)."""
    m = member(customer_id)
    profile = profile_view(m)
    profile.phone_masked = m.phone  # their own data, in full
    return s.MemberExport(
        exported_at=clock.now_iso(),
        profile=profile,
        source=source_view(m),
        addresses=[address_view(a, m.default_address_id) for a in address_models(customer_id)],
        consent_history=consent_history(customer_id),
        sections={
            name: providers.load(target)(customer_id) for name, target in providers.EXPORT_PROVIDERS
        },
    )


def delete_account(customer_id: str) -> s.Deleted:
    """Erase the member's personal data (see the module docstring); idempotent."""
    try:
        m = CustomerModel.get(customer_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("No such member.", code="member_not_found") from None
    if m.erased_at:
        return s.Deleted(erased_at=m.erased_at)
    for address in address_models(customer_id):
        address.delete()
    for _, target in providers.ERASERS:
        providers.load(target)(customer_id)
    at = clock.now_iso_ms()

    def write(tx: Tx) -> None:
        tx.update(
            CustomerModel(customer_id),
            actions=[
                CustomerModel.erased_at.set(at),
                CustomerModel.phone.set(""),
                CustomerModel.nickname.remove(),
                CustomerModel.birthday.remove(),
                CustomerModel.gender.remove(),
                CustomerModel.address_count.remove(),
                CustomerModel.default_address_id.remove(),
                CustomerModel.reg_month.remove(),  # leaves the admin list's index
                CustomerModel.level.remove(),  # and its level index
                CustomerModel.marketing_consent.set("revoked"),
                CustomerModel.consent_at.set(at),
                CustomerModel.consent_channel.set("account_deleted"),
                CustomerModel.token_gen.add(1),  # every token of the member stops working
            ],
            condition=CustomerModel.erased_at.does_not_exist(),
            label="member",
        )
        if m.phone:
            tx.delete(
                CustomerPhoneModel(m.phone),
                # the mapping is this member's, or already gone; never another member's
                condition=CustomerPhoneModel.phone.does_not_exist()
                | (CustomerPhoneModel.customer_id == customer_id),
                label="phone",
            )
        tx.save(
            MemberConsentModel(
                customer_id,
                f"{at}#deleted",
                granted=False,
                channel="account_deleted",
                at=at,
                actor="customer",
            ),
            condition=MemberConsentModel.at_id.does_not_exist(),
            label="consent",
        )

    try:
        transact(write)
    except TransactionCancelled as exc:
        if "member" in exc.failed:  # a racing deletion erased it first
            return delete_account(customer_id)
        raise
    sessions.forget("customer", customer_id)
    return s.Deleted(erased_at=at)
