import time

import pytest
from chalicelib.auth import tokens
from chalicelib.auth.passwords import hash_password, verify_password
from chalicelib.auth.principal import Principal, principal_from_context
from chalicelib.kernel.errors import Unauthorized


def test_password_hash_round_trip_and_salting():
    h = hash_password("correct horse battery")
    assert h.startswith("scrypt$") and "correct" not in h
    assert verify_password("correct horse battery", h)
    assert not verify_password("wrong", h)
    assert hash_password("correct horse battery") != h
    assert not verify_password("x", "not-a-hash")


def test_token_round_trip_and_tampering():
    token, exp = tokens.issue("alice", "store_manager", "sh-a", 60)
    claims = tokens.verify(token)
    assert (claims["sub"], claims["role"], claims["store_id"]) == ("alice", "store_manager", "sh-a")
    assert exp > time.time()
    head, body, sig = token.split(".")
    with pytest.raises(tokens.InvalidToken) as info:
        tokens.verify(f"{head}.{body}.{sig[:-2]}xx")
    assert info.value.code == "token_invalid"


def test_expired_token():
    token, _ = tokens.issue("alice", "customer", None, -10)
    with pytest.raises(tokens.InvalidToken) as info:
        tokens.verify(token)
    assert info.value.code == "token_expired"


def test_principal_from_context():
    p = principal_from_context(
        {"authorizer": {"principalId": "bob", "role": "hq_admin", "store_id": ""}}
    )
    assert p == Principal("bob", "hq_admin", None)
    with pytest.raises(Unauthorized):
        principal_from_context({"authorizer": {"auth_error": "token_expired"}})
    with pytest.raises(Unauthorized):
        principal_from_context({})
    with pytest.raises(Unauthorized):  # a cached authorizer answer past the token's expiry
        principal_from_context({"authorizer": {"principalId": "b", "role": "customer", "exp": 1}})


def test_store_scope():
    manager = Principal("m", "store_manager", "sh-a")
    assert manager.can_act_for_store("sh-a") and not manager.can_act_for_store("sh-b")
    assert Principal("h", "hq_admin").can_act_for_store("sh-b")
    assert not Principal("c", "customer").can_act_for_store("sh-a")
