"""Domain exceptions raised by ``oms`` services; ``oms.api.errors`` maps them to responses."""


class DomainError(Exception):
    """Base class: ``code`` is a stable machine-readable name, the message is for people."""

    code = "domain_error"
    http_status = 409

    def __init__(self, message: str, *, text: object = None, **details: object) -> None:
        super().__init__(message)
        self.message = message
        # The same as a stored message (``oms.stored_text.Message``), for a timeline that
        # says it in the viewer's language; None when the raiser kept only the English.
        self.text = text
        self.details = details


class InsufficientStock(DomainError):
    code = "insufficient_stock"


class IllegalTransition(DomainError):
    code = "illegal_transition"


class DuplicateOrder(DomainError):
    code = "duplicate_order"


class StockBelowReserved(DomainError):
    code = "stock_below_reserved"


class InUse(DomainError):
    code = "in_use"


class ChargesRefused(DomainError):
    """A correction of an order's shipping fee or discount that cannot stand."""

    code = "charges_refused"
