"""Domain exceptions of channel ingestion; ``oms.api.errors`` maps them to responses."""

from oms.exceptions import DomainError


class ChannelNotFound(DomainError):
    code = "not_found"
    http_status = 404


class SignatureRejected(DomainError):
    code = "invalid_signature"
    http_status = 401


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    http_status = 413


class PayloadInvalid(DomainError):
    """The payload cannot become an order; ``details["errors"]`` maps field paths to messages."""

    code = "invalid_payload"
    http_status = 400


class NotReplayable(DomainError):
    code = "not_replayable"


class IngestDeferred(DomainError):
    """An unexpected failure after the delivery was stored: the channel should retry later."""

    code = "temporarily_unavailable"
    http_status = 503
