"""Request checks for the admin."""
from django.http import HttpResponseBadRequest


class RefuseNulInAdminQueryMiddleware:
    """An admin URL whose query string holds a NUL character is a 400 naming the parameter.

    PostgreSQL text cannot hold NUL, so such a value in a changelist's search or filter would be a server
    error. The site's forms and the API's fields refuse NUL one by one; the admin's changelists do not.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/admin/"):
            for name, values in request.GET.lists():
                if "\x00" in name or any("\x00" in value for value in values):
                    return HttpResponseBadRequest(
                        f"The query parameter {name.replace(chr(0), '')!r} contains a NUL character.",
                        content_type="text/plain; charset=utf-8")
        return self.get_response(request)
