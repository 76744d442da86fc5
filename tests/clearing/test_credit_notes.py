"""Credit notes (avoirs) of expired passes: face value only, cancelled passes reported apart,
numbered AV-YYYY-NNNNNN, PDF and e-mail after commit, immutable, one per programme."""

import io

import pytest
from django.core import mail
from django.db import IntegrityError, ProgrammingError, transaction
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from clearing import services
from clearing.models import CreditNote
from tests.clearing.factories import CreditNoteFactory
from tests.clearing.helpers import programme_in_every_state
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = programme_in_every_state()
    sponsor = world.programme.sponsor
    world.admin = MembershipFactory(organisation=sponsor, role="admin").user
    world.finance = MembershipFactory(organisation=sponsor, finance=True).user
    world.member = MembershipFactory(organisation=sponsor, role="member").user
    return world


def expire(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.expire_passes(today=world.expiry_day)
    return CreditNote.objects.get(programme=world.programme)


def pdf_text(note):
    with note.pdf.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return " ".join(page.extract_text() for page in reader.pages)


def test_the_credit_note_is_the_face_value_of_expired_passes(world, django_capture_on_commit_callbacks):
    note = expire(world, django_capture_on_commit_callbacks)
    year = timezone.localdate().year
    assert note.number == f"AV-{year}-000001" and note.year == year
    assert note.expired_pass_count == 18 and note.amount_cents == 18 * 1000  # the 4 % fee is not refunded
    assert note.cancelled_pass_count == 10 and note.cancelled_value_cents == 10_000
    assert note.sponsor == world.programme.sponsor and note.sponsor_siret == world.programme.sponsor.siret


def test_pdf_and_e_mail_after_commit_to_admins_and_finance(world, django_capture_on_commit_callbacks):
    note = expire(world, django_capture_on_commit_callbacks)
    note.refresh_from_db()
    text = pdf_text(note)
    assert f"Avoir {note.number}" in text
    assert "18 pass expirés" in text and "180,00" in text
    assert "10 pass de carnets déclarés perdus ou annulés" in text and "100,00" in text
    assert "ne sont pas remboursés" in text
    assert note.sent_at is not None
    (message,) = mail.outbox
    assert sorted(message.to) == sorted([world.admin.email, world.finance.email])
    assert note.number in message.subject and "180,00" in message.body
    assert message.attachments[0][0] == f"{note.number}.pdf"
    # Sent once: the task run again neither re-renders nor re-sends.
    name = note.pdf.name
    from clearing.tasks import render_and_send_credit_note

    assert render_and_send_credit_note(note.pk) is False
    note.refresh_from_db()
    assert note.pdf.name == name and len(mail.outbox) == 1


def test_one_credit_note_per_programme(world, django_capture_on_commit_callbacks):
    note = expire(world, django_capture_on_commit_callbacks)
    assert services.issue_credit_note(programme=world.programme) is None
    assert services.issue_credit_notes() == []
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditNoteFactory(programme=world.programme, number="AV-2099-999999")
    assert list(CreditNote.objects.values_list("number", flat=True)) == [note.number]


def test_no_credit_note_without_expired_passes():
    world = programme_in_every_state()
    services.expire_passes(today=world.expiry_day - timezone.timedelta(days=1))
    assert not CreditNote.objects.exists()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE clearing_creditnote SET amount_cents = 1000, expired_pass_count = 1",
        "UPDATE clearing_creditnote SET number = 'AV-2099-000042'",
        "UPDATE clearing_creditnote SET pdf = 'autre.pdf'",
        "DELETE FROM clearing_creditnote",
    ],
)
def test_the_database_refuses_to_change_an_issued_credit_note(sql):
    note = CreditNoteFactory()
    from django.db import connection

    with pytest.raises(ProgrammingError, match="pgtrigger"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    note.refresh_from_db()
    assert note.amount_cents == 3000 and note.number.startswith("AV-2099-")


def test_the_sent_date_may_still_be_recorded():
    note = CreditNoteFactory(sent_at=None)
    CreditNote.objects.filter(pk=note.pk).update(sent_at=timezone.now())
    note.refresh_from_db()
    assert note.sent_at is not None


def test_the_sponsor_lists_and_downloads_its_credit_notes(client, world, django_capture_on_commit_callbacks):
    note = expire(world, django_capture_on_commit_callbacks)
    client.force_login(world.admin)
    page = client.get(reverse("sponsors:home"))
    assert note.number in page.content.decode()
    download = client.get(reverse("sponsors:credit_note_pdf", kwargs={"pk": note.pk}))
    assert download.status_code == 200 and download.content.startswith(b"%PDF")

    stranger = UserFactory(with_mfa=True)
    MembershipFactory(user=stranger, organisation=CreditNoteFactory().sponsor, role="admin")
    client.force_login(stranger)
    assert client.get(reverse("sponsors:credit_note_pdf", kwargs={"pk": note.pk})).status_code == 404
