import pytest
from django.urls import reverse
from django.utils import timezone

from passnum.passes.models import Booklet, PrintRun, StockMovement
from sponsors import services
from sponsors.models import Order, Programme, SponsorInvoice
from tests.factories import OrganisationFactory
from tests.passes.factories import PrintFileFactory
from tests.sponsors.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sponsor():
    return OrganisationFactory(sponsor=True, name="Département de la Gironde")


@pytest.fixture
def sponsor_client(client, member_of, sponsor):
    client.force_login(member_of(sponsor, role="admin"))
    return client


def form_data(**overrides):
    data = {
        "name": "Pass Gironde",
        "prefix": "GIR",
        "face_value_euros": "10",
        "passes_per_booklet": "10",
        "valid_until": f"31/12/{timezone.localdate().year + 1}",
        "grace_months": "1",
        "grace_days": "0",
        "departments": "33",
        "communes": "33063",
        "audiences": ["seniors"],
        "other_audiences": "Aidants familiaux",
        "cofunders": "État (ANCT) ; 50",
    }
    data.update(overrides)
    return data


def test_home_lists_programmes_orders_invoices(sponsor_client, sponsor, django_assert_max_num_queries):
    for _ in range(3):
        programme = ProgrammeFactory(sponsor=sponsor)
        services.confirm_order(services.create_quote(programme, 1))
    ProgrammeFactory(name="Programme d'un autre")
    with django_assert_max_num_queries(12):
        response = sponsor_client.get(reverse("sponsors:home"))
    content = response.content.decode()
    assert response.status_code == 200
    assert content.count("<td>FAC-") == 3
    assert "Programme d&#x27;un autre" not in content


def test_other_kinds_of_organisation_are_refused(client, member_of):
    client.force_login(member_of(OrganisationFactory(site=True)))
    assert client.get(reverse("sponsors:home")).status_code == 403


def test_create_programme_through_the_form(sponsor_client, sponsor):
    response = sponsor_client.post(reverse("sponsors:programme_create"), form_data())
    programme = Programme.objects.get()
    assert response.status_code == 302 and response.url == reverse("sponsors:programme", args=[programme.pk])
    assert programme.sponsor == sponsor
    assert programme.audiences == ["seniors", "p-aidants-familiaux"]
    assert programme.cofunders.get().share_bp == 5000


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"valid_until": "01/01/2020"}, "La date de fin de validité doit être dans le futur."),
        ({"grace_months": "-1"}, "Le délai de grâce ne peut pas être négatif."),
        ({"communes": "3306"}, "n&#x27;est pas un code INSEE de commune"),
        ({"departments": "ABC"}, "n&#x27;est pas un code de département"),
        ({"cofunders": "État ; beaucoup"}, "écrivez « nom ; part en % »"),
    ],
)
def test_bad_programme_input_shows_a_french_message(sponsor_client, overrides, message):
    response = sponsor_client.post(reverse("sponsors:programme_create"), form_data(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Programme.objects.exists()


def test_logo_that_is_not_an_image(sponsor_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = form_data(logo=SimpleUploadedFile("logo.png", b"<svg></svg>"))
    response = sponsor_client.post(reverse("sponsors:programme_create"), data)
    assert "n&#x27;est pas une image lisible" in response.content.decode()
    assert not Programme.objects.exists()


def test_edit_programme(sponsor_client, sponsor):
    programme = ProgrammeFactory(sponsor=sponsor)
    url = reverse("sponsors:programme_edit", args=[programme.pk])
    assert sponsor_client.get(url).status_code == 200
    response = sponsor_client.post(url, form_data(name="Nouveau nom", prefix=programme.prefix))
    assert response.status_code == 302
    programme.refresh_from_db()
    assert programme.name == "Nouveau nom"


def test_order_quote_confirm_invoice(sponsor_client, sponsor):
    programme = ProgrammeFactory(sponsor=sponsor)
    url = reverse("sponsors:programme", args=[programme.pk])
    response = sponsor_client.post(url, {"booklet_count": "0"})
    assert "entre 1 et 5000" in response.content.decode()
    response = sponsor_client.post(url, {"booklet_count": "abc"})
    assert response.status_code == 200 and not Order.objects.exists()

    response = sponsor_client.post(url, {"booklet_count": "4"})
    order = Order.objects.get()
    assert response.url == reverse("sponsors:order", args=[order.pk])
    page = sponsor_client.get(response.url).content.decode()
    assert "16,00" in page  # 400 € + 4 % (16 €) + TVA 20 % of the fee (3,20 €) = 419,20 €
    assert "419,20" in page

    confirm = reverse("sponsors:order_confirm", args=[order.pk])
    assert sponsor_client.get(confirm).status_code == 200
    sponsor_client.post(confirm)
    invoice = SponsorInvoice.objects.get()
    assert Booklet.objects.filter(order=order).count() == 4
    response = sponsor_client.get(reverse("sponsors:invoice_pdf", args=[invoice.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert invoice.number in response["Content-Disposition"]


def test_a_member_cannot_order(client, member_of, sponsor):
    client.force_login(member_of(sponsor, role="member"))
    programme = ProgrammeFactory(sponsor=sponsor)
    response = client.post(reverse("sponsors:programme", args=[programme.pk]), {"booklet_count": "4"}, follow=True)
    assert "Seuls les administrateurs" in response.content.decode()
    assert not Order.objects.exists()


def test_allocation_page(sponsor_client, sponsor):
    order = services.create_quote(ProgrammeFactory(sponsor=sponsor, prefix="ALL"), 5)
    invoice = services.confirm_order(order)
    services.record_payment(invoice, paid_on=timezone.localdate(), reference="VIR")
    prescriber = OrganisationFactory(prescriber=True, name="CCAS de Bordeaux")
    url = reverse("sponsors:order_allocate", args=[order.pk])
    assert "CCAS de Bordeaux" in sponsor_client.get(url).content.decode()
    response = sponsor_client.post(url, {"prescriber": prescriber.pk})
    assert "Indiquez un nombre de carnets ou une série" in response.content.decode()
    response = sponsor_client.post(url, {"prescriber": prescriber.pk, "count": "9"})
    assert "Il ne reste que 5" in response.content.decode()
    response = sponsor_client.post(
        url, {"prescriber": prescriber.pk, "first_serial": "ALL000002", "last_serial": "ALL000003"}
    )
    assert response.status_code == 302
    assert StockMovement.objects.filter(to_organisation=prescriber).count() == 2


def test_print_file_download_and_status(sponsor_client, sponsor):
    print_file = PrintFileFactory(print_run__order__programme__sponsor=sponsor)
    page = sponsor_client.get(reverse("sponsors:order", args=[print_file.print_run.order.pk])).content.decode()
    assert "1 / 1 carnets" in page
    response = sponsor_client.get(reverse("sponsors:print_file", args=[print_file.pk]))
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")


def test_admin_records_payment_and_downloads(client, operator_user, django_capture_on_commit_callbacks):
    client.force_login(operator_user)
    invoice = services.confirm_order(services.create_quote(ProgrammeFactory(), 1))
    changelist = reverse("admin:sponsors_sponsorinvoice_changelist")
    response = client.post(changelist, {"action": "record_payment", "_selected_action": [invoice.pk]})
    assert "Enregistrer le paiement" in response.content.decode()
    response = client.post(
        changelist,
        {
            "action": "record_payment",
            "_selected_action": [invoice.pk],
            "paid_on": timezone.localdate().strftime("%d/%m/%Y"),
            "reference": "Mandat 12",
        },
    )
    assert response.status_code == 302
    invoice.order.refresh_from_db()
    assert invoice.order.status == Order.Status.PAID
    response = client.post(changelist, {"action": "download", "_selected_action": [invoice.pk]})
    assert response.content.startswith(b"%PDF")

    orders = reverse("admin:sponsors_order_changelist")
    for action in ("request_proof", "approve_proof", "launch_print_run"):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(orders, {"action": action, "_selected_action": [invoice.order.pk]})
    run = PrintRun.objects.get(order=invoice.order, kind=PrintRun.Kind.FULL)
    assert run.status == PrintRun.Status.DONE
    for url in [
        reverse("admin:sponsors_sponsorinvoice_changelist"),
        reverse("admin:sponsors_order_changelist"),
        reverse("admin:sponsors_programme_changelist"),
        reverse("admin:passes_printrun_change", args=[run.pk]),
        reverse("admin:passes_booklet_changelist"),
        reverse("admin:passes_pass_changelist"),
        reverse("admin:passes_passjournal_changelist"),
        reverse("admin:passes_stockmovement_changelist"),
        reverse("admin:passes_printfile_changelist"),
    ]:
        assert client.get(url).status_code == 200, url
    response = client.post(
        reverse("admin:passes_printfile_changelist"), {"action": "download", "_selected_action": [run.files.get().pk]}
    )
    assert response.content.startswith(b"%PDF")
    response = client.post(
        reverse("admin:passes_printrun_changelist"),
        {"action": "download", "_selected_action": list(PrintRun.objects.values_list("pk", flat=True))},
    )
    assert response["Content-Type"] == "application/zip"
