from django.apps import AppConfig


class RecognizerConfig(AppConfig):
    name = "recognizer"
    verbose_name = "Digit recognizer"

    def ready(self) -> None:
        from . import lazy_connect

        lazy_connect.install()
