"""The optional TOTP second factor (django-otp) at the admin's login."""

import datetime as dt
import time

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

PASSWORD = "pw-staff-123-long"


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("staff", password=PASSWORD, is_staff=True)


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def login(browser: Client, **otp):
    return browser.post("/admin/login/?next=/admin/", {"username": "staff", "password": PASSWORD, **otp})


def test_staff_without_a_device_log_in_with_the_password(staff):
    browser = Client()
    assert login(browser).status_code == 302
    assert browser.get("/admin/").status_code == 200


def test_staff_with_a_device_need_its_current_code(staff):
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    browser = Client()
    without = login(browser)
    assert without.status_code == 200 and "Please enter your OTP token" in without.content.decode()
    wrong = login(browser, otp_token=f"{(int(current_code(device)) + 1) % 10**6:06d}")
    assert wrong.status_code == 200 and "Invalid token" in wrong.content.decode()
    assert browser.get("/admin/").status_code == 302  # still not logged in
    # A failed code locks the device for 1 s, doubling with each failure (django-otp's throttle): the
    # failure is moved 1.1 s into the past instead of waiting for the lock to end.
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=device.throttling_failure_timestamp - dt.timedelta(seconds=1.1))
    assert login(browser, otp_token=current_code(device)).status_code == 302
    assert browser.get("/admin/").status_code == 200


def test_a_code_is_not_accepted_twice(staff):
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    code = current_code(device)
    assert login(Client(), otp_token=code).status_code == 302
    replay = login(Client(), otp_token=code)
    assert replay.status_code == 200


def test_a_superuser_sets_a_device_up_with_its_qr_code(admin_client, staff):
    added = admin_client.post("/admin/otp_totp/totpdevice/add/", {
        "user": staff.pk, "name": "phone", "confirmed": "on", "key": "3132333435363738393031323334353637383930",
        "step": 30, "t0": 0, "digits": 6, "tolerance": 1, "drift": 0, "throttling_failure_count": 0})
    assert added.status_code == 302, added.context["adminform"].form.errors
    device = TOTPDevice.objects.get(user=staff)
    qr = admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/")
    assert qr.status_code == 200 and qr["Content-Type"].startswith("image/svg+xml")
