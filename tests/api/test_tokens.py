"""API tokens: hashed in the database, named, expiring, shown once, revocable in
the admin; DRF's plain-text tokens imported hashed."""

import importlib
import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from recognizer.audit.models import AuditEntry
from recognizer.tokens.models import ApiToken
from recognizer.tokens.services import token_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cassandra_keyspace")]


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("staff", password="pw-staff-123-long", is_staff=True)


@pytest.fixture
def prediction_id(client, digit_png) -> str:
    return client.post("/api/predict", {"image": io.BytesIO(digit_png(0)[0])}, format="multipart").json()["id"]


def refused(response) -> bool:
    """A refused token: 403 (the session check comes first and names no scheme), with knox's message."""
    return response.status_code == 403 and response.json() == {"error": "Invalid token."}


def correct(key: str, prediction_id: str, label: int = 3):
    return Client().patch(f"/api/predictions/{prediction_id}", {"corrected_label": label},
                          content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}")


def every_stored_text() -> list[str]:
    """Every text cell of every SQL table: what a copy of the database or a backup holds."""
    cells = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            cells += [cell for row in cursor.fetchall() for cell in row if isinstance(cell, str)]
    return cells


def test_a_token_from_the_command_works_and_the_database_holds_no_usable_token(staff, prediction_id, capsys):
    call_command("create_api_token", "staff", "--name", "label sync", "--days", "30")
    key = capsys.readouterr().out.strip()
    assert re.fullmatch(r"nf_[0-9a-f]{64}", key)
    assert correct(key, prediction_id).status_code == 200

    stored = every_stored_text()
    assert not any(key in cell for cell in stored)
    [token] = ApiToken.objects.all()
    assert (token.name, token.user, token.expiry.date()) == ("label sync", staff,
                                                             (timezone.now() + timedelta(days=30)).date())
    for cell in (token.digest, token.token_key):  # what a stolen copy could try
        assert refused(correct(cell, prediction_id))
    assert correct(key, prediction_id).status_code == 200  # the failed tries revoked nothing


def test_a_token_past_its_expiry_is_refused(staff, prediction_id):
    token, key = token_create(user=staff, name="old job", days=1)
    assert correct(key, prediction_id).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    assert refused(correct(key, prediction_id))
    assert not ApiToken.objects.exists()  # removed when met


def test_a_malformed_token_header_is_refused_not_a_500(prediction_id):
    for value in (b"Token \xff\xfe", b"Token", b"Token a b", b"Token " + b"a" * 5000):
        response = Client().patch(f"/api/predictions/{prediction_id}", {"corrected_label": 3},
                                  content_type="application/json", HTTP_AUTHORIZATION=value.decode("latin-1"))
        assert response.status_code == 403 and "token" in response.json()["error"], value


def test_the_admin_shows_a_new_key_once_and_revoking_it_stops_it(admin_user, staff, prediction_id):
    admin = Client()
    admin.force_login(admin_user)
    created = admin.post("/admin/tokens/apitoken/add/", {"user": staff.pk, "name": "ci job", "days": "7"}, follow=True)
    assert created.status_code == 200
    [key] = re.findall(r"nf_[0-9a-f]{64}", created.content.decode())
    assert correct(key, prediction_id).status_code == 200
    token = ApiToken.objects.get()
    listing = admin.get("/admin/tokens/apitoken/").content.decode()
    detail = admin.get(f"/admin/tokens/apitoken/{token.pk}/change/").content.decode()
    assert "ci job" in listing and key not in listing and key not in detail  # shown once, never again

    revoked = admin.post("/admin/tokens/apitoken/", {"action": "delete_selected", "_selected_action": [token.pk],
                                                     "post": "yes"})
    assert revoked.status_code == 302 and not ApiToken.objects.exists()
    assert refused(correct(key, prediction_id))
    assert [(e.actor, e.action, e.target) for e in AuditEntry.objects.order_by("id") if e.action.startswith("token")] \
        == [("admin", "token.create", "ci job (staff)"), ("admin", "token.revoke", "ci job (staff)")]


def test_staff_make_tokens_for_themselves_only(staff, admin_user):
    staff.user_permissions.add(*Permission.objects.filter(codename__endswith="apitoken"))
    token_create(user=admin_user, name="admin's own")
    browser = Client()
    browser.force_login(staff)
    refused = browser.post("/admin/tokens/apitoken/add/", {"user": admin_user.pk, "name": "as admin", "days": "7"})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert "admin&#x27;s own" not in browser.get("/admin/tokens/apitoken/").content.decode()
    assert ApiToken.objects.count() == 1


@pytest.mark.django_db(transaction=True)  # the migration drops a table: SQLite's schema editor needs no transaction
def test_drf_plain_tokens_are_imported_hashed_and_their_table_dropped(staff, prediction_id):
    old_key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"  # DRF's 40 hex digits
    with connection.cursor() as cursor:
        cursor.execute('CREATE TABLE "authtoken_token" ("key" varchar(40) PRIMARY KEY, "created" datetime, '
                       '"user_id" integer)')
        cursor.execute('INSERT INTO "authtoken_token" VALUES (%s, %s, %s)', [old_key, timezone.now(), staff.pk])
    migration = importlib.import_module("recognizer.tokens.migrations.0002_import_drf_tokens")
    from django.apps import apps

    with connection.schema_editor() as editor:
        migration.import_drf_tokens(apps, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
    assert correct(old_key, prediction_id).status_code == 200  # the client goes on, until the expiry
    assert not any(old_key in cell for cell in every_stored_text())
    assert ApiToken.objects.get().expiry > timezone.now() + timedelta(days=89)
