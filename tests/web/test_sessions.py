"""Logins end after the idle timeout and the absolute lifetime; passwords are at least 12 characters."""

import time

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from recognizer.web import sessions

pytestmark = pytest.mark.django_db


class Clock:
    """The middleware's clock, moved by the test instead of waited out."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(sessions, "time", clock)
    return clock


@pytest.fixture
def staff_browser(django_user_model) -> Client:
    browser = Client()
    django_user_model.objects.create_user("staff", password="pw-staff-123-long", is_staff=True)
    assert browser.post("/admin/login/", {"username": "staff", "password": "pw-staff-123-long"}).status_code == 302
    return browser


def logged_in(browser: Client) -> bool:
    response = browser.get("/admin/")
    return response.status_code == 200  # else a redirect to the login page


def test_a_session_left_idle_ends(settings, clock, staff_browser):
    settings.NUMBERFIGURE_SESSION_IDLE_SECONDS = 2
    for _ in range(4):  # 4 s in all, with a request each second: it goes on
        assert logged_in(staff_browser)
        clock.sleep(1)
    assert logged_in(staff_browser)
    clock.sleep(3)
    assert not logged_in(staff_browser)
    assert staff_browser.get("/admin/").url.startswith("/admin/login/")
    assert "numberfigure_seen" not in staff_browser.session  # the session's data went with it


def test_a_busy_session_ends_at_its_absolute_lifetime(settings, clock, staff_browser):
    settings.NUMBERFIGURE_SESSION_MAX_SECONDS = 2
    ended_after = None
    started = clock.time()
    while clock.time() - started < 5:
        if not logged_in(staff_browser):
            ended_after = clock.time() - started
            break
        clock.sleep(0.3)
    assert ended_after is not None and 2 <= ended_after < 4


def test_the_session_cookie_lasts_no_longer_than_the_session(settings, staff_browser):
    cookie = staff_browser.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == settings.NUMBERFIGURE_SESSION_MAX_SECONDS == 12 * 3600
    assert settings.NUMBERFIGURE_SESSION_IDLE_SECONDS == 30 * 60


@pytest.mark.parametrize("password", ["eleven-char", "a1b2c3d4e5f"])
def test_passwords_shorter_than_twelve_characters_are_refused(password):
    with pytest.raises(ValidationError, match="at least 12 characters"):
        validate_password(password)
    validate_password(password + "x")  # twelve: accepted
