"""File downloads (exports, templates, packs) as the API and the console send them."""

from django.utils.http import content_disposition_header


def attachment(response, filename: str):
    """Mark `response` as a file download saved as `filename`, and keep it out of every cache.

    Exports carry business data: `no-store` keeps a shared proxy or the browser cache from holding
    a copy (API-14), whatever the response class and whether or not the security headers
    middleware runs. Returns the response.
    """
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    response["Cache-Control"] = "no-store"
    return response
