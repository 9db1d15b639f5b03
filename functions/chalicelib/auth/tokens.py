"""Signed, expiring access tokens (HS256 JWT).

PyJWT is imported on first use: public routes (health, stores, catalogue) never pay for
it on a cold start.
"""

from __future__ import annotations

import secrets
import time
from functools import lru_cache
from typing import Any

from chalicelib.kernel import config

ISSUER = "daojia"


class InvalidToken(Exception):
    """The token is missing, malformed, forged or expired; ``code`` says which."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@lru_cache(maxsize=1)
def signing_key() -> str:
    """The HS256 key: from the environment locally, from Secrets Manager in AWS."""
    if config.JWT_SECRET:
        return config.JWT_SECRET
    if config.JWT_SECRET_ARN:
        import boto3  # only on AWS cold starts that sign or verify a token

        client = boto3.client("secretsmanager", region_name=config.REGION)
        return client.get_secret_value(SecretId=config.JWT_SECRET_ARN)["SecretString"]
    raise RuntimeError(
        "No token signing key: set DAOJIA_JWT_SECRET (local) or DAOJIA_JWT_SECRET_ARN (AWS)."
    )


def issue(
    subject: str,
    role: str,
    store_id: str | None,
    ttl_s: int,
    token_id: str | None = None,
    generation: int = 0,
) -> tuple[str, int]:
    """Sign a token for a principal; returns (token, expiry as epoch seconds).
    ``token_id`` becomes the ``jti`` (random when not given); ``generation`` the ``gen``
    claim, the account's token generation at sign-in (auth/sessions.py)."""
    import jwt

    now = int(time.time())
    exp = now + ttl_s
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": config.STAGE,
        "sub": subject,
        "role": role,
        "iat": now,
        "exp": exp,
        "jti": token_id or secrets.token_hex(8),
    }
    if store_id:
        claims["store_id"] = store_id
    if generation:
        claims["gen"] = generation
    return jwt.encode(claims, signing_key(), algorithm="HS256"), exp


def verify(token: str) -> dict[str, Any]:
    """Verify signature, issuer, audience (the stage) and expiry; return the claims."""
    import jwt

    try:
        return jwt.decode(
            token,
            signing_key(),
            algorithms=["HS256"],
            issuer=ISSUER,
            audience=config.STAGE,
            options={"require": ["exp", "sub", "role"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("token_expired") from None
    except jwt.PyJWTError:
        raise InvalidToken("token_invalid") from None
