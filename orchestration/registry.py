"""The registry of service handlers: atom handler codes to the functions that perform them.

``orchestration.handlers`` registers into it when the app starts (``OrchestrationConfig.ready``
imports that module, in web processes and Celery workers alike); models, services and
selectors only look handlers up here, so they never import the handlers and the handlers may
import the models. It imports no Django: a step is anything with the four attributes of
``StepRecord``.

``register`` also makes every handler safe to run twice: when the step already holds a result
for its current plan version, that result is returned and the handler is not called again.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class StepRecord(Protocol):
    """What the registry reads of a service step (``orchestration.models.ServiceStep``)."""

    result: Any
    plan_version: int
    reference: str
    eta: datetime | None


@dataclass(frozen=True)
class HandlerResult:
    reference: str
    data: dict = field(default_factory=dict)
    eta: datetime | None = None
    waits_for_confirmation: bool = False
    message: str = ""  # English, for staff logs
    # What the customer is told, rendered at display time (orchestration.customer_text)
    message_code: str = ""
    message_params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Handler:
    code: str
    label: str
    run: Callable[..., HandlerResult]
    interventions: frozenset[str] = frozenset()
    completes_on_delivery: bool = False


class UnknownHandler(LookupError):
    """No handler is registered under this code (an atom names a handler that is gone)."""

    def __init__(self, code: str) -> None:
        super().__init__(f"unknown handler {code!r}")
        self.code = code


HANDLERS: dict[str, Handler] = {}


def register(
    code: str,
    label: str,
    *,
    interventions: tuple[str, ...] = (),
    completes_on_delivery: bool = False,
) -> Callable[[Callable[..., HandlerResult]], Callable[..., HandlerResult]]:
    """Add a handler under ``code``; its stored result is reused for the same plan version."""

    def decorate(fn: Callable[..., HandlerResult]) -> Callable[..., HandlerResult]:
        def run(*, step: StepRecord, params: dict, now: datetime) -> HandlerResult:
            stored = step.result or {}
            if stored.get("plan_version") == step.plan_version and step.reference:
                eta = datetime.fromisoformat(stored["eta"]) if stored.get("eta") else step.eta
                return HandlerResult(
                    reference=step.reference,
                    data=stored.get("data", {}),
                    eta=eta,
                    waits_for_confirmation=bool(stored.get("waits_for_confirmation")),
                    message=stored.get("message", ""),
                    message_code=stored.get("message_code", ""),
                    message_params=stored.get("message_params", {}),
                )
            return fn(step=step, params=params, now=now)

        HANDLERS[code] = Handler(
            code, label, run, frozenset(interventions), completes_on_delivery=completes_on_delivery
        )
        return fn

    return decorate


def lookup(code: str) -> Handler:
    """The handler registered under ``code``; ``UnknownHandler`` when there is none."""
    try:
        return HANDLERS[code]
    except KeyError:
        raise UnknownHandler(code) from None


def is_registered(code: str) -> bool:
    return code in HANDLERS


def handlers() -> list[Handler]:
    return [HANDLERS[code] for code in sorted(HANDLERS)]


def choices() -> list[tuple[str, str]]:
    """(code, label) of every handler, by code: the choices admin offers for an atom."""
    return [(handler.code, handler.label) for handler in handlers()]
