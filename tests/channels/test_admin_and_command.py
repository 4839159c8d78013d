"""Admin: operations staff replay a failed delivery and rotate a secret; the price report command."""

from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.urls import reverse

from channels.models import ChannelInboxMessage, ChannelPrice, ChannelPriceList, InboxStatus
from channels.services import channel_price_list_set
from oms.models import ChannelKind
from oms.permissions import OPERATIONS_GROUP
from tests.channels.conftest import sample_bytes
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_client(client):
    user = User.objects.create_user("ops-channels", password="pw-12345-long", is_staff=True)
    user.groups.add(Group.objects.get(name=OPERATIONS_GROUP))
    client.force_login(user)
    return client


def test_ops_replay_a_failed_delivery_from_admin_after_the_fix(
    merchant, catalogue, post_signed, ops_client
):
    channel = ChannelFactory(merchant=merchant, code="b2b", kind=ChannelKind.B2B)
    pillow = catalogue["HOM-0002"]
    pillow.sku = "PILLOW"
    pillow.save()
    message_id = post_signed(channel, sample_bytes("b2b")).json()["inbox_id"]
    pillow.sku = "HOM-0002"
    pillow.save()

    url = reverse("admin:channels_channelinboxmessage_changelist")
    response = ops_client.post(
        url, {"action": "replay", "_selected_action": [message_id]}, follow=True
    )

    assert response.status_code == 200
    message = ChannelInboxMessage.objects.get(pk=message_id)
    assert message.status == InboxStatus.PARSED and message.order is not None
    assert (
        ops_client.get(
            reverse("admin:channels_channelinboxmessage_change", args=[message_id])
        ).status_code
        == 200
    )


def test_admin_rotates_a_secret_and_shows_the_new_one_once(merchant, admin_client):
    channel = ChannelFactory(merchant=merchant, code="dy", kind=ChannelKind.DOUYIN)
    old = channel.signing_secret

    url = reverse("admin:oms_saleschannel_changelist")
    response = admin_client.post(
        url, {"action": "rotate_secret", "_selected_action": [channel.pk]}, follow=True
    )

    channel.refresh_from_db()
    assert channel.signing_secret != old and channel.previous_signing_secret == old
    assert channel.signing_secret in response.content.decode()


def test_every_channel_admin_page_opens(admin_client, merchant, catalogue):
    for name in [
        "oms_saleschannel",
        "channels_channelpricelist",
        "channels_channelprice",
        "channels_promotion",
        "channels_channelinboxmessage",
        "channels_orderlinepricing",
        "channels_giftgrant",
        "channels_giftrefusal",
        "channels_channelorder",
    ]:
        assert admin_client.get(reverse(f"admin:{name}_changelist")).status_code == 200, name
        assert admin_client.get(reverse(f"admin:{name}_changelist"), {"q": "x"}).status_code == 200


def test_price_report_command_prints_divergent_skus(merchant, catalogue):
    for code, amount in (("a", "5999.00"), ("b", "6299.00")):
        price_list = ChannelPriceList.objects.create(merchant=merchant, name=code)
        channel_price_list_set(
            channel=ChannelFactory(merchant=merchant, code=code), price_list=price_list
        )
        ChannelPrice.objects.create(
            price_list=price_list, product=catalogue["HOM-0001"], price=Decimal(amount)
        )
    out = StringIO()

    call_command("channel_price_report", merchant.code, stdout=out)

    assert (
        "HOM-0001" in out.getvalue()
        and "a=5999.00" in out.getvalue()
        and "b=6299.00" in out.getvalue()
    )
    assert "1 SKU(s)" in out.getvalue()
