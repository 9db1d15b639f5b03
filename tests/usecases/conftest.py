"""Use cases called directly, as plain functions, on in-process moto: no HTTP, no Chalice
test client, no moto server. Each test is milliseconds of our code plus moto; the HTTP
contract of the same behaviour stays in tests/api."""

from tests.api.conftest import catalogue, stores  # noqa: F401  (fixtures used here)
