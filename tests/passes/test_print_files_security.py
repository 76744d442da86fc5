"""Print files hold live codes: who downloads them, the audit of each download, no-store, purge
after delivery; proofs print « SPÉCIMEN » and codes that can never be redeemed."""

import io
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from passnum.audit.models import AuditLog
from passnum.passes import codes, services, tasks
from passnum.passes.models import Pass, PrintFile, PrintRun
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.passes.factories import PrintFileFactory
from tests.passes.test_printing import decode_pdf, paid_order, read

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def sponsor():
    return OrganisationFactory(sponsor=True)


def sponsor_user(sponsor, role, *, mfa):
    user = UserFactory(with_mfa=mfa)
    MembershipFactory(user=user, organisation=sponsor, role=role)
    return user


def downloads_logged(print_file):
    return AuditLog.objects.filter(action="passes.print_file.downloaded", target_id=str(print_file.pk))


@pytest.mark.parametrize(
    ("role", "mfa"),
    [("member", True), ("member", False), ("admin", False)],
)
def test_members_and_accounts_without_second_factor_cannot_download(client, sponsor, role, mfa):
    print_file = PrintFileFactory(print_run__order__programme__sponsor=sponsor)
    client.force_login(sponsor_user(sponsor, role, mfa=mfa))
    response = client.get(reverse("sponsors:print_file", args=[print_file.pk]))
    assert response.status_code == 403
    assert not response.content.startswith(b"%PDF")
    assert "double authentification" in response.content.decode()
    page = client.get(reverse("sponsors:order", args=[print_file.print_run.order.pk])).content.decode()
    assert reverse("sponsors:print_file", args=[print_file.pk]) not in page
    assert not downloads_logged(print_file).exists()


@pytest.mark.parametrize("role", ["admin", "finance"])
def test_admin_or_finance_with_second_factor_downloads_audited_and_not_stored(client, sponsor, role):
    print_file = PrintFileFactory(print_run__order__programme__sponsor=sponsor)
    user = sponsor_user(sponsor, role, mfa=True)
    client.force_login(user)
    response = client.get(reverse("sponsors:print_file", args=[print_file.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert "no-store" in response["Cache-Control"]
    entry = downloads_logged(print_file).get()
    assert entry.actor == user and entry.organisation_id == sponsor.pk
    assert entry.after["file"] == print_file.download_name and entry.created_at is not None


def test_operator_admin_downloads_are_audited(client, operator_user, sponsor):
    files = [
        PrintFileFactory(
            print_run__order__programme__sponsor=sponsor,
            chunk=n,
            first_serial=f"QAA00000{n}",
            last_serial=f"QAA00000{n}",
        )
        for n in (0, 1)
    ]
    PrintFile.objects.filter(pk=files[1].pk).update(print_run=files[0].print_run)
    client.force_login(operator_user)
    response = client.post(
        reverse("admin:passes_printfile_changelist"),
        {"action": "download", "_selected_action": [f.pk for f in files]},
    )
    assert response["Content-Type"] == "application/zip" and "no-store" in response["Cache-Control"]
    assert all(downloads_logged(f).get().actor == operator_user for f in files)
    response = client.post(
        reverse("admin:passes_printrun_changelist"), {"action": "download", "_selected_action": [files[0].print_run.pk]}
    )
    assert response["Content-Type"] == "application/zip"
    assert all(downloads_logged(f).count() == 2 for f in files)


def test_files_purged_after_delivery_and_retention(
    client, operator_user, sponsor, settings, django_capture_on_commit_callbacks
):
    settings.PASSNUM_PRINT_FILE_RETENTION_DAYS = 30
    print_file = PrintFileFactory(print_run__order__programme__sponsor=sponsor)
    PrintRun.objects.filter(pk=print_file.print_run_id).update(status=PrintRun.Status.DONE)
    name = print_file.file.name
    assert default_storage.exists(name)
    assert tasks.purge_print_files() == 0  # never delivered: kept

    client.force_login(operator_user)
    client.post(
        reverse("admin:passes_printrun_changelist"),
        {"action": "mark_delivered", "_selected_action": [print_file.print_run_id]},
    )
    run = PrintRun.objects.get(pk=print_file.print_run_id)
    assert run.delivered_at is not None and run.delivered_by == operator_user
    with time_machine.travel(timezone.now() + timedelta(days=29)):
        assert tasks.purge_print_files() == 0
    assert default_storage.exists(name)
    with time_machine.travel(timezone.now() + timedelta(days=31)), django_capture_on_commit_callbacks(execute=True):
        assert tasks.purge_print_files() == 1
        assert tasks.purge_print_files() == 0  # once
    print_file.refresh_from_db()
    assert not print_file.file and print_file.purged_at is not None
    assert not default_storage.exists(name)
    client.force_login(sponsor_user(sponsor, "admin", mfa=True))
    response = client.get(reverse("sponsors:print_file", args=[print_file.pk]))
    assert response.status_code == 404
    page = client.get(reverse("sponsors:order", args=[run.order_id])).content.decode()
    assert "fichier supprimé le" in page


def _pdf_text(data):
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def test_proof_carries_specimen_on_every_page_and_no_real_code(django_capture_on_commit_callbacks):
    order = paid_order(2, passes_per_booklet=5, prefix="SPC")
    with django_capture_on_commit_callbacks(execute=True):
        proof = services.request_proof(order)
    data = read(PrintFile.objects.get(print_run=proof))
    pages = _pdf_text(data)
    assert len(pages) == 2 and all("SPÉCIMEN" in text for text in pages)
    real = set(Pass.objects.filter(booklet__order=order).values_list("code", flat=True))
    text = " ".join(pages).replace("-", "")
    assert not any(code in text for code in real)
    printed = {text for _, kind, text in decode_pdf(data) if kind == "Code128"} - {"SPECIMEN"}
    assert len(printed) == 5 and not printed & real
    for code in printed:
        assert codes.parse(code).error == codes.MISTYPED  # never a valid code, never a pass
    assert not re.search(r"SPC\d{6}", " ".join(pages))  # not even a real serial


def test_specimen_codes_are_never_valid():
    for number in range(1, 500):
        assert codes.parse(codes.specimen(number)).error == codes.MISTYPED


def test_redeeming_a_specimen_code_is_refused():
    from mediators.redemption import services as redemption_services
    from tests.mediators.factories import redeeming_site

    place = redeeming_site()
    with pytest.raises(redemption_services.RedemptionRefused) as caught:
        redemption_services.redeem(
            place.organisation,
            user=place.user,
            codes_entered=[codes.specimen(1)],
            service_code=1,
            point_id=place.point.pk,
        )
    assert caught.value.code == "code_mistyped"
