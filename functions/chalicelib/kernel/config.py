"""Settings of the API, read once from the environment.

Everything that differs between the local stack, dev and prod is here, and it comes only
from environment variables (set by .chalice/config.json per stage, or by the local stack).
AWS endpoints are never configured in code: boto3 and PynamoDB read AWS_ENDPOINT_URL and
its per-service forms themselves.
"""

from __future__ import annotations

import os

STAGE: str = os.environ.get("DAOJIA_STAGE", "local")
RESOURCE_PREFIX: str = os.environ.get("DAOJIA_RESOURCE_PREFIX", f"daojia-{STAGE}")
REGION: str | None = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")

# Token signing: a literal secret only in local/test; in AWS the name of a Secrets Manager
# secret that the template creates with a generated value.
JWT_SECRET: str | None = os.environ.get("DAOJIA_JWT_SECRET")
JWT_SECRET_ARN: str | None = os.environ.get("DAOJIA_JWT_SECRET_ARN")
CUSTOMER_TOKEN_TTL_S = int(os.environ.get("DAOJIA_CUSTOMER_TOKEN_TTL_S", str(7 * 24 * 3600)))
# Relay tokens live long (a store PC is set up once) and are revoked by head office instead.
RELAY_TOKEN_TTL_S = int(os.environ.get("DAOJIA_RELAY_TOKEN_TTL_S", str(2 * 365 * 24 * 3600)))
# The role whose short-lived credentials a relay gets for its own queue (token vending).
RELAY_ROLE_ARN: str = os.environ.get(
    "DAOJIA_RELAY_ROLE_ARN", "arn:aws:iam::123456789012:role/daojia-local-relay-queue"
)
# Printing: a job not acknowledged within this of payment is re-sent and shown as missed
# (漏单), within 60 s of payment at the latest (printing/watchdog.py); a relay silent
# for longer than RELAY_STALE_AFTER_S is flagged. Shorter only in tests.
PRINT_ACK_WITHIN_S = int(os.environ.get("DAOJIA_PRINT_ACK_WITHIN_S", "30"))
RELAY_STALE_AFTER_S = int(os.environ.get("DAOJIA_RELAY_STALE_AFTER_S", "60"))
# How often relays are told to send heartbeats (the relays adopt it from each answer).
RELAY_HEARTBEAT_INTERVAL_S = int(os.environ.get("DAOJIA_RELAY_HEARTBEAT_INTERVAL_S", "15"))
RELAY_CREDENTIALS_TTL_S = int(os.environ.get("DAOJIA_RELAY_CREDENTIALS_TTL_S", "3600"))
STAFF_TOKEN_TTL_S = int(os.environ.get("DAOJIA_STAFF_TOKEN_TTL_S", str(12 * 3600)))

# Sign-in protection.
OTP_TTL_S = int(os.environ.get("DAOJIA_OTP_TTL_S", "300"))
OTP_RESEND_S = int(os.environ.get("DAOJIA_OTP_RESEND_S", "60"))
# Lockout is per account and client address (MAX_FAILED_SIGNINS), plus a much higher
# ceiling per account over all addresses, so that nobody locks another person out.
MAX_FAILED_SIGNINS = int(os.environ.get("DAOJIA_MAX_FAILED_SIGNINS", "5"))
MAX_FAILED_SIGNINS_PER_ACCOUNT = int(os.environ.get("DAOJIA_MAX_FAILED_SIGNINS_PER_ACCOUNT", "50"))
# A 6-digit code is far easier to guess than a password: a lower ceiling per phone.
MAX_FAILED_CODES_PER_PHONE = int(os.environ.get("DAOJIA_MAX_FAILED_CODES_PER_PHONE", "10"))
LOCKOUT_S = int(os.environ.get("DAOJIA_LOCKOUT_S", "900"))
# How long the authorizer trusts what it read about an account (revocation, disabling);
# API Gateway also caches its answer per token for AUTHORIZER_TTL_S (auth/authorizer.py).
SESSION_CACHE_S = int(os.environ.get("DAOJIA_SESSION_CACHE_S", "15"))

# SMS: "local" logs the code (and returns it in the response in the local stage only).
# Deployed stages have no default: sign-in codes must never end up in CloudWatch.
SMS_PROVIDER: str = os.environ.get("DAOJIA_SMS_PROVIDER", "local" if STAGE == "local" else "")

# Stores: the largest delivery radius a store may have; it bounds the nearby-store search.
MAX_DELIVERY_RADIUS_M = int(os.environ.get("DAOJIA_MAX_DELIVERY_RADIUS_M", "10000"))

# Members: the storefront page a member QR code opens. The receipt ticket's QR code is
# "<url>?ticket=<token>", a member's invitation link "<url>?invite=<code>"
# (members/sources.py); each deployment sets its own storefront's address.
MEMBER_JOIN_URL: str = os.environ.get("DAOJIA_MEMBER_JOIN_URL", "https://m.daojia.example/join")

# JSON answers over 1 KB are gzip-compressed for clients that accept it (http/compression.py).
# Off where API Gateway compresses instead: the REST API variant sets MinimumCompressionSize.
GZIP_RESPONSES: bool = os.environ.get("DAOJIA_GZIP_RESPONSES", "on") != "off"

# Draft approval (kernel/approvals.py): a promotion or coupon template whose budget is
# above this (fen), or unbounded, needs two approvers; at or below it, one.
TWO_APPROVERS_ABOVE_FEN = int(os.environ.get("DAOJIA_TWO_APPROVERS_ABOVE_FEN", "5000000"))


def table_name(short: str) -> str:
    """Full DynamoDB table name for a short name, e.g. ``stores`` -> ``daojia-prod-stores``."""
    return f"{RESOURCE_PREFIX}-{short}"


def queue_name(short: str) -> str:
    """Full SQS queue name for a short name."""
    return f"{RESOURCE_PREFIX}-{short}"


def bucket_name(short: str) -> str:
    """Bucket name; prod buckets get an account-unique suffix from the environment."""
    explicit = os.environ.get(f"DAOJIA_BUCKET_{short.upper().replace('-', '_')}")
    return explicit or f"{RESOURCE_PREFIX}-{short}"


def is_local() -> bool:
    """True in the local stack and in tests, where development conveniences are allowed."""
    return STAGE == "local"


# Orders.
PAYMENT_TIMEOUT_S = int(os.environ.get("DAOJIA_PAYMENT_TIMEOUT_S", "900"))  # unpaid orders expire
AUTO_COMPLETE_DAYS = int(os.environ.get("DAOJIA_AUTO_COMPLETE_DAYS", "7"))  # delivered -> completed
PAYMENT_PROVIDER: str = os.environ.get(
    "DAOJIA_PAYMENT_PROVIDER", "local" if STAGE == "local" else ""
)

# Domain events (events/dispatch.py): a failing subscriber is tried this many times in
# all (the first on the stream, the others by the retry job, waiting RETRY_BASE_S, then
# twice as long each time) before it is parked for head office.
EVENT_MAX_ATTEMPTS = int(os.environ.get("DAOJIA_EVENT_MAX_ATTEMPTS", "5"))
EVENT_RETRY_BASE_S = int(os.environ.get("DAOJIA_EVENT_RETRY_BASE_S", "60"))
