"""The sponsor's invoice says the right things: number, amounts and VAT read back from the PDF's
text, as the sponsor downloads it (not only a status code and a PDF header)."""

import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from sponsors import services
from tests.sponsors.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db


def pdf_lines(data):
    """The PDF's text, line by line, with the French narrow and no-break spaces made plain."""
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return [re.sub(r"[\s\u00a0\u202f]+", " ", line).strip() for line in text.splitlines() if line.strip()]


def line_with(lines, words):
    found = [line for line in lines if words in line]
    assert len(found) == 1, (words, lines)
    return found[0]


def test_invoice_pdf_tells_its_number_amounts_and_vat(client, member_of, settings):
    settings.PASSNUM_SPONSOR_FEE_RATE_BP = 400
    settings.PASSNUM_VAT_RATE_BP = 2000
    programme = ProgrammeFactory(face_value_cents=1000, passes_per_booklet=10)
    invoice = services.confirm_order(services.create_quote(programme, 123))
    # 123 booklets × 10 passes × 10 € = 12 300 €; fees 4 % = 492 €; VAT 20 % of the fees = 98,40 €;
    # total 12 890,40 €.
    assert (invoice.face_value_cents, invoice.fee_cents, invoice.vat_cents) == (1_230_000, 49_200, 9_840)
    assert invoice.total_cents == 1_289_040

    client.force_login(member_of(programme.sponsor, role="finance"))
    response = client.get(reverse("sponsors:invoice_pdf", kwargs={"pk": invoice.pk}))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    lines = pdf_lines(b"".join(response.streaming_content) if response.streaming else response.content)

    year = timezone.localdate().year
    assert lines[0] == f"Facture FAC-{year}-000001"
    assert f"Facture FAC-{year}-000001 — page 1 / 1" in lines
    assert "1230 pass de 10,00 €" in line_with(lines, "123 carnets de 10 pass")
    assert line_with(lines, "de la TVA)") == "de la TVA) 12 300,00 €"  # face value, outside the scope of VAT
    assert line_with(lines, "Frais de gestion").endswith("4 % HT de la valeur faciale 492,00 €")
    assert line_with(lines, "TVA à 20 % sur les frais") == "TVA à 20 % sur les frais 98,40 €"
    assert line_with(lines, "Total à payer") == "Total à payer 12 890,40 €"
    assert invoice.sponsor_name in " ".join(lines)
