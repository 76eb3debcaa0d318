"""How the API reads request bodies: JSON and raw images, within the byte limits (``web.uploads``)."""

from rest_framework import parsers

from ..web.uploads import read_body, read_json


class JSONParser(parsers.JSONParser):
    """DRF's, within the body limit; JSON nested deeper than Python's parser goes is a 400, not a 500."""

    def parse(self, stream, media_type=None, parser_context=None) -> object:
        return read_json(stream)


class RawImageParser(parsers.BaseParser):
    """A raw ``image/*`` request body is the image itself."""

    media_type = "image/*"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return read_body(stream)
