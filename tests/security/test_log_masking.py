"""Pass codes never reach a log in clear: application logs (JSON, one line per request with its
route, never its path) and gunicorn's log."""

import io
import logging
from types import SimpleNamespace

import pytest

from passnum.gunicorn_logging import MaskedLogger
from passnum.logmask import mask_codes
from passnum.passes.codes import generate, grouped


@pytest.fixture
def captured():
    """The stream of every handler configured by settings.LOGGING (root and django.server)."""
    stream = io.StringIO()
    handlers = [*logging.getLogger().handlers, *logging.getLogger("django.server").handlers]
    handlers = [h for h in handlers if isinstance(h, logging.StreamHandler) and h.filters]
    assert handlers, "LOGGING configures no filtered handler"
    old = [h.setStream(stream) for h in handlers]
    yield stream
    for handler, previous in zip(handlers, old, strict=True):
        handler.setStream(previous)


def test_mask_keeps_only_the_check_character():
    code = generate()
    masked = f"••••-••••-••••-{code[-1]}"
    assert mask_codes(f"/p/{code}") == f"/p/{masked}"
    assert mask_codes(f"?code={grouped(code).lower().replace('-', '+')}&x=1") == f"?code={masked}&x=1"
    assert mask_codes("Carnet GIRB000014, questionnaire, 2026-11-29") == "Carnet GIRB000014, questionnaire, 2026-11-29"


@pytest.mark.django_db
def test_request_to_pass_url_logged_without_code(client, captured, monkeypatch):
    """A refused request to /p/<code> (here: over the per-IP limit) is logged as
    « Too Many Requests: /p/<code> »: the code is masked in what the handlers write."""
    monkeypatch.setattr("mediators.redemption.views.VERIFY_PER_MINUTE", 0)
    code = generate()
    response = client.get(f"/p/{code}")
    assert response.status_code == 429
    output = captured.getvalue()
    assert '"route": "p/<path:code>"' in output  # the request's line is there, with its route…
    assert code not in output  # …never its code


@pytest.mark.django_db
def test_application_warning_masks_code(client, captured):
    code = generate()
    response = client.get(f"/api/v1/passes/{grouped(code)}")
    assert response.status_code in (401, 403)
    # Django's own « Not Found / Forbidden: <path> » lines are errors only here; one written by
    # any logger is masked all the same.
    logging.getLogger("django.request").error("Forbidden: %s", f"/api/v1/passes/{grouped(code)}")
    output = captured.getvalue()
    assert "/api/v1/passes/••••-••••-••••-" in output
    assert code not in output and grouped(code) not in output


def test_gunicorn_access_log_masks_code():
    """The logger class named by passnum/gunicorn.conf.py writes access lines without the code."""
    from datetime import timedelta
    from pathlib import Path

    from gunicorn.config import Config

    conf = {}
    exec(Path("passnum/gunicorn.conf.py").read_text(), conf)  # noqa: S102 (our own config file)
    config = Config()
    config.set("logger_class", conf["logger_class"])
    config.set("access_log_format", '%(h)s "%(r)s" %(s)s "%(f)s" %(U)s %(q)s')
    logger = config.logger_class(config)
    assert isinstance(logger, MaskedLogger)
    code = generate()
    request = SimpleNamespace(
        method="GET", path=f"/p/{code}", query=f"code={code}", uri=f"/p/{code}?code={code}", version=(1, 1), headers=[]
    )
    response = SimpleNamespace(status="200 OK", headers=[], sent=10, response_length=10)
    environ = {
        "REQUEST_METHOD": "GET",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "RAW_URI": f"/p/{code}?code={code}",
        "HTTP_REFERER": f"/p/{code}",
    }
    atoms = logger.atoms(response, request, environ, timedelta(seconds=0))
    line = config.access_log_format % atoms
    assert f"/p/••••-••••-••••-{code[-1]}" in line
    assert code not in line and code not in " ".join(str(value) for value in atoms.values())
