"""The main journeys on the embedded default (SQLite file, tasks in-process), from the demo's
data as ``make run`` builds it: migrations, demo, hand-over at the counter, redemption through
the API with a token (replay, second key), undo, « vérifier mon pass » and a print run."""

import io
import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader
from rest_framework.test import APIClient

from passnum.demo import DEMO_PASSWORD
from passnum.passes import services as pass_services
from passnum.passes.models import Booklet, Pass, PassState, PrintRun
from sponsors import services as sponsor_services
from sponsors.models import Programme

pytestmark = [pytest.mark.embedded, pytest.mark.django_db]


def test_the_database_is_a_migrated_sqlite_file_in_the_data_folder():
    assert settings.EMBEDDED_DEFAULT and connection.vendor == "sqlite"
    assert settings.CELERY_TASK_ALWAYS_EAGER and "locmem" in settings.CACHES["default"]["BACKEND"].lower()
    database = Path(connection.settings_dict["NAME"])
    assert database.is_file() and database.parent == Path(settings.DATA_DIR)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []


def test_demo_tells_the_embedded_password_and_runs_again_without_change(demo):
    assert {account["password"] for account in demo["accounts"]} == {DEMO_PASSWORD}
    counts = (Booklet.objects.count(), Pass.objects.count())
    out = StringIO()
    call_command("demo", "--json", stdout=out)
    again = json.loads(out.getvalue())
    assert (Booklet.objects.count(), Pass.objects.count()) == counts
    assert again["redeemable_passes"] == demo["redeemable_passes"]


def log_in(client, email):
    response = client.post(reverse("account_login"), {"login": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]


def test_hand_over_at_the_counter(client, demo):
    serial = demo["booklets_in_stock"][0]["serial"]
    log_in(client, "guichet@demo.passnum.fr")
    hand_over = reverse("prescribers:hand_over")
    page = client.get(hand_over, {"serial": serial})
    assert page.status_code == 200
    form = page.context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {name: value for name, value in data.items() if value not in (None, False)}
    data["audiences"] = ["seniors"]
    response = client.post(hand_over, data)
    assert response.status_code == 302, page.context["form"].errors
    booklet = Booklet.objects.get(serial=serial)
    assert booklet.state == Booklet.State.HANDED_OUT
    assert set(booklet.passes.values_list("state", flat=True)) == {PassState.ACTIVE}
    assert f"Carnet {serial} remis" in client.get(response["Location"]).content.decode()


def site_api():
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/",
        {"email": "mediateur@demo.passnum.fr", "password": DEMO_PASSWORD, "device": "Douchette"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def redeem(client, body, key):
    return client.post("/api/v1/redemptions", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_redemption_through_the_api_replay_second_key_and_undo(demo):
    item = demo["redeemable_passes"][0]
    client = site_api()
    body = {"codes": [item["code"]], "service": item["service"], "point_of_presence": item["point_of_presence"]}

    first = redeem(client, body, "embarque-1")
    assert first.status_code == 201, first.json()
    assert first.json()["status"] == "live" and first.json()["pass_count"] == 1
    assert Pass.objects.get(code=item["code"]).state == PassState.REDEEMED

    replay = redeem(client, body, "embarque-1")
    assert (replay.status_code, replay.json()) == (201, first.json())

    second = redeem(client, body, "embarque-2")
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "pass_already_redeemed"

    undone = client.delete(f"/api/v1/redemptions/{first.json()['id']}")
    assert undone.status_code == 200, undone.json()
    assert undone.json()["status"] == "undone" and undone.json()["undone_at"]
    assert Pass.objects.get(code=item["code"]).state == PassState.ACTIVE
    check = client.get(f"/api/v1/passes/{item['code']}")
    assert check.status_code == 200 and check.json()["redeemable"] is True


def test_check_my_pass(client, demo):
    code = demo["redeemable_passes"][1]["code"]
    page = client.get(reverse("beneficiaries:verify"), {"code": code.lower()})
    assert page.status_code == 200
    assert "Ce pass est utilisable." in page.content.decode()


def test_print_run_produces_the_booklets_pdf(demo, django_capture_on_commit_callbacks):
    programme = Programme.objects.get(name=demo["programmes"][0]["name"])
    order = sponsor_services.create_quote(programme, 2)
    invoice = sponsor_services.confirm_order(order)
    sponsor_services.record_payment(invoice, paid_on=timezone.localdate(), reference="VIR-EMBARQUE")
    order.refresh_from_db()
    # The tasks run in-process (no broker): the proof, then the full run, once committed.
    with django_capture_on_commit_callbacks(execute=True):
        proof = pass_services.request_proof(order)
    proof.refresh_from_db()
    assert proof.status == PrintRun.Status.DONE
    pass_services.approve_proof(proof)
    with django_capture_on_commit_callbacks(execute=True):
        run = pass_services.launch_print_run(order)
    run.refresh_from_db()
    assert run.status == PrintRun.Status.DONE and (run.done_booklets, run.total_booklets) == (2, 2)
    print_file = run.files.get()
    with print_file.file.open("rb") as handle:
        data = handle.read()
    assert data[:5] == b"%PDF-"
    pdf = PdfReader(io.BytesIO(data))
    assert len(pdf.pages) == 2 * 2  # a cover and a page of passes per booklet
    serials = list(order.booklets.order_by("serial").values_list("serial", flat=True))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert all(serial in text for serial in serials), (serials, text[:300])
