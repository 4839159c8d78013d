"""Fixtures of order-service tests: the standard catalogue and orders routed through it."""

import pytest

from oms.models import OrderStatus


@pytest.fixture
def catalogue(db):
    from orchestration.catalogue import catalogue_install

    catalogue_install()


@pytest.fixture
def stocked(merchant):
    """A warehouse stocking one product per category the catalogue's templates match."""
    from tests.factories import BatchFactory, ProductFactory, WarehouseFactory

    warehouse = WarehouseFactory(merchant=merchant)
    products = {
        "furniture": ProductFactory(merchant=merchant, category="furniture", name="Sofa"),
        "ev": ProductFactory(merchant=merchant, category="ev", name="Battery pack"),
        "fresh": ProductFactory(merchant=merchant, category="fresh", name="Milk"),
        "other": ProductFactory(merchant=merchant, category="books", name="Book"),
    }
    for product in products.values():
        BatchFactory(warehouse=warehouse, product=product, on_hand=100)
    return products


@pytest.fixture
def routed(merchant, stocked, catalogue):
    """``routed("furniture")`` -> an order of that category, routed, its services planned."""
    from tests.factories import make_order

    def build(category: str = "furniture", quantity: int = 1):
        order = make_order(merchant=merchant, lines=[(stocked[category], quantity)])
        order.refresh_from_db()
        assert order.status == OrderStatus.ROUTED
        return order

    return build
