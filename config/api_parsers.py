"""The API's one body parser: JSON, refused before parsing when it is larger than any valid request."""
import io

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class JSONBodyParser(JSONParser):
    """DRF's JSON parser with a size limit (Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``, 2.5 MB by default; the
    largest valid request is a few hundred KB) and nesting too deep for Python's parser read as invalid JSON."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit:,} bytes.")
        try:
            return super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
