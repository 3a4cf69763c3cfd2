"""Where a page may send the reader back to after a form."""
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next_url(request) -> str | None:
    """The ``next`` URL of the request (form field or query) when it points back into this site, never elsewhere."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return target
    return None
