"""Developer machine: debug on, everything on 127.0.0.1."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
