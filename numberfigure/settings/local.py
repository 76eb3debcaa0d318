"""Developer machine: debug on, everything on 127.0.0.1."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
