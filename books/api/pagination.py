"""Page-number pagination for every API list: ``?page=`` and ``?page_size=`` (at most 100)."""
import re

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class ApiPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        """``?page=`` past the last page is a 404 (DRF's); ``0``, ``-1`` or ``abc`` are a 400."""
        asked = request.query_params.get(self.page_query_param)
        if asked is not None and asked != "last" and not _whole_number(asked):
            raise ValidationError({self.page_query_param: [f"Expected a page number from 1, got {asked[:20]!r}."]})
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        """``?page_size=`` as asked (a larger one is capped at 100); ``0``, ``-1`` or ``abc`` are a 400."""
        asked = request.query_params.get(self.page_size_query_param)
        if asked is not None and not _whole_number(asked):
            raise ValidationError({self.page_size_query_param: [
                f"Expected a whole number from 1 to {self.max_page_size}, got {asked[:20]!r}."]})
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view):
        """DRF's ``page`` and ``page_size``, with the bounds the checks above hold them to."""
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.page_query_param: {"minimum": 1},
                  self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size}}
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters


def _whole_number(text: str) -> bool:
    """1, 2, … in ASCII digits, at most 9 of them ("²" passes ``isdigit`` but is no number ``int`` reads)."""
    return re.fullmatch(r"[0-9]{1,9}", text) is not None and int(text) >= 1
