"""The OpenAPI schema's error responses every operation can give, added to each (a drf-spectacular hook).

Views document the errors of their own (``config.api_errors.error_responses``); these come from the API's shared
machinery and were missing from most operations: an unknown query parameter or body field is a 400, a token that
is not valid a 401, too many requests a 429, and for a request with a body, one too large a 413 and one not JSON
a 415. The health check takes any request and is never throttled, so it keeps its own.
"""
from config.api_errors import ERROR_MEANINGS

EVERY_OPERATION = (400, 401, 429)
WITH_A_BODY = (413, 415)
ERROR_SCHEMA = {"$ref": "#/components/schemas/Error"}


def document_shared_errors(result, generator, request, public):
    for path, operations in result["paths"].items():
        if path.endswith("/health/"):
            continue
        for operation in operations.values():
            statuses = EVERY_OPERATION + (WITH_A_BODY if "requestBody" in operation else ())
            responses = operation.setdefault("responses", {})
            for status in statuses:
                responses.setdefault(str(status), {
                    "description": ERROR_MEANINGS[status],
                    "content": {"application/json": {"schema": ERROR_SCHEMA}},
                })
    return result
