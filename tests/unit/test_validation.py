import msgspec
import pytest
from chalicelib.http.validation import parse_json, parse_query
from chalicelib.kernel.errors import BadRequest, ValidationFailed
from chalicelib.stores.schemas import NearbyQuery, StoreCreate

GOOD = {
    "store_id": "sh-test",
    "name": "测试店",
    "address": "上海",
    "lat": 31.2,
    "lng": 121.4,
    "radius_m": 3000,
    "minimum_order_fen": 2000,
    "delivery_fee": {"base_fee_fen": 500},
    "hours": [{"day": 0, "open": "08:00", "close": "22:00"}],
}


def test_a_valid_body_parses():
    store = parse_json(msgspec.json.encode(GOOD), StoreCreate)
    assert store.timezone == "Asia/Shanghai" and store.active is True


def test_every_bad_field_is_named():
    bad = dict(
        GOOD,
        lat=91,
        minimum_order_fen=-1,
        radius_m="far",
        colour="red",
        delivery_fee={"base_fee_fen": -5},
        hours=[{"day": 9, "open": "8am", "close": "22:00"}],
    )
    del bad["name"]
    with pytest.raises(ValidationFailed) as info:
        parse_json(msgspec.json.encode(bad), StoreCreate)
    fields = {d["field"] for d in info.value.details}
    assert fields == {
        "name",
        "lat",
        "minimum_order_fen",
        "radius_m",
        "colour",
        "delivery_fee.base_fee_fen",
        "hours[0].day",
    }
    assert info.value.status == 422


def test_money_must_be_an_integer_not_a_float():
    with pytest.raises(ValidationFailed) as info:
        parse_json(msgspec.json.encode(dict(GOOD, minimum_order_fen=20.5)), StoreCreate)
    assert info.value.details == [
        {"field": "minimum_order_fen", "reason": "Expected `int`, got `float`"}
    ]


@pytest.mark.parametrize("raw", [b"{bad", b"", None])
def test_malformed_or_missing_json_is_400(raw):
    with pytest.raises(BadRequest):
        parse_json(raw, StoreCreate)


def test_a_json_array_instead_of_an_object():
    with pytest.raises(ValidationFailed) as info:
        parse_json(b"[1]", StoreCreate)
    assert info.value.details[0]["field"] == "(body)"


def test_query_strings_are_converted_and_range_checked():
    q = parse_query({"lat": "31.2", "lng": "121.4"}, NearbyQuery)
    assert (q.lat, q.lng, q.include_closed) == (31.2, 121.4, True)
    with pytest.raises(ValidationFailed) as info:
        parse_query({"lat": "95", "lng": "east"}, NearbyQuery)
    assert {d["field"] for d in info.value.details} == {"lat", "lng"}
