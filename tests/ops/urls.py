"""The project's URLs plus views that fail on purpose (tests only)."""

from django.db import OperationalError
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_POST

from passnum.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def boom(request):
    raise RuntimeError("panne de test")


def database_lost(request):
    raise OperationalError("terminating connection due to administrator command")


@require_POST
def post_only(request):
    return HttpResponse("ok")


urlpatterns = [
    path("api/v1/test/boom", boom),
    path("test/boom", boom),
    path("api/v1/test/db", database_lost),
    path("test/db", database_lost),
    path("api/v1/test/post-only", post_only),
    *urlpatterns,
]
