"""Operations basics: a request id on every request and log line, one JSON line per request.

The request line says which organisation asked which route (the URL pattern, never the path:
paths carry pass codes and tokens), the answer's status and its duration. No name, e-mail,
code or query string is ever logged.
"""

import contextvars
import json
import logging
import re
import time
import uuid

REQUEST_ID_HEADER = "X-Request-ID"
# A request id given by a proxy is kept if it looks like one; anything else is replaced.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

current_request_id = contextvars.ContextVar("passnum_request_id", default="")
request_logger = logging.getLogger("passnum.requests")


class RequestIdFilter(logging.Filter):
    """Stamps every log record with the id of the request being served (empty outside one)."""

    def filter(self, record):
        if not getattr(record, "request_id", ""):
            record.request_id = current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: easy to ship to any log store and to search."""

    FIELDS = ("request_id", "organisation", "route", "method", "status", "duration_ms")

    def format(self, record):
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in self.FIELDS:
            value = getattr(record, field, None)
            if value not in (None, ""):
                line[field] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def request_id_from(request):
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _VALID_REQUEST_ID.match(given) else uuid.uuid4().hex


class RequestLogMiddleware:
    """Outermost middleware: gives the request its id, echoes it in the response, logs one line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_from(request)
        token = current_request_id.set(request.request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request.request_id
            self._log(request, response.status_code, started)
            return response
        except Exception:
            self._log(request, 500, started)
            raise
        finally:
            current_request_id.reset(token)

    @staticmethod
    def _log(request, status, started):
        match = getattr(request, "resolver_match", None)
        organisation = getattr(request, "organisation", None)
        request_logger.info(
            "request",
            extra={
                "request_id": request.request_id,
                "organisation": getattr(organisation, "pk", None),
                "route": (match.route or match.view_name) if match else "(inconnue)",
                "method": request.method,
                "status": status,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
