"""Print runs: proof, full run, idempotence, and every QR code and barcode decodes."""

import io

import pypdfium2
import pytest
import zxingcpp
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfReader

from passnum.errors import DomainError
from passnum.passes import codes, services
from passnum.passes.models import Pass, PrintFile, PrintRun
from sponsors import services as sponsor_services
from tests.sponsors.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db


def paid_order(booklets, **programme):
    order = sponsor_services.create_quote(ProgrammeFactory(**programme), booklets)
    invoice = sponsor_services.confirm_order(order)
    sponsor_services.record_payment(invoice, paid_on=timezone.localdate(), reference="VIR-1")
    order.refresh_from_db()
    return order


def decode_pdf(data, dpi=300):
    """Every barcode of every page: ``[(page, format, text)]``."""
    found = []
    document = pypdfium2.PdfDocument(data)
    try:
        for number in range(len(document)):
            page = document[number]
            image = page.render(scale=dpi / 72, grayscale=True).to_pil()
            for result in zxingcpp.read_barcodes(image):
                found.append((number, result.format.name, result.text))
            page.close()
    finally:
        document.close()
    return found


def read(print_file):
    with print_file.file.open("rb") as handle:
        return handle.read()


def test_print_run_refused_on_an_unpaid_order(django_capture_on_commit_callbacks):
    order = sponsor_services.create_quote(ProgrammeFactory(), 1)
    sponsor_services.confirm_order(order)
    order.refresh_from_db()
    with pytest.raises(DomainError, match="pas payée"):
        services.request_proof(order)
    with pytest.raises(DomainError, match="pas payée"):
        services.launch_print_run(order)
    assert not PrintRun.objects.exists()


def test_full_run_needs_an_approved_proof(django_capture_on_commit_callbacks):
    order = paid_order(1)
    with pytest.raises(DomainError, match="BAT"):
        services.launch_print_run(order)


def test_proof_then_full_run_and_every_code_decodes(django_capture_on_commit_callbacks):
    order = paid_order(3, passes_per_booklet=5, prefix="DEC")
    with django_capture_on_commit_callbacks(execute=True):
        proof = services.request_proof(order)
    proof.refresh_from_db()
    assert proof.status == PrintRun.Status.DONE and proof.done_booklets == 1
    services.approve_proof(proof)

    with django_capture_on_commit_callbacks(execute=True):
        run = services.launch_print_run(order, chunk_size=2)
    run.refresh_from_db()
    assert run.status == PrintRun.Status.DONE
    assert (run.done_booklets, run.total_booklets) == (3, 3)
    files = list(run.files.order_by("chunk"))
    assert [(f.first_serial, f.last_serial) for f in files] == [("DEC000001", "DEC000002"), ("DEC000003", "DEC000003")]
    for print_file in files:
        assert print_file.file.name.startswith("print/")
        assert len(print_file.file.name.split("/")[1]) >= 32  # unguessable folder

    expected_codes = {}
    for p in Pass.objects.filter(booklet__order=order).select_related("booklet"):
        expected_codes[p.code] = p.booklet.serial
    decoded = []
    for print_file in files:
        data = read(print_file)
        assert len(PdfReader(io.BytesIO(data)).pages) == 2 * print_file.booklet_count
        decoded += decode_pdf(data)
    qr = {text for _, kind, text in decoded if kind == "QRCode"}
    bars = {text for _, kind, text in decoded if kind == "Code128"}
    assert qr == {f"{settings.SITE_URL}/p/{code}" for code in expected_codes}
    assert bars == set(expected_codes) | {"DEC000001", "DEC000002", "DEC000003"}
    for url in qr:  # what a phone opens is read back as the right code
        assert codes.parse(url).code in expected_codes

    # The proof holds a specimen booklet: its codes decode, and are no code of a real pass.
    proof_decoded = {(kind, text) for _, kind, text in decode_pdf(read(proof.files.get()))}
    assert ("Code128", "SPECIMEN") in proof_decoded
    assert ("Code128", codes.specimen(1)) in proof_decoded
    assert not {text for _, text in proof_decoded} & set(expected_codes)


def test_the_cover_says_what_happens_to_a_lost_booklet(django_capture_on_commit_callbacks):
    """The counter replaces a booklet declared lost or stolen and cancels its unused passes: the
    cover, read back from the printed PDF, says so (it used to say a lost pass is never replaced)."""
    order = paid_order(1, passes_per_booklet=5)
    with django_capture_on_commit_callbacks(execute=True):
        proof = services.request_proof(order)
    cover = PdfReader(io.BytesIO(read(proof.files.get()))).pages[0].extract_text()
    text = " ".join(cover.split())
    assert "Carnet perdu ou volé ? Signalez-le au guichet qui vous l'a remis" in text, text
    assert "ses pass non utilisés sont annulés et le guichet vous remet un carnet de remplacement" in text
    assert "n'est pas remplacé" not in text


def test_rerunning_never_duplicates(django_capture_on_commit_callbacks):
    order = paid_order(3, passes_per_booklet=5)
    with django_capture_on_commit_callbacks(execute=True):
        proof = services.request_proof(order)
    services.approve_proof(proof)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.launch_print_run(order, chunk_size=1)
    # Simulate a half-finished run: one file lost from the records.
    PrintFile.objects.filter(print_run=run, chunk=2).delete()
    PrintRun.objects.filter(pk=run.pk).update(status=PrintRun.Status.RUNNING, done_booklets=2)
    kept = set(run.files.values_list("file", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        services.launch_print_run(order)
    run.refresh_from_db()
    assert run.status == PrintRun.Status.DONE and run.done_booklets == 3
    assert run.files.count() == 3 and kept <= set(run.files.values_list("file", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        services.launch_print_run(order)
    assert run.files.count() == 3
    assert PrintRun.objects.filter(order=order).count() == 2
    assert Pass.objects.filter(booklet__order=order).count() == 15


def test_management_command_runs_the_job(capsys):
    order = paid_order(2, passes_per_booklet=5)
    call_command("print_run", str(order.pk))
    run = PrintRun.objects.get(order=order, kind=PrintRun.Kind.FULL)
    assert run.status == PrintRun.Status.DONE and run.files.count() == 1
    assert "2 / 2" in capsys.readouterr().out
    call_command("print_run", str(order.pk))  # again: nothing new
    assert PrintFile.objects.filter(print_run=run).count() == 1


def test_management_command_refuses_unknown_or_unpaid_orders():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="n'existe pas"):
        call_command("print_run", "999999")
    order = sponsor_services.create_quote(ProgrammeFactory(), 1)
    with pytest.raises(CommandError, match="pas payée"):
        call_command("print_run", str(order.pk))


@pytest.mark.parametrize("value", ["998SFF17RP5R1", "99ABCDEFGHJK*", "AB9999CD99EF~", "GIR000099"])
def test_a_code_with_99_digit_pairs_is_printed_whole(value):
    """python-barcode's set C has no « 99 »: its encoder dropped that pair (a pass starting with 99
    was unreadable by a hand scanner). Our set B encoding keeps every character."""
    from PIL import Image, ImageDraw

    from passnum.passes.printing import code128_modules

    modules, width = code128_modules(value), 3
    image = Image.new("L", ((len(modules) + 20) * width, 80), 255)
    draw = ImageDraw.Draw(image)
    for index, bit in enumerate(modules):
        if bit == "1":
            draw.rectangle([(index + 10) * width, 10, (index + 10) * width + width - 1, 70], fill=0)
    assert [result.text for result in zxingcpp.read_barcodes(image)] == [value]
