"""The customer master. Minimal for now: orders point at a golden customer."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Customer(models.Model):
    merchant = models.ForeignKey("oms.Merchant", on_delete=models.CASCADE, related_name="customers")
    display_name = models.CharField(_("display name"), max_length=120, blank=True)
    phone_masked = models.CharField(_("phone (masked)"), max_length=32, blank=True)
    vip = models.BooleanField(_("VIP"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.display_name or f"customer #{self.pk}"
