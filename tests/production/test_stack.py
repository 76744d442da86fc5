"""The production stack starts: the commands of ``docker-compose.yml`` (web: migrations then
gunicorn with ``passnum/gunicorn.conf.py``; worker; beat), run as they are with production
settings on the test PostgreSQL database and the test Redis, after the image's build step
(``collectstatic``). A journey over HTTP: an operator logs in with a TOTP second factor and launches
a print run from the admin, printed by the worker; a device gets an API token and redeems a pass;
the monthly close runs on the worker, its statement PDF rendered and e-mailed over SMTP."""

import datetime
import re
import subprocess
import time
import uuid

import pytest
import requests
import yaml
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils import timezone

from clearing.models import Statement
from mediators.redemption.models import Redemption
from passnum.passes import services
from passnum.passes.models import PrintRun
from tests.browser.support import totp_code
from tests.clearing.factories import paris, redemptions_in
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, UserFactory
from tests.mediators.factories import redeemable_booklet, redeeming_site
from tests.passes.test_printing import paid_order
from tests.production.conftest import BIN, ROOT, Process, free_port, process_env
from tests.production.test_workers import run_state, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def compose_command(service, data_dir):
    """The service's command as written in the compose file; ``/data`` is the test's folder."""
    return COMPOSE["services"][service]["command"].replace("/data/", f"{data_dir}/")


class PlainHttpSession(requests.Session):
    """Production cookies are ``Secure`` (HTTPS ends at the proxy); gunicorn is spoken to in plain
    HTTP here, so the flag is noted (``secure_cookies``), then dropped for the cookie to be sent."""

    def __init__(self):
        super().__init__()
        self.secure_cookies = set()

    def send(self, request, **kwargs):
        response = super().send(request, **kwargs)
        for cookie in self.cookies:
            if cookie.secure:
                self.secure_cookies.add(cookie.name)
                cookie.secure = False
        return response


def with_production_password(user):
    """Tests hash passwords with MD5 for speed; production settings only know PBKDF2."""
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(DEFAULT_PASSWORD, hasher.salt())
    user.save(update_fields=["password"])
    return user


def form_token(response):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text).group(1)


@pytest.fixture
def stack(tmp_path, media_root, broker, smtp_server):
    """web, worker and beat from docker-compose.yml, production settings; yields the base URL."""
    port = free_port()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = process_env(
        media_root,
        PATH=f"{BIN}:/usr/bin:/bin",
        PASSNUM_ENV="production",
        DJANGO_SECRET_KEY=uuid.uuid4().hex * 2,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="0",  # the proxy's job; here gunicorn is spoken to directly
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        PASSNUM_DATA_DIR=str(data_dir),
        PASSNUM_SITE_URL=f"http://127.0.0.1:{port}",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        GUNICORN_THREADS="2",
        **smtp_server.environment(),
    )
    processes = {
        name: Process(["sh", "-c", compose_command(name, data_dir)], env, tmp_path / f"{name}.log")
        for name in ("web", "worker", "beat")
    }
    base = f"http://127.0.0.1:{port}"
    try:
        # The image's build step (while the processes start), without the browsable API's and the
        # import screens' bundles (unused by this journey).
        subprocess.run(
            [str(BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v", "0"]
            + ["-i", "rest_framework", "-i", "import_export"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        processes["worker"].wait_for("ready.", timeout=90)
        processes["beat"].wait_for("beat: Starting", timeout=60)
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or still loading the code
                pass
            assert processes["web"].popen.poll() is None, processes["web"].output()[-3000:]
            assert time.monotonic() < deadline, "gunicorn did not answer /healthz"
            time.sleep(0.3)
        yield base, processes
    finally:
        for process in processes.values():
            process.stop()


def test_the_production_commands_serve_a_journey(stack, broker, smtp_server):
    base, processes = stack
    assert "No migrations to apply." in processes["web"].output()
    assert requests.get(f"{base}/healthz", timeout=5).json()["status"] == "ok"

    # An operator with a second factor; an order whose proof the worker printed and was approved.
    operator = with_production_password(UserFactory(staff=True))
    secret = generate_totp_secret()
    TOTP.activate(operator, secret)
    order = paid_order(20, passes_per_booklet=5, prefix="STK")
    proof = services.request_proof(order)
    wait_until(lambda: run_state(proof).status == PrintRun.Status.DONE, message="proof printed by the worker")
    services.approve_proof(proof)

    # Login: password, then the TOTP code.
    web = PlainHttpSession()
    page = web.get(f"{base}/compte/login/", timeout=10)
    login = web.post(
        page.url,
        {"login": operator.email, "password": DEFAULT_PASSWORD, "csrfmiddlewaretoken": form_token(page)},
        allow_redirects=False,
        timeout=10,
    )
    assert login.status_code == 302 and "/2fa/authenticate/" in login.headers["Location"], login.text[:500]
    page = web.get(base + login.headers["Location"], timeout=10)
    second = web.post(
        page.url,
        {"code": totp_code(secret), "csrfmiddlewaretoken": form_token(page)},
        allow_redirects=False,
        timeout=10,
    )
    assert second.status_code == 302, second.text[:500]
    assert web.secure_cookies >= {"sessionid", "csrftoken"}

    # The print run, launched from the admin, printed by the worker.
    changelist = web.get(f"{base}/admin/sponsors/order/", timeout=10)
    assert changelist.status_code == 200 and changelist.headers["X-Request-ID"]
    launched = web.post(
        changelist.url,
        {"action": "launch_print_run", "_selected_action": [order.pk], "csrfmiddlewaretoken": form_token(changelist)},
        allow_redirects=False,
        timeout=10,
    )
    assert launched.status_code == 302, launched.text[:500]
    run = PrintRun.objects.get(order=order, kind=PrintRun.Kind.FULL)
    wait_until(lambda: run_state(run).status == PrintRun.Status.DONE, message="run printed by the worker")
    assert run.done_booklets == 20 and run.files.count() == run.chunk_count

    # A device gets a token and redeems a pass through the API.
    place = redeeming_site()
    with_production_password(place.user)
    code = redeemable_booklet().passes.order_by("position").first().code
    token = requests.post(
        f"{base}/api/v1/auth/token/",
        json={"email": place.user.email, "password": DEFAULT_PASSWORD, "device": "Douchette"},
        timeout=10,
    )
    assert token.status_code == 201, token.text
    redeemed = requests.post(
        f"{base}/api/v1/redemptions",
        json={"codes": [code], "service": place.item.service.code, "point_of_presence": place.point.pk},
        headers={"Authorization": f"Token {token.json()['token']}", "Idempotency-Key": "stack-1"},
        timeout=10,
    )
    assert redeemed.status_code == 201, redeemed.text
    assert Redemption.objects.filter(site=place.site).count() == 1

    # The monthly close of last month, on the worker; the statement PDF rendered and mailed there.
    MembershipFactory(organisation=place.organisation, role="finance", user__email="compta@example.org")
    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    redemptions_in(place, paris(last_month.year, last_month.month, 5))
    broker.send_task("clearing.tasks.close_previous_month")
    statement = wait_until(lambda: Statement.objects.filter(site=place.site).first(), message="month closed")
    wait_until(lambda: Statement.objects.get(pk=statement.pk).pdf, message="statement PDF rendered")

    def statement_mails():
        return [m for m in smtp_server.mailbox.messages if statement.number in m["Subject"]]

    wait_until(statement_mails, message="statement e-mailed")
    (message,) = statement_mails()
    assert statement.number in message["Subject"] and message["To"] == "compta@example.org"
    assert [part.get_filename() for part in message.iter_attachments()] == [f"{statement.number}.pdf"]

    for name, process in processes.items():
        assert process.popen.poll() is None, f"{name} stopped:\n{process.output()[-2000:]}"
