"""The JSON 404 for every address under /api/ that names no endpoint."""
from django.urls import Resolver404, resolve
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView


class ApiNotFound(APIView):
    """Every URL under /api/ that names no endpoint: a JSON 404, whatever the method or credentials."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    schema = None  # not an endpoint: left out of the OpenAPI schema

    def http_method_not_allowed(self, request, *args, **kwargs):
        with_slash = f"{request.path}/"
        if not request.path.endswith("/") and _is_endpoint(with_slash):
            raise NotFound(f"No API endpoint at this address; did you mean {with_slash} (with a slash)?")
        raise NotFound("No API endpoint at this address; see /api/docs/.")


def _is_endpoint(path: str) -> bool:
    try:
        return resolve(path).func.view_class is not ApiNotFound
    except (Resolver404, AttributeError):
        return False
