from http.client import responses

from django.apps import AppConfig


class RecognizerConfig(AppConfig):
    name = "recognizer"
    verbose_name = "Digit recognizer"

    def ready(self) -> None:
        from .storage import connection, outbox

        connection.install()
        outbox.remove_stale_partials()
        # ClientGone's status (nginx's 499), named in the status line and in Django's request log
        # instead of "Unknown Status Code".
        responses.setdefault(499, "Client Closed Request")
