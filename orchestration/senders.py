"""One-time code senders: how a code reaches the phone on record.

``OMS_OTP_SENDER`` names the class (dotted path). The development sender logs the code with the
phone masked and keeps the last messages in memory, so a developer (or a browser test running
in the same process) can read it; production plugs in an SMS gateway with the same interface.
"""

import logging
from collections import deque
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

from customers.matching import mask_phone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SentCode:
    phone_masked: str
    code: str
    purpose: str


class DevelopmentSender:
    """Logs the code; never sends anything."""

    outbox: deque[SentCode] = deque(maxlen=100)

    def send_code(self, *, phone: str, code: str, purpose: str) -> None:
        masked = mask_phone(phone)
        self.outbox.append(SentCode(masked, code, purpose))
        logger.warning("one-time code for %s (%s): %s", masked, purpose, code)


def get_sender():
    return import_string(settings.OMS_OTP_SENDER)()


class LogNotifier:
    """Development SLA notifier: logs the breach for the recipients (staff also see the board)."""

    def notify_breach(self, *, alert, recipients: list[str]) -> None:
        logger.warning(
            "SLA breach alert %s for %s: %s", alert.pk, ", ".join(recipients), alert.summary
        )


def get_notifier():
    return import_string(settings.OMS_SLA_NOTIFIER)()
