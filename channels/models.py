"""Sales channels. Minimal for now: orders point at the channel they came from."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChannelKind(models.TextChoices):
    DOUYIN = "douyin", _("Douyin shop")
    WECHAT_MINI = "wechat_mini", _("WeChat mini-program")
    TMALL = "tmall", _("Tmall")
    STORE_POS = "store_pos", _("Store POS")
    B2B = "b2b", _("B2B wholesale")
    GROUP_BUY = "group_buy", _("Community group-buying")
    API = "api", _("Direct API")


class SalesChannel(models.Model):
    merchant = models.ForeignKey("oms.Merchant", on_delete=models.CASCADE, related_name="channels")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=ChannelKind.choices)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sales channel")
        verbose_name_plural = _("sales channels")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "code"], name="channel_code_unique_per_merchant"
            )
        ]
        ordering = ["merchant_id", "code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"
