"""Browser tests reuse the order-service fixtures (catalogue, stocked products, routed orders)."""

from tests.orchestration.conftest import catalogue, routed, stocked  # noqa: F401
