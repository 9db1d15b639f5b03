"""Races on a member's source, against a moto server: a QR code's count under concurrent
registrations and a switch-off; the level copy under concurrent growth."""

from concurrent.futures import ThreadPoolExecutor

from chalicelib.identity.models import CustomerModel, CustomerPhoneModel


def _code(active: bool = True) -> str:
    from chalicelib.kernel import clock
    from chalicelib.members.models import MemberQrCodeModel

    now = clock.now_iso()
    MemberQrCodeModel(
        "RACE2345",
        kind="campaign",
        label="race",
        campaign_id="race",
        active=active,
        listing="qr",
        created_at=now,
        created_key=f"{now}#RACE2345",
        created_by="hq-admin",
    ).save()
    return "RACE2345"


def test_concurrent_registrations_through_a_code_count_each_member_once(aws_server):
    """Twenty new members and the same twenty again (their second sign-in), all at once:
    the code counts twenty."""
    from chalicelib.identity.service import register_customer, resolve_source
    from chalicelib.members.models import MemberQrCodeModel

    attrs = resolve_source(_code())
    phones = [f"1390000{n:04d}" for n in range(20)] * 2
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda p: register_customer(p, source_attrs=attrs), phones))
    assert sum(created for _, created in results) == 20
    assert int(MemberQrCodeModel.get("RACE2345", consistent_read=True).registered) == 20
    assert CustomerModel.count() == 20 and CustomerPhoneModel.count() == 20


def test_a_switch_off_racing_registrations_leaves_count_and_members_equal(aws_server):
    """Registrations resolved while the code was active, racing its switch-off: every
    member written is counted, and none is written after the switch-off committed."""
    from chalicelib.identity.service import register_customer, resolve_source
    from chalicelib.kernel.errors import ValidationFailed
    from chalicelib.members.models import MemberQrCodeModel

    attrs = resolve_source(_code())

    def register(n: int) -> str:
        if n == 10:
            MemberQrCodeModel("RACE2345").update(actions=[MemberQrCodeModel.active.set(False)])
            return "off"
        try:
            register_customer(f"1390000{n:04d}", source_attrs=attrs)
            return "ok"
        except ValidationFailed as err:
            return err.code

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(register, range(30)))
    assert set(outcomes) <= {"ok", "off", "unknown_source"}
    registered = int(MemberQrCodeModel.get("RACE2345", consistent_read=True).registered or 0)
    assert registered == outcomes.count("ok") == CustomerModel.count() == CustomerPhoneModel.count()
    assert register(31) == "unknown_source"  # after it: nobody


def test_concurrent_growth_leaves_the_members_level_equal_to_the_accounts(aws_server):
    from chalicelib.identity.service import register_customer
    from chalicelib.loyalty import growth
    from chalicelib.loyalty.models import LoyaltyAccountModel

    member, _ = register_customer("13900000001")
    cid = member.customer_id
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda n: growth.add_growth(
                    cid, 150, ref=f"task:t{n}:once", kind="task", reason="r"
                ),
                range(16),
            )
        )
    account = LoyaltyAccountModel.get(cid, consistent_read=True)
    assert int(account.total) == 2400 and account.level == "V3"
    assert CustomerModel.get(cid, consistent_read=True).level == "V3"
