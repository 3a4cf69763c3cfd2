"""The bases of every API view: DRF's, where an unknown query parameter is a 400 naming the known ones.

A typo (``?auther=``) or a filter an endpoint does not have (``/training-runs/?status=failed``) is never
ignored: ignored, it would answer as if it had applied.
"""
from collections.abc import Iterable

from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings
from rest_framework.views import APIView

PAGINATION = ("page", "page_size")


def refuse_unknown(names: Iterable[str], known: list[str], *, word: str) -> None:
    """A 400 for each of ``names`` not in ``known``, naming the known ones (``word``: "field", "parameter")."""
    unknown = [name for name in names if name not in known]
    if unknown:
        message = f"Unknown {word}. Known {word}s: {', '.join(known)}." if known else f"Unknown {word}: there are none."
        raise ValidationError({name: [message] for name in unknown})


class QueryParametersChecked:
    """Refuses query parameters the view does not know, after authentication and permissions. Known: the fields
    of the view's ``query_parameters`` serializer (their values are the view's to check), its filterset's
    filters, ``page`` and ``page_size`` on a paginated list, and DRF's ``format``."""

    query_parameters = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        names = [name for name in request.query_params if name != api_settings.URL_FORMAT_OVERRIDE]
        refuse_unknown(names, self.known_query_parameters(request), word="parameter")

    def known_query_parameters(self, request) -> list[str]:
        if self.query_parameters is not None:
            return list(self.query_parameters().fields)
        known = list(getattr(self, "filterset_class", None) and self.filterset_class.base_filters or ())
        if request.method in ("GET", "HEAD") and getattr(self, "pagination_class", None) is not None:
            known += PAGINATION
        return known


class ApiView(QueryParametersChecked, APIView):
    pass


class GenericApiView(QueryParametersChecked, generics.GenericAPIView):
    pass


class ListApiView(QueryParametersChecked, generics.ListAPIView):
    pass
