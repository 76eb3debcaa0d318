from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "recognizer.tokens"
    label = "tokens"
    verbose_name = "API tokens"
