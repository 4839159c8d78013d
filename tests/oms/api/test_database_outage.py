"""PostgreSQL out of reach: the API answers a JSON 503 with ``Retry-After``, other pages a plain
503, never an HTML 500 (#11 item 16).

The PostgreSQL test points the default connection at a TCP proxy in front of the shared
server and cuts the proxy; the shared server is never stopped. The others raise the driver's
errors where a query would, so they run on SQLite too.
"""

import json
import time
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.test import Client, RequestFactory

from oms.api.errors import RETRY_AFTER_SECONDS, server_error
from tests.tcp_proxy import TcpProxy

TRACK_URL = "/track/" + "t" * 43 + "/"


def _assert_api_503(response) -> None:
    assert response.status_code == 503, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert json.loads(response.content)["code"] == "database_unavailable"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error",
    [
        OperationalError("connection refused"),
        OperationalError("server closed the connection unexpectedly"),
        InterfaceError("connection already closed"),
    ],
)
def test_an_api_call_that_loses_the_database_answers_a_json_503(api, error):
    with mock.patch("oms.api.views.selectors.orders_of", side_effect=error):
        _assert_api_503(api.get("/api/orders/"))


@pytest.mark.django_db
def test_a_page_that_loses_the_database_answers_a_plain_503():
    """Views outside the API go through the root error handler."""
    lost = OperationalError("server closed the connection unexpectedly")
    with mock.patch("orchestration.views.tracking_by_token", side_effect=lost):
        page = Client(raise_request_exception=False).get(TRACK_URL)
    assert page.status_code == 503
    assert page["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert page["Content-Type"].startswith("text/plain")


def test_the_root_error_handler_answers_json_under_api():
    """Middleware errors under /api/ reach the root handler, not the API's exception handler."""
    request = RequestFactory().get("/api/orders/")
    try:
        raise OperationalError("connection refused")
    except OperationalError:
        _assert_api_503(server_error(request))
    try:
        raise ValueError("a bug")
    except ValueError:
        assert server_error(request).status_code == 500


@pytest.fixture
def through_proxy(transactional_db):
    """The default connection, reconnected through a proxy in front of the real server."""
    settings_dict = connection.settings_dict
    original = (settings_dict["HOST"], settings_dict["PORT"])
    proxy = TcpProxy(original[0] or "127.0.0.1", int(original[1] or 5432))
    connection.close()
    settings_dict["HOST"], settings_dict["PORT"] = "127.0.0.1", proxy.port
    yield proxy
    connection.close()
    settings_dict["HOST"], settings_dict["PORT"] = original
    proxy.close()


def _served(send):
    """Send a request as the WSGI handler serves it: stale connections are closed first (the
    test client skips that step)."""
    close_old_connections()
    started = time.perf_counter()
    response = send()
    assert time.perf_counter() - started < 2.0  # refused at once, no wait for a timeout
    return response


@pytest.mark.postgres
def test_postgresql_down_answers_503_with_retry_after_and_recovers(through_proxy, api, channel):
    pages = Client(raise_request_exception=False)
    assert _served(lambda: api.get("/api/orders/")).status_code == 200

    through_proxy.cut()  # the server closes our connection, then refuses new ones
    _assert_api_503(_served(lambda: api.get("/api/orders/")))
    _assert_api_503(_served(lambda: api.get("/api/orders/")))
    _assert_api_503(
        _served(lambda: api.post("/api/orders/", {"channel": channel.code}, format="json"))
    )
    page = _served(lambda: pages.get(TRACK_URL))
    assert page.status_code == 503 and page["Retry-After"] == str(RETRY_AFTER_SECONDS)

    through_proxy.restore()
    assert _served(lambda: api.get("/api/orders/")).status_code == 200
    assert _served(lambda: pages.get(TRACK_URL)).status_code == 404
