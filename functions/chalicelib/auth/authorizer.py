"""The one Chalice authorizer, used by every protected route.

It runs as a Lambda authorizer on API Gateway (a REQUEST authorizer of the HTTP API, or a
TOKEN authorizer of the REST API, see ``auth_request_of``) and in-process under
``chalice local``. It always allows the call and passes either the verified claims or
the reason they could not be verified; the route then answers with our JSON 401/403.
That keeps error bodies identical everywhere and lets API Gateway cache one answer per
token for all routes (for ``AUTHORIZER_TTL_S``, which bounds how long a revoked session
can still be used: auth/sessions.py).
"""

from __future__ import annotations

from typing import Any

from chalice import AuthResponse, Blueprint
from chalice.app import AuthRequest  # in chalice/app.py, which Lambda packages also hold

from chalicelib.auth import sessions
from chalicelib.auth.tokens import InvalidToken, verify

authorizer_blueprint = Blueprint(__name__)


@authorizer_blueprint.authorizer(ttl_seconds=sessions.AUTHORIZER_TTL_S)
def token_authorizer(auth_request: AuthRequest) -> AuthResponse:
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
    # API Gateway context values must be strings, numbers or booleans (chalice types them
    # as str only).
    context: dict[str, Any] = {
        "role": str(claims["role"]),
        "store_id": str(claims.get("store_id") or ""),
        "exp": int(claims["exp"]),
        # The token's id: relay routes look it up to refuse revoked relay tokens.
        "jti": str(claims.get("jti") or ""),
    }
    return AuthResponse(routes=["*"], principal_id=str(claims["sub"]), context=context)


def auth_request_of(event: dict[str, Any]) -> AuthRequest:
    """The token and method ARN of an authorizer event, whichever API Gateway sent it.

    A REST API's TOKEN event and an HTTP API's payload 1.0 REQUEST event both carry
    ``authorizationToken`` and ``methodArn``; should a REQUEST event lack the token, it is
    the identity source (our only one is the Authorization header) or that header itself.
    A missing token is left to the authorizer, which answers it as ``token_missing``.
    """
    token = event.get("authorizationToken")
    if token is None:
        source = event.get("identitySource")
        token = ",".join(source) if isinstance(source, list) else source
    if token is None:
        headers = event.get("headers") or {}
        token = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    arn = event.get("methodArn") or event.get("routeArn") or ""
    return AuthRequest(str(event.get("type") or "TOKEN"), token or "", arn)


# chalice's own reading of the event (``event["authorizationToken"]``) raises on an event
# without it, which API Gateway would answer with a 500; read both shapes instead.
token_authorizer._transform_event = auth_request_of
