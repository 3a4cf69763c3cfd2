"""The API's content negotiation (a DRF setting, so it imports nothing of DRF's views)."""
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import DefaultContentNegotiation


class FormatsNamedNegotiation(DefaultContentNegotiation):
    """DRF's content negotiation, where an unknown ``?format=`` is a 404 naming the formats there are (DRF's own
    says only "Not found.", as if the resource were missing)."""

    def filter_renderers(self, renderers, format):
        kept = [renderer for renderer in renderers if renderer.format == format]
        if not kept:
            formats = ", ".join(sorted({renderer.format for renderer in renderers}))
            raise NotFound(f"No format {format!r} here: ?format= takes {formats}.")
        return kept
