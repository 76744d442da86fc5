"""Uploads stop at a size limit while they stream, and the person gets a clear page (413).

Without this, Django reads the whole body before a form checks a file's size, and an oversized
request ends in an error page. Two guards, both against ``PASSNUM_MAX_UPLOAD_BYTES``:

- ``UploadLimitMiddleware`` (before CSRF, which reads the form) answers 413 at once when the
  announced ``Content-Length`` is too large, without reading the body; for a form body it parses
  the upload itself, so that the handler's refusal becomes the same page;
- ``LimitedUploadHandler`` (first of ``FILE_UPLOAD_HANDLERS``) counts the bytes as they arrive
  (a body without ``Content-Length``, or one that lies) and stops past the limit.

Each form still checks its own smaller limit (logo 2 Mo, supporting document 5 Mo).
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.shortcuts import render


class UploadTooLarge(Exception):
    """The body went past ``PASSNUM_MAX_UPLOAD_BYTES``."""


def _limit():
    return settings.PASSNUM_MAX_UPLOAD_BYTES


class LimitedUploadHandler(FileUploadHandler):
    """Stops the upload as soon as more than the limit has been received."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.received = 0
        if content_length and content_length > _limit():
            raise UploadTooLarge()

    def receive_data_chunk(self, raw_data, start):
        self.received = getattr(self, "received", 0) + len(raw_data)
        if self.received > _limit():
            raise UploadTooLarge()
        return raw_data  # the next handler stores it

    def file_complete(self, file_size):
        return None


MESSAGE = "La requête dépasse la taille autorisée : rien n'a été enregistré. Réduisez la taille du fichier."


def too_large(request):
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse({"error": {"code": "request_too_large", "message": MESSAGE}}, status=413)
    return render(request, "413.html", {"limit": _limit()}, status=413)


class UploadLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > _limit():
            return too_large(request)
        # The API reads JSON only (DRF parses its own body): pages' forms are parsed here.
        if (
            request.method == "POST"
            and request.content_type == "multipart/form-data"
            and not request.path.startswith("/api/")
        ):
            try:
                request.POST  # noqa: B018 (parse now, through LimitedUploadHandler)
            except UploadTooLarge:
                return too_large(request)
        return self.get_response(request)
