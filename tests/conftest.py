"""Shared fixtures. Imports stay inside fixtures so the pure-core suites (routing/engine,
customers/matching) also run without Django (``-p no:django``)."""

import pytest


@pytest.fixture(autouse=True)
def _celery_eager(request):
    """Run tasks in-process during tests, also when REDIS_URL points at a real broker."""
    if "django_db_setup" not in request.fixturenames and not request.node.get_closest_marker(
        "django_db"
    ):
        yield
        return
    from oms.celery import app as celery_app

    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fresh_outage_log():
    """Each test logs its own first outage: an earlier test's window would count it silently."""
    from oms import outagelog

    outagelog.reset()
    yield


@pytest.fixture(autouse=True)
def _fresh_local_caches(request):
    """Each test starts with empty process-local caches: rolled-back rows reuse their ids."""
    if "django_db_setup" in request.fixturenames or request.node.get_closest_marker("django_db"):
        from oms.localcache import clear_all

        clear_all()
    yield


def pytest_collection_modifyitems(config, items):
    """Skip tests marked ``postgres`` on SQLite, and those marked ``redis`` without Redis."""
    try:
        from django.conf import settings

        engine = settings.DATABASES["default"]["ENGINE"]
        redis_url = settings.REDIS_URL
    except Exception:
        return
    skips = {
        "postgres": None
        if engine.endswith("postgresql")
        else pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"),
        "redis": None if redis_url else pytest.mark.skip(reason="needs Redis (set REDIS_URL)"),
    }
    for item in items:
        for marker, skip in skips.items():
            if skip is not None and marker in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def merchant(db):
    from django.core.cache import cache

    from tests.factories import MerchantFactory

    cache.clear()  # throttle counters of an earlier test must not leak into this one
    return MerchantFactory()


@pytest.fixture
def channel(merchant):
    from tests.factories import ChannelFactory

    return ChannelFactory(merchant=merchant, code="douyin")


@pytest.fixture
def api(merchant):
    from rest_framework.test import APIClient

    from tests.factories import make_api_key

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(merchant)}")
    return client


@pytest.fixture(autouse=True)
def _fast_password_hashing(request):
    """PBKDF2 costs ~0.5 s a login; tests check behaviour, not hash strength."""
    if "django_db_setup" in request.fixturenames:
        request.getfixturevalue("settings").PASSWORD_HASHERS = [
            "django.contrib.auth.hashers.MD5PasswordHasher"
        ]


@pytest.fixture
def fake_dns(monkeypatch):
    """Host names resolve to the addresses the test puts in the returned dict, nothing else.

    Address literals resolve as usual (no lookup leaves the machine for them); any other name
    is "not found", so no test depends on, or sends traffic to, a real host.
    """
    import ipaddress
    import socket

    table: dict[str, list[str]] = {}
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in table:
            try:
                ipaddress.ip_address(name)
            except ValueError:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
            return real_getaddrinfo(host, port, family, type, proto, flags)
        answers = []
        for address in table[name]:
            if ":" in address:
                answer = (
                    socket.AF_INET6,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (address, int(port or 0), 0, 0),
                )
            else:
                answer = (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 0)))
            if family in (0, socket.AF_UNSPEC, answer[0]):
                answers.append(answer)
        return answers

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


@pytest.fixture
def no_connections(monkeypatch):
    """Fails the test on a connection to anything but loopback; lists the attempts made."""
    import socket

    real_connect = socket.socket.connect
    attempts: list = []

    def connect(sock, address):
        attempts.append(address)
        if address[0] not in ("127.0.0.1", "::1"):
            pytest.fail(f"a connection to {address} was attempted")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


# CI sets OMS_REQUIRE_BROWSER=1: there a browser test that skips (no chromium, no playwright,
# a module skipped at import) fails the run, so a console nobody drove is never green. The same
# holds for tests marked ``tooling`` (system tools CI installs, such as gettext).
_SKIPPED_BROWSER_TESTS: list[str] = []


def _browser_required() -> bool:
    import os

    return os.environ.get("OMS_REQUIRE_BROWSER", "") not in ("", "0")


def _is_browser_report(report) -> bool:
    keywords = getattr(report, "keywords", {})
    return "tests/e2e/" in report.nodeid or "browser" in keywords or "tooling" in keywords


def pytest_collectreport(report):
    if _browser_required() and report.skipped and "tests/e2e/" in report.nodeid:
        _SKIPPED_BROWSER_TESTS.append(f"{report.nodeid}: {report.longrepr}")


def pytest_runtest_logreport(report):
    if _browser_required() and report.skipped and _is_browser_report(report):
        _SKIPPED_BROWSER_TESTS.append(f"{report.nodeid}: {report.longrepr}")


def pytest_terminal_summary(terminalreporter):
    if _SKIPPED_BROWSER_TESTS:
        terminalreporter.section("browser tests skipped while OMS_REQUIRE_BROWSER=1 (a failure)")
        for line in _SKIPPED_BROWSER_TESTS:
            terminalreporter.write_line(line)


def pytest_sessionfinish(session, exitstatus):
    if _SKIPPED_BROWSER_TESTS and session.exitstatus == 0:
        session.exitstatus = 1
