"""The HTTP side of ``Idempotency-Key`` on ``POST /api/predict`` (``services.request_claim`` and
``storage.claims`` keep the keys)."""

import json
from collections.abc import Callable

from rest_framework.request import Request
from rest_framework.response import Response

from ..errors import BadRequest
from ..recognition import ImageUpload
from ..services import Answer, request_claim, request_release, request_remember
from ..web.addresses import client_address

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def key_of(request: Request) -> str | None:
    """The request's key, if it sent one: 1-255 visible ASCII characters (a UUID is a good choice)."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise BadRequest(f"'{HEADER}' must be 1-{MAX_KEY_LENGTH} visible ASCII characters, e.g. a UUID.")
    return key


def client_of(request: Request) -> str:
    """Whose keys these are: the signed-in account, else the client's address."""
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return f"address:{client_address(request)}"


def respond_once(request: Request, uploads: list[ImageUpload], source: str,
                 respond: Callable[[list | None], Response]) -> Response:
    """``respond(ids)`` once per key: a repeated key gets the first answer back (``Idempotent-Replayed``).

    Without a key, ``respond(None)`` runs as usual.
    """
    key = key_of(request)
    if key is None:
        return respond(None)
    held = request_claim(client=client_of(request), key=key, uploads=uploads, source=source)
    if isinstance(held, Answer):  # given already
        return Response(json.loads(held.body), status=held.status, headers={"Idempotent-Replayed": "true"})
    try:
        response = respond(held.prediction_ids)
    except BaseException:
        request_release(claim=held)
        raise
    request_remember(claim=held, status=response.status_code, body=json.dumps(response.data))
    return response
