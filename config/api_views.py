"""The bases of every API view: DRF's, where an unknown query parameter is a 400 naming the known ones and the
throttles are checked together (``config.throttling.SharedWindowThrottling``).

A typo (``?auther=``) or a filter an endpoint does not have (``/training-runs/?status=failed``) is never
ignored: ignored, it would answer as if it had applied.
"""
from rest_framework import generics
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from config.api_errors import refuse_unknown
from config.throttling import SharedWindowThrottling


class QueryParametersChecked:
    """Refuses query parameters the view does not know, after authentication and permissions. Known: the fields
    of the view's ``query_parameters`` serializer (their values are the view's to check), its filterset's
    filters, ``page`` and ``page_size`` on a paginated list, and DRF's ``format``."""

    query_parameters = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        names = [name for name in request.query_params if name != api_settings.URL_FORMAT_OVERRIDE]
        refuse_unknown(names, self.known_query_parameters(request), word="parameter")

    def query_parameters_valid(self, request) -> dict:
        """The values of the ``query_parameters`` serializer's fields, checked (a 400 naming a bad one)."""
        return validated(self.query_parameters, request.query_params)

    def known_query_parameters(self, request) -> list[str]:
        if self.query_parameters is not None:
            return list(self.query_parameters().fields)
        known = list(getattr(self, "filterset_class", None) and self.filterset_class.base_filters or ())
        paginator = getattr(self, "paginator", None)
        if paginator is not None and request.method in ("GET", "HEAD", "OPTIONS"):
            known += [paginator.page_query_param, paginator.page_size_query_param]
        return known


class ApiView(QueryParametersChecked, SharedWindowThrottling, APIView):
    pass


class GenericApiView(QueryParametersChecked, SharedWindowThrottling, generics.GenericAPIView):
    pass


class ListApiView(QueryParametersChecked, SharedWindowThrottling, generics.ListAPIView):
    pass


def validated(serializer_class, data, **kwargs) -> dict:
    """``data`` checked by ``serializer_class`` (a 400 naming each bad field), as its validated values."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
