"""A validly signed payload whose text no database can store fails for good, with the reason.

It used to answer 503 "retry later", which a retry could never fix (hardening, #11).
"""

import json

import pytest

from channels.models import ChannelInboxMessage, InboxStatus
from oms.models import ChannelKind
from tests.channels.conftest import sample
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "field"),
    [("NUL", "张\u0000伟"), ("lone surrogate", "\ud800")],
)
def test_a_signed_payload_with_unstorable_text_fails_for_good_with_a_reason(
    merchant, catalogue, post_signed, name, field
):
    channel = ChannelFactory(merchant=merchant, code="douyin", kind=ChannelKind.DOUYIN)
    payload = sample("douyin")
    payload["data"]["post_receiver"] = field
    body = json.dumps(payload, ensure_ascii=True).encode()

    response = post_signed(channel, body)

    assert response.status_code == 400, (name, response.content)
    assert "NUL character or an unpaired surrogate" in json.dumps(response.json())
    message = ChannelInboxMessage.objects.get(pk=response.json()["inbox_id"])
    assert message.status == InboxStatus.FAILED and bytes(message.body) == body  # kept whole
