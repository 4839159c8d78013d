"""Domain exceptions of order services; the API's exception handler maps them to responses."""

from oms.exceptions import DomainError
from oms.stored_text import Message


class TemplateInvalid(DomainError):
    code = "template_invalid"
    http_status = 400


class InterventionNotAllowed(DomainError):
    code = "intervention_not_allowed"


class InvalidSlot(DomainError):
    code = "invalid_slot"
    http_status = 400


class CodeRejected(DomainError):
    code = "code_rejected"
    http_status = 400


class WebhookNotResent(DomainError):
    code = "webhook_not_resent"


class StepNotCompletable(DomainError):
    code = "step_not_completable"


class HandlerTemporaryFailure(Exception):
    """A handler could not finish now (external system down); the step is retried with backoff.

    ``text`` says the same as a stored message (``oms.stored_text``), so the timeline can show
    it in the viewer's language; the English ``message`` goes to logs and ``last_error``.
    """

    def __init__(
        self, message: str, *, external_system: str = "", text: "Message | None" = None
    ) -> None:
        super().__init__(message)
        self.external_system = external_system
        self.text = text
