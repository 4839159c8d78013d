"""Merchant API (scoped per merchant), admin (DAG validation, actions), staff boards."""

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient

from oms.permissions import OPERATIONS_GROUP
from orchestration.dag import DagError, dag_check, descendants, topological_order
from orchestration.models import ServiceAtom, ServiceStep, ServiceTemplate, StepStatus
from orchestration.services.webhooks import webhook_subscribe
from tests.factories import MerchantFactory, make_api_key

pytestmark = pytest.mark.django_db


def _other_api():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(MerchantFactory())}")
    return client


def test_a_merchant_subscribes_and_sees_the_secret_once(api, fake_dns):
    fake_dns["merchant.example"] = ["93.184.215.14"]
    response = api.post(
        "/api/webhooks/",
        {"event_type": "service.step_done", "url": "https://merchant.example/hooks"},
        HTTP_IDEMPOTENCY_KEY="sub-1",
    )
    assert response.status_code == 201, response.content
    assert response.json()["secret"].startswith("whsec_")
    listed = api.get("/api/webhooks/").json()
    assert listed["count"] == 1 and "secret" not in listed["results"][0]


def test_a_bad_subscription_is_a_400_at_the_field(api):
    response = api.post("/api/webhooks/", {"event_type": "nope", "url": "ftp://x"})
    assert response.status_code == 400
    assert set(response.json()) == {"event_type", "url"}


def test_another_merchants_subscription_and_steps_are_404(api, merchant, routed):
    subscription = webhook_subscribe(merchant=merchant, event_type="*", url="https://a.example/h")
    step = ServiceStep.objects.filter(order=routed("furniture")).first()
    other = _other_api()
    assert other.get(f"/api/webhooks/{subscription.pk}/").status_code == 404
    assert other.post(f"/api/webhooks/{subscription.pk}/rotate-secret/").status_code == 404
    assert other.get(f"/api/service-steps/{step.pk}/").status_code == 404
    assert other.get("/api/service-steps/").json()["count"] == 0
    assert other.get("/api/webhooks/deliveries/").json()["count"] == 0
    assert api.get(f"/api/service-steps/{step.pk}/").status_code == 200


def test_steps_of_an_order_and_completing_one(api, routed, django_capture_on_commit_callbacks):
    order = routed("fresh")
    rows = api.get(f"/api/service-steps/?order={order.pk}").json()["results"]
    assert [r["key"] for r in rows] == ["cold-delivery"]
    step_id = rows[0]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        done = api.post(f"/api/service-steps/{step_id}/complete/")
    assert done.status_code == 200 and done.json()["status"] == "done"
    again = api.post(f"/api/service-steps/{step_id}/complete/")
    assert again.status_code == 409 and again.json()["code"] == "step_not_completable"
    assert api.get("/api/service-steps/?order=abc").status_code == 400


def test_dag_check_names_unknown_steps_and_cycles():
    with pytest.raises(DagError) as error:
        dag_check({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["zz"]})
    assert any("unknown step 'zz'" in p for p in error.value.problems)
    with pytest.raises(DagError, match="cycle"):
        dag_check({"a": ["b"], "b": ["a"]})
    assert topological_order({"c": ["a", "b"], "a": [], "b": ["a"]}) == ["a", "b", "c"]
    assert descendants({"a": [], "b": ["a"], "c": ["b"], "d": []}, "a") == {"b", "c"}


@pytest.fixture
def staff(client):
    user = User.objects.create_user("opsuser", password="pw-12345-long", is_staff=True)
    user.groups.add(Group.objects.get(name=OPERATIONS_GROUP))
    client.force_login(user)
    return client


def _template_post(rows: list[tuple[str, int, str]]) -> dict:
    data = {
        "code": "t-new",
        "name": "New",
        "priority": 0,
        "enabled": "on",
        "steps-TOTAL_FORMS": len(rows),
        "steps-INITIAL_FORMS": 0,
        "steps-MIN_NUM_FORMS": 0,
        "steps-MAX_NUM_FORMS": 1000,
    }
    for i, (key, atom_id, depends_on) in enumerate(rows):
        data |= {
            f"steps-{i}-key": key,
            f"steps-{i}-atom": atom_id,
            f"steps-{i}-depends_on": depends_on,
            f"steps-{i}-parameters": "{}",
            f"steps-{i}-position": i,
        }
    return data


def test_admin_refuses_a_template_with_a_cycle_or_an_unknown_step(staff, catalogue):
    atom = ServiceAtom.objects.get(code="delivery").pk
    response = staff.post(
        "/admin/orchestration/servicetemplate/add/",
        _template_post([("a", atom, "b"), ("b", atom, "a"), ("c", atom, "ghost")]),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "unknown step" in html and "ghost" in html
    assert not ServiceTemplate.objects.filter(code="t-new").exists()
    response = staff.post(
        "/admin/orchestration/servicetemplate/add/",
        _template_post([("a", atom, "b"), ("b", atom, "a")]),
    )
    assert "cycle" in response.content.decode()
    ok = staff.post(
        "/admin/orchestration/servicetemplate/add/",
        _template_post([("a", atom, ""), ("b", atom, "a")]),
    )
    assert ok.status_code == 302
    template = ServiceTemplate.objects.get(code="t-new")
    assert template.graph() == {"a": [], "b": ["a"]}
    assert template.history.count() == 1


def test_an_atom_with_an_unregistered_handler_is_refused(staff):
    response = staff.post(
        "/admin/orchestration/serviceatom/add/",
        {
            "code": "x",
            "label_en": "X",
            "handler": "rm_rf",
            "parameters": "{}",
            "sla": "01:00:00",
            "max_attempts": 3,
            "backoff_seconds": 10,
            "backoff_max_seconds": 100,
        },
    )
    assert response.status_code == 200 and not ServiceAtom.objects.filter(code="x").exists()


def test_admin_action_completes_a_running_step(staff, routed, django_capture_on_commit_callbacks):
    step = ServiceStep.objects.get(order=routed("fresh"))
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(
            "/admin/orchestration/servicestep/",
            {"action": "complete_steps", "_selected_action": [step.pk]},
        )
    step.refresh_from_db()
    assert step.status == StepStatus.DONE


def test_staff_boards_need_a_staff_login(client, staff, routed):
    routed("ev")
    for url in ("/ops/sla/", "/ops/dashboard/"):
        response = staff.get(url)
        assert response.status_code == 200
        assert b"dashboard-charts" in response.content  # the charts' data for ECharts
    anonymous = client.__class__()
    assert anonymous.get("/ops/sla/").status_code == 302
    board = staff.get("/ops/sla/").content.decode()
    assert "battery-lock" in board


def test_operations_staff_may_edit_atoms_and_templates(staff):
    assert staff.get("/admin/orchestration/serviceatom/").status_code == 200
    assert staff.get("/admin/orchestration/servicetemplate/add/").status_code == 200


def test_a_merchant_gets_reissues_and_revokes_the_status_page_link(api, client, routed):
    order = routed("furniture")
    link = api.get(f"/api/order-tracking/{order.pk}/").json()["url"]
    assert link.startswith("http://testserver/track/")
    assert client.get(link).status_code == 200
    new_link = api.post(f"/api/order-tracking/{order.pk}/reissue/").json()["url"]
    assert new_link != link
    assert client.get(link).status_code == 404 and client.get(new_link).status_code == 200
    assert api.post(f"/api/order-tracking/{order.pk}/revoke/").json()["url"] is None
    assert client.get(new_link).status_code == 404
    assert _other_api().get(f"/api/order-tracking/{order.pk}/").status_code == 404


def test_the_status_page_link_takes_the_public_address_where_one_is_set(api, routed, settings):
    settings.OMS_PUBLIC_BASE_URL = "https://oms.example.com"  # the API is called on another host
    order = routed("furniture")
    link = api.get(f"/api/order-tracking/{order.pk}/").json()["url"]
    assert link == f"https://oms.example.com/track/{order.tracking.token}/"


def test_the_sla_alert_page_shows_the_chain_and_the_timeline(staff, routed):
    from datetime import timedelta

    from django.utils import timezone

    from orchestration.models import SlaAlert
    from orchestration.services.sla import sla_check

    order = routed("ev")
    ServiceStep.objects.filter(order=order, key="climate-transport").update(
        deadline=timezone.now() - timedelta(minutes=3)
    )
    sla_check()
    alert = SlaAlert.objects.get()
    html = staff.get(f"/admin/orchestration/slaalert/{alert.pk}/change/").content.decode()
    assert "climate-transport" in html and "services planned" in html  # the timeline, in words


def test_rotating_a_subscription_deleted_meanwhile_is_a_404(api, merchant, monkeypatch):
    """A DELETE between the lookup and the locked rotate gave a 500 (found by the contract run)."""
    from orchestration.api import WebhookSubscriptionViewSet

    subscription = webhook_subscribe(merchant=merchant, event_type="*", url="https://a.example/h")
    looked_up = WebhookSubscriptionViewSet.get_object

    def get_then_delete(view):
        found = looked_up(view)
        type(found).objects.filter(pk=found.pk).delete()
        return found

    monkeypatch.setattr(WebhookSubscriptionViewSet, "get_object", get_then_delete)
    response = api.post(f"/api/webhooks/{subscription.pk}/rotate-secret/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
