"""X-Request-ID: taken from the client (or a proxy) when well formed, else made here.

The id is returned on the response, bound to every log line of the request, and sent with
the summarise task as a message header, so the worker's lines about the job carry it too.
"""

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from shared_resource import logs

HEADER = "X-Request-ID"
#: What is accepted from outside: short, and safe to write into a log line or a header.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_of(request: HttpRequest) -> str:
    """The client's id if well formed, else a new random one."""
    offered = request.headers.get(HEADER, "")
    return offered if _WELL_FORMED.fullmatch(offered) else uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_of(request)
        with logs.bound(request_id=request_id):
            response = self.get_response(request)
        response[HEADER] = request_id
        return response
