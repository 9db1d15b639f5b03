"""Members, issue 14 leftovers: invite a friend, the admin list's level filter, QR codes
that can be switched off (with their registration counts), the join link in config."""

from __future__ import annotations

import pytest


@pytest.fixture
def resend(monkeypatch):
    from chalicelib.kernel import config

    monkeypatch.setattr(config, "OTP_RESEND_S", 0)


# --- the join link ---------------------------------------------------------------------


def test_the_ticket_qr_link_comes_from_configuration(aws, monkeypatch):
    from chalicelib.kernel import config
    from chalicelib.members.sources import ticket_qr_payload

    default = ticket_qr_payload("sh-b", "261124ABCDEFGH")
    assert default.startswith("https://m.daojia.example/join?ticket=tk1.sh-b.261124ABCDEFGH.")
    monkeypatch.setattr(config, "MEMBER_JOIN_URL", "https://shop.example.cn/m/join?from=qr")
    link = ticket_qr_payload("sh-b", "261124ABCDEFGH")
    assert link.startswith("https://shop.example.cn/m/join?from=qr&ticket=tk1.sh-b.")
    assert link.split("ticket=", 1)[1] == default.split("ticket=", 1)[1]
