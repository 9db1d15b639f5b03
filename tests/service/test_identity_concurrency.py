"""Races on sign-in, against a moto server."""

from concurrent.futures import ThreadPoolExecutor

from chalicelib.identity.models import CustomerModel, CustomerPhoneModel

PHONE = "13912345678"


def test_concurrent_first_sign_ins_create_one_member(aws_server):
    """Several devices of one phone registering at once: the phone claim decides."""
    from chalicelib.identity.service import register_customer

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: register_customer(PHONE), range(32)))
    assert len({m.customer_id for m, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert CustomerModel.count() == 1 and CustomerPhoneModel.count() == 1


def test_a_code_is_redeemed_once_under_concurrency(aws_server):
    """Twenty simultaneous verifications of one code: exactly one session."""
    from chalicelib.identity import service as identity
    from chalicelib.identity.schemas import OtpVerify
    from chalicelib.kernel.errors import ApiError

    code = identity.request_otp(PHONE).dev_code

    def verify(_):
        try:
            identity.verify_otp(OtpVerify(phone=PHONE, code=code))
            return "ok"
        except ApiError as err:
            return err.code

    with ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(verify, range(20)))
    assert outcomes.count("ok") == 1
    assert set(outcomes) <= {"ok", "otp_invalid"}


def test_racing_failed_sign_ins_are_all_counted(aws_server):
    """Thirty wrong passwords at once from thirty addresses: each is counted on the
    account-wide counter (a window opened by a racing failure is joined, not reset)."""
    from chalicelib.identity import signin_guard
    from chalicelib.identity.models import SigninGuardModel

    with ThreadPoolExecutor(16) as pool:
        list(
            pool.map(
                lambda n: signin_guard.record_failure(
                    signin_guard.for_staff("sh-a-picker", f"192.0.2.{n}")
                ),
                range(30),
            )
        )
    account = SigninGuardModel.get("staff:sh-a-picker", consistent_read=True)
    assert (int(account.failures), int(account.locked_until)) == (30, 0)
    per_address = [
        SigninGuardModel.get(f"staff:sh-a-picker#0@192.0.2.{n}", consistent_read=True)
        for n in range(30)
    ]
    assert {int(g.failures) for g in per_address} == {1}
