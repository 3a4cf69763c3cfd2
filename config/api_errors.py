"""One shape for every API error, and the kinds of the product's own errors (``config.errors``) mapped to HTTP
statuses.

Every error body is ``{"detail": "<one readable sentence>"}``; input errors add ``"errors"`` with DRF's
per-field messages (``{"k": ["Ensure this value is less than or equal to 100."]}``; a body that is not valid
JSON, or not an object, under ``non_field_errors``), so a client can always show ``detail`` and may point at
fields with ``errors``.
"""
from collections.abc import Iterable

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, InterfaceError, OperationalError
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from config import errors


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is temporarily unavailable; try again later."
    default_code = "service_unavailable"


class ErrorSerializer(serializers.Serializer):
    """The body of every error response (documents the schema; never used to parse)."""

    detail = serializers.CharField(help_text="What went wrong, in one sentence.")
    errors = serializers.DictField(
        required=False,
        help_text="Input errors by field name (present on 400 responses for invalid fields).",
    )


ERROR_MEANINGS = {
    400: "Invalid input: `detail` says what is wrong, `errors` (when present) which fields.",
    401: "Not signed in, or a token that is not valid: send `Authorization: Token <token>` (or use the site's "
         "session).",
    403: "Signed in, but not allowed (staff only).",
    404: "No such object, or not one you may see.",
    409: "Conflicts with the current state (`detail` says how).",
    413: "The body is larger than the server takes (DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB by default).",
    415: "The body is not JSON (send `Content-Type: application/json`).",
    429: "Too many requests: `Retry-After` says in how many seconds to try again.",
    503: "A service it needs (the database or the Celery broker) is unreachable.",
}


def refuse_unknown(names: Iterable[str], known: list[str], *, word: str) -> None:
    """A 400 for each of ``names`` not in ``known``, naming the known ones (``word``: "field", "parameter")."""
    unknown = [name for name in names if name not in known]
    if unknown:
        message = f"Unknown {word}. Known {word}s: {', '.join(known)}." if known else f"Unknown {word}: there are none."
        raise exceptions.ValidationError({name: [message] for name in unknown})


def error_responses(*statuses: int) -> dict:
    """``extend_schema(responses=...)`` entries documenting these error statuses with their meaning."""
    return {code: OpenApiResponse(ErrorSerializer, description=ERROR_MEANINGS[code]) for code in statuses}


def not_found(model, pk) -> exceptions.NotFound:
    """A 404 that names what was asked for: ``No book with id 42.``, ``No training run with id 7.``"""
    return exceptions.NotFound(f"No {model._meta.verbose_name} with id {pk}.")


def object_or_404(queryset, pk):
    """The object with this id in ``queryset`` (or a manager), else ``not_found``."""
    try:
        return queryset.get(pk=pk)
    except queryset.model.DoesNotExist:
        raise not_found(queryset.model, pk) from None


def api_exception_handler(exc, context):
    """DRF's handler, after mapping the product's errors to API errors, with the body in one shape."""
    response = exception_handler(_as_api_exception(exc), context)
    if response is not None:
        response.data = _error_body(response.data)
    return response


def _as_api_exception(exc):
    # Services raise the product's errors; which HTTP status each means is decided here, once.
    if isinstance(exc, exceptions.ParseError):
        # A body that does not parse is invalid input like any other; DRF's message says where it broke.
        return exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [exc.detail]})
    if isinstance(exc, errors.Gone):
        return exceptions.NotFound(str(exc))
    if isinstance(exc, errors.InvalidInput):  # by field where the error names one, as the serializers' checks are
        return exceptions.ValidationError(_at_path(exc.field_path, str(exc)))
    if isinstance(exc, errors.ServiceDown):
        return ServiceUnavailable(str(exc))
    if isinstance(exc, errors.StateConflict):
        return Conflict(str(exc))
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, (OperationalError, InterfaceError)) or type(exc) is DatabaseError:
        # The database is down or restarting: say so in JSON; the app reconnects by itself when it is back.
        return ServiceUnavailable("The database is unavailable; try again shortly.")
    return exc


def _at_path(path: tuple[str, ...], message: str) -> dict:
    """``{"a": {"b": [message]}}`` for the path ("a", "b"); ``{"detail": message}`` for no path."""
    if not path:
        return {"detail": message}
    errors: dict | list = [message]
    for name in reversed(path[1:]):
        errors = {name: errors}
    return {path[0]: errors}


def _error_body(data) -> dict:
    if isinstance(data, dict) and set(data) == {"detail"}:
        detail = data["detail"]
        return {"detail": " ".join(map(str, detail)) if isinstance(detail, list) else str(detail)}
    if isinstance(data, list):
        return {"detail": " ".join(str(message) for message in _messages(data))}
    return {"detail": _summary(data), "errors": data}


def _summary(errors: dict) -> str:
    """"Invalid input." and the first message of each field, named by its path (``params.epochs``, ``books[0]``)."""
    parts = []
    for field, field_errors in errors.items():
        path, message = _first_error(field_errors, str(field) if field not in ("detail", "non_field_errors") else "")
        text = f"{path}: {message}" if path else message
        parts.append(text if text.endswith(".") else text + ".")
    return " ".join(["Invalid input.", *parts])


def _first_error(errors, path: str) -> tuple[str, str]:
    if isinstance(errors, dict) and errors:
        key, value = next(iter(errors.items()))
        if key in ("non_field_errors", "detail"):
            return _first_error(value, path)
        if isinstance(key, int) or str(key).isdigit():
            child = f"{path}[{key}]"
        else:
            child = f"{path}.{key}" if path else str(key)
        return _first_error(value, child)
    if isinstance(errors, list) and errors:
        return _first_error(errors[0], path)
    return path, str(errors) if errors not in ({}, []) else "invalid"


def _messages(errors):
    """Every message in a nested DRF error structure, in order."""
    if isinstance(errors, dict):
        for value in errors.values():
            yield from _messages(value)
    elif isinstance(errors, list):
        for value in errors:
            yield from _messages(value)
    else:
        yield str(errors)
