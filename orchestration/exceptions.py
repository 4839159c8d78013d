"""Domain exceptions of order services; the API's exception handler maps them to responses."""

from oms.exceptions import DomainError


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


class StepNotCompletable(DomainError):
    code = "step_not_completable"


class HandlerTemporaryFailure(Exception):
    """A handler could not finish now (external system down); the step is retried with backoff."""

    def __init__(self, message: str, *, external_system: str = "") -> None:
        super().__init__(message)
        self.external_system = external_system
