"""The one Chalice authorizer, used by every protected route.

It runs as a custom (TOKEN) authorizer on API Gateway and in-process under
``chalice local``. It always allows the call and passes either the verified claims or
the reason they could not be verified; the route then answers with our JSON 401/403.
That keeps error bodies identical everywhere and lets API Gateway cache one answer per
token for all routes (for ``AUTHORIZER_TTL_S``, which bounds how long a revoked session
can still be used: auth/sessions.py).
"""

from __future__ import annotations

from chalice import AuthResponse, Blueprint

from chalicelib.auth import sessions
from chalicelib.auth.tokens import InvalidToken, verify

authorizer_blueprint = Blueprint(__name__)


@authorizer_blueprint.authorizer(ttl_seconds=sessions.AUTHORIZER_TTL_S)
def token_authorizer(auth_request):  # type: ignore[no-untyped-def]
    raw = (auth_request.token or "").strip()
    scheme, _, token = raw.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return AuthResponse(
            routes=["*"], principal_id="anonymous", context={"auth_error": "token_missing"}
        )
    try:
        claims = verify(token.strip())
    except InvalidToken as exc:
        return AuthResponse(
            routes=["*"], principal_id="anonymous", context={"auth_error": exc.code}
        )
    ended = sessions.problem(claims)  # disabled, signed out everywhere, password reset
    if ended:
        return AuthResponse(routes=["*"], principal_id="anonymous", context={"auth_error": ended})
    # API Gateway context values must be strings, numbers or booleans.
    return AuthResponse(
        routes=["*"],
        principal_id=str(claims["sub"]),
        context={
            "role": str(claims["role"]),
            "store_id": str(claims.get("store_id") or ""),
            "exp": int(claims["exp"]),
            # The token's id: relay routes look it up to refuse revoked relay tokens.
            "jti": str(claims.get("jti") or ""),
        },
    )
