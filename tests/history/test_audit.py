"""The audit log: who corrected, deleted, exported, or made or revoked a token, on
what, what changed and when; as JSON lines on ``numberfigure.audit`` and in the admin, for superusers only."""

import getpass
import io
import json
import logging
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from recognizer.audit.models import AuditEntry
from recognizer.tokens.services import token_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cassandra")]


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("staff", password="pw-staff-123-long", is_staff=True)


@pytest.fixture
def staff_browser(staff) -> Client:
    browser = Client(REMOTE_ADDR="192.0.2.10")
    browser.force_login(staff)
    return browser


@pytest.fixture
def prediction_ids(client, digit_png) -> list[str]:
    return [client.post("/api/predict", {"image": io.BytesIO(digit_png(i)[0])}, format="multipart").json()["id"]
            for i in range(2)]


@pytest.fixture
def audit_lines(caplog):
    caplog.set_level(logging.INFO, logger="numberfigure.audit")
    return lambda: [json.loads(r.getMessage()) for r in caplog.records if r.name == "numberfigure.audit"]


def test_a_correction_and_a_deletion_on_the_pages_are_audited(staff_browser, prediction_ids, audit_lines):
    first, second = prediction_ids
    assert staff_browser.post(f"/history/{first}", {"label": "4"}).status_code == 302
    assert staff_browser.post(f"/history/{first}", {"label": "5"}).status_code == 302
    assert staff_browser.post(f"/history/{second}/delete").status_code == 302

    lines = audit_lines()
    assert [(line["actor"], line["client"], line["action"], line["target"], line["change"]) for line in lines] == [
        ("staff", "192.0.2.10", "prediction.correct", first, {"corrected_label": [None, 4]}),
        ("staff", "192.0.2.10", "prediction.correct", first, {"corrected_label": [4, 5]}),
        ("staff", "192.0.2.10", "prediction.delete", second, {}),
    ]
    assert all(abs(timezone.now() - datetime.fromisoformat(line["at"])) < timedelta(minutes=1)
               for line in lines)
    rows = AuditEntry.objects.order_by("id")
    assert [(e.actor, e.action, e.target, e.change) for e in rows] == [
        (line["actor"], line["action"], line["target"], line["change"]) for line in lines]


def test_a_refused_correction_is_not_audited(staff_browser, prediction_ids, audit_lines):
    assert staff_browser.post(f"/history/{prediction_ids[0]}", {"label": "12"}).status_code == 400
    assert Client().post(f"/history/{prediction_ids[0]}/delete").status_code == 302  # to the login page
    assert audit_lines() == [] and not AuditEntry.objects.exists()


def test_api_changes_by_token_are_audited_with_the_tokens_user(staff, prediction_ids, audit_lines):
    _, key = token_create(user=staff, name="sync")
    api = Client(HTTP_AUTHORIZATION=f"Token {key}", HTTP_X_REQUEST_ID="audit-test-1")
    first, second = prediction_ids
    assert api.patch(f"/api/predictions/{first}", {"corrected_label": 9}, content_type="application/json") \
        .status_code == 200
    assert api.delete(f"/api/predictions/{second}").status_code == 204
    assert [(line["actor"], line["action"], line["target"], line["change"], line["request_id"])
            for line in audit_lines()] == [
        ("staff", "prediction.correct", first, {"corrected_label": [None, 9]}, "audit-test-1"),
        ("staff", "prediction.delete", second, {}, "audit-test-1"),
    ]


def test_exports_are_audited_with_their_filters(staff_browser, prediction_ids, audit_lines, tmp_path):
    response = staff_browser.get("/history/export.csv", {"digit": "7"})
    assert response.status_code == 200 and b"".join(response.streaming_content)
    call_command("export_dataset", str(tmp_path), stdout=io.StringIO())
    assert [(line["actor"], line["action"], line["target"], line["change"]) for line in audit_lines()] == [
        ("staff", "predictions.export", "digit=7", {"format": "csv"}),
        (f"manage.py ({getpass.getuser()})", "dataset.export", str(tmp_path), {"images": 0, "confident_above": None}),
    ]


def test_only_superusers_read_the_audit_log_and_nobody_edits_it(staff_browser, admin_client, prediction_ids):
    staff_browser.post(f"/history/{prediction_ids[0]}", {"label": "4"})
    entry = AuditEntry.objects.get()
    listing = admin_client.get("/admin/audit/auditentry/")
    assert listing.status_code == 200 and "prediction.correct" in listing.content.decode()
    assert prediction_ids[0] in listing.content.decode()
    assert staff_browser.get("/admin/audit/auditentry/").status_code == 403
    assert admin_client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"actor": "someone"}).status_code == 403
    assert AuditEntry.objects.get().actor == "staff"
