"""Downloads of stored PDFs (print files, invoices) for the sponsor's space and the admin."""

import io
import mimetypes
import zipfile

from django.http import Http404, HttpResponse
from django.utils.cache import add_never_cache_headers


def never_stored(response):
    """Never kept by a browser or a proxy cache (``no-store``): these files hold codes and money."""
    add_never_cache_headers(response)
    response["Cache-Control"] = "no-store, " + response["Cache-Control"]
    return response


def file_response(field_file, filename):
    """The file's bytes as an attachment (read and closed at once: no handle left open)."""
    if not field_file:
        raise Http404("Le fichier n'est plus disponible : il a été supprimé après la livraison.")
    try:
        with field_file.open("rb") as handle:
            content = handle.read()
    except (FileNotFoundError, ValueError) as error:
        raise Http404("Le fichier n'est plus disponible.") from error
    # PDFs mostly; a SEPA file is XML.
    response = HttpResponse(content, content_type=mimetypes.guess_type(filename)[0] or "application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return never_stored(response)


def files_response(items, zip_name):
    """One file as it is, several in a ZIP archive. ``items``: ``(field_file, filename)``."""
    if len(items) == 1:
        return file_response(*items[0])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for field_file, filename in items:
            if not field_file:  # purged after delivery
                continue
            with field_file.open("rb") as handle:
                archive.writestr(filename, handle.read())
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{zip_name}"'
    return never_stored(response)
