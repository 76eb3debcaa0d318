"""``manage.py create_api_token USERNAME --name NAME [--days N]``: a new API token, its key printed once."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from recognizer.audit.services import audit_record
from recognizer.tokens.services import token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print its key (only its hash is stored: copy it now)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="Which client or script will hold it.")
        parser.add_argument("--days", type=int, help="Days until it stops working (default: API_TOKEN_DAYS).")

    def handle(self, *args, username: str, name: str, days: int | None, **options):
        try:
            user = get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if days is not None and days < 1:
            raise CommandError("--days must be 1 or more.")
        token, key = token_create(user=user, name=name, days=days)
        audit_record(action="token.create", target=f"{token.name} ({user})",
                     change={"expiry": token.expiry.isoformat()})
        self.stderr.write(f"Token “{token.name}” for {user}, valid until {token.expiry:%Y-%m-%d %H:%M} UTC:")
        self.stdout.write(key)
