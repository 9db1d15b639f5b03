"""Two head-office editors save the same coupon template at once, both from version 0:
exactly one edit lands, the other is a 409 (no lost update)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import msgspec
from chalicelib.auth.principal import Principal
from chalicelib.coupons import schemas as s
from chalicelib.coupons import service
from chalicelib.coupons.models import CouponTemplateModel
from chalicelib.kernel.errors import ApiError

from tests.publishing import publish_template

HQ = Principal("hq-admin", "hq_admin")


def test_two_editors_from_one_version_one_wins(aws_server):
    body = {
        "name": "满99减20",
        "kind": "amount_off",
        "threshold_fen": 9900,
        "amount_off_fen": 2000,
        "days_after_claim": 7,
    }
    t = publish_template(service.create_template(HQ, msgspec.convert(body, s.TemplateCreate)))
    names = [f"编辑{i}" for i in range(6)]
    barrier = threading.Barrier(len(names))

    def edit(name: str):
        barrier.wait()
        try:
            return service.update_template(
                HQ, t.template_id, s.TemplateUpdate(name=name, expected_version=0)
            ).name
        except ApiError as err:
            return err.code

    with ThreadPoolExecutor(len(names)) as pool:
        results = list(pool.map(edit, names))
    winners = [r for r in results if r in names]
    assert len(winners) == 1
    assert results.count("coupon_template_changed") == len(names) - 1
    saved = CouponTemplateModel.get(t.template_id, consistent_read=True)
    assert (saved.name, int(saved.version)) == (winners[0], 1)
