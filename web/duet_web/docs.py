"""The API's two documentation pages, served with files from this service only.

Swagger UI and ReDoc come from drf-spectacular-sidecar (collected static files). ReDoc's
page drops drf-spectacular's web-font links, and a Content-Security-Policy keeps the one
remote file its bundle names (the "API docs by Redocly" logo) from being fetched.
"""

from typing import Any

from drf_spectacular.views import SpectacularRedocView
from rest_framework.request import Request
from rest_framework.response import Response

#: Only this origin; inline script and styles, data: images and blob: workers are ReDoc's.
REDOC_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
    ]
)


class RedocView(SpectacularRedocView):
    template_name = "duet_web/redoc.html"

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = REDOC_POLICY
        return response
