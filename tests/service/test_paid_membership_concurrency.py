"""Paid membership races against a moto server: concurrent trial grants give one trial;
concurrent copies of one payment notice activate the card once."""

from concurrent.futures import ThreadPoolExecutor


def _plan():
    from chalicelib.kernel import clock
    from chalicelib.loyalty.paid_models import PaidPlanModel

    PaidPlanModel(
        "plan-month", name="月卡", period="month", price_fen=1500, created_at=clock.now_iso()
    ).save()


def test_twenty_concurrent_trial_grants_give_one(aws_server):
    from chalicelib.kernel.errors import Conflict
    from chalicelib.loyalty import paid_membership as paid
    from chalicelib.loyalty.paid_models import PaidCardEntryModel

    _plan()

    def grant(n):
        try:
            paid.grant_trial("c-1", actor="hq-admin", reason=f"grant {n}")
            return "ok"
        except Conflict as exc:
            return exc.code

    with ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(grant, range(20)))
    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) <= {"ok", "trial_used", "already_member"}
    assert [e.ref for e in PaidCardEntryModel.query("c-1")] == ["trial"]


def test_concurrent_copies_of_a_notice_activate_once(aws_server):
    from chalicelib.auth.principal import Principal
    from chalicelib.loyalty import paid_membership as paid
    from chalicelib.loyalty import paid_schemas as s
    from chalicelib.loyalty.paid_models import PaidCardEntryModel, PaidCardModel
    from chalicelib.orders import payments
    from chalicelib.orders.payment_providers import PaymentNotice

    _plan()
    principal = Principal(subject="c-1", role="customer", store_id=None)
    purchase, _ = paid.create_purchase(
        principal, "pm-key-0001", s.PurchaseCreate(plan_id="plan-month")
    )
    from chalicelib.kernel import clock

    notice = PaymentNotice("local", "tx-1", purchase.purchase_id, 1500, clock.now_iso())
    with ThreadPoolExecutor(10) as pool:
        acks = list(pool.map(lambda _: payments.record_payment(notice).message, range(10)))
    assert acks.count("paid") == 1, acks
    assert [e.ref for e in PaidCardEntryModel.query("c-1")] == [f"buy:{purchase.purchase_id}"]
    assert int(PaidCardModel.get("c-1").version) == 1
