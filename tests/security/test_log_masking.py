"""Pass codes never reach a log in clear: application logs, the development server's access
log, gunicorn's access log."""

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
    """A refused request to /p/<code> (here: over the per-IP limit) is logged by Django as
    « Too Many Requests: /p/<code> »: the code is masked in what the handlers write."""
    monkeypatch.setattr("mediators.redemption.views.VERIFY_PER_MINUTE", 0)
    code = generate()
    response = client.get(f"/p/{code}")
    assert response.status_code == 429
    output = captured.getvalue()
    assert f"/p/••••-••••-••••-{code[-1]}" in output  # the line is there…
    assert code not in output  # …without the code


def test_development_server_access_line_masks_code(captured):
    code = generate()
    logging.getLogger("django.server").info('"%s" %s %s', f"GET /p/{code}?code={code} HTTP/1.1", 200, 512)
    output = captured.getvalue()
    assert f"GET /p/••••-••••-••••-{code[-1]}?code=••••-••••-••••-{code[-1]} HTTP/1.1" in output
    assert code not in output


@pytest.mark.django_db
def test_application_warning_masks_code(client, captured):
    code = generate()
    response = client.get(f"/api/v1/passes/{grouped(code)}")
    assert response.status_code in (401, 403)
    output = captured.getvalue()
    assert "/api/v1/passes/••••-••••-••••-" in output
    assert code not in output and grouped(code) not in output


def test_gunicorn_access_log_masks_code():
    """The logger class named by gunicorn.conf.py writes access lines without the code."""
    from datetime import timedelta
    from pathlib import Path

    from gunicorn.config import Config

    conf = {}
    exec(Path("gunicorn.conf.py").read_text(), conf)  # noqa: S102 (our own config file)
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
