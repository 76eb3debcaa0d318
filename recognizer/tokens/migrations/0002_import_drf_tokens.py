"""DRF's authtoken tokens (the API's first token scheme) become hashed tokens that expire after API_TOKEN_DAYS; the
table that held them in plain text is dropped. Clients keep their key until it expires."""

from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone
from knox.crypto import hash_token
from knox.settings import CONSTANTS

DRF_TABLE = "authtoken_token"


def import_drf_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if DRF_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("tokens", "ApiToken")
    expiry = timezone.now() + timedelta(days=settings.NUMBERFIGURE_API_TOKEN_DAYS)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote('key')}, {quote('user_id')} FROM {quote(DRF_TABLE)}")
        rows = cursor.fetchall()
    ApiToken.objects.bulk_create(
        ApiToken(digest=hash_token(key), token_key=key[:CONSTANTS.TOKEN_KEY_LENGTH], user_id=user_id, expiry=expiry,
                 name="DRF token (imported)")
        for key, user_id in rows)
    schema_editor.execute(schema_editor.sql_delete_table % {"table": quote(DRF_TABLE)})
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = %s", ["authtoken"])


class Migration(migrations.Migration):
    dependencies = [("tokens", "0001_initial")]
    operations = [migrations.RunPython(import_drf_tokens, migrations.RunPython.noop)]
