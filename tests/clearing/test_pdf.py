"""The statement's PDF is rendered after the close commits, stored, and e-mailed to the site's
admin and finance members."""

import io

import pytest
from pypdf import PdfReader

from clearing import services
from clearing.models import Statement
from tests.clearing.factories import paris, redeeming_site, redemptions_in
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_pdf_rendered_after_commit_with_number_and_total_and_mailed(django_capture_on_commit_callbacks, mailoutbox):
    place = redeeming_site()
    finance = UserFactory()
    MembershipFactory(user=finance, organisation=place.organisation, role="finance")
    MembershipFactory(organisation=place.organisation, role="member")
    redemptions_in(place, paris(2026, 10, 5), count=3)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = services.close_month(month="2026-10", now=paris(2026, 11, 1, 2))
    statement = Statement.objects.get(number=result.numbers[0])
    assert not statement.pdf and not mailoutbox  # nothing rendered before commit
    assert len(callbacks) == 1

    with django_capture_on_commit_callbacks(execute=True):  # the notice is queued once the PDF is stored
        callbacks[0]()

    statement.refresh_from_db()
    assert statement.pdf.name.endswith(f"{statement.number}.pdf")
    with statement.pdf.open("rb") as handle:
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(handle.read())).pages)
    assert statement.number in text
    whole, cents = divmod(statement.total_cents, 100)
    assert f"{whole},{cents:02d}" in text
    (message,) = mailoutbox
    assert statement.number in message.subject
    assert finance.email in message.to
    assert message.attachments[0][0] == f"{statement.number}.pdf"
    # A second run of the task renders and sends nothing more.
    from clearing.tasks import render_statement_pdfs

    assert render_statement_pdfs([statement.pk]) == 0
    assert len(mailoutbox) == 1
