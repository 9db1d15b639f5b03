"""Sending one-time codes by SMS, behind a small interface.

A production provider (Aliyun SMS, Tencent Cloud SMS, ...) implements ``SmsProvider`` and
is selected by DAOJIA_SMS_PROVIDER. The local provider only logs, with the phone masked.
"""

from __future__ import annotations

import logging
from typing import Protocol

from chalicelib.kernel import config
from chalicelib.kernel.errors import ServiceUnavailable
from chalicelib.kernel.privacy import mask_phone

log = logging.getLogger("daojia.sms")


class SmsProvider(Protocol):
    def send_code(self, phone: str, code: str) -> None:
        """Deliver a sign-in code to a phone, or raise."""


class LocalSmsProvider:
    """Development provider: the code goes to the log (and, in the local stage only, to
    the API response as ``dev_code``)."""

    exposes_code = True

    def send_code(self, phone: str, code: str) -> None:
        log.warning("local SMS to %s: your Daojia code is %s", mask_phone(phone), code)


def provider() -> SmsProvider:
    """The configured provider; 503 when none is configured (never a silent log)."""
    if config.SMS_PROVIDER == "local":
        return LocalSmsProvider()
    log.error("no SMS provider: set DAOJIA_SMS_PROVIDER (got %r)", config.SMS_PROVIDER)
    raise ServiceUnavailable(
        "Sign-in codes cannot be sent right now; try again later.", code="sms_unavailable"
    )


def code_visible_in_response() -> bool:
    """The code is returned to the caller only in the local stage with the local provider."""
    return config.is_local() and config.SMS_PROVIDER == "local"
