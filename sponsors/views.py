"""The sponsor's space (/sponsor/): programmes, orders, invoices, print status, allocation."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from clearing import selectors as clearing_selectors
from passnum.audit.services import record_download
from passnum.errors import DomainError
from passnum.organisations.decorators import organisation_required
from passnum.organisations.enums import OrganisationKind, Role
from passnum.organisations.tenancy import get_for_organisation_or_404
from passnum.passes import selectors as pass_selectors
from passnum.passes import services as pass_services
from passnum.passes.downloads import file_response
from passnum.passes.models import PrintFile
from sponsors import selectors, services
from sponsors.forms import AllocationForm, OrderForm, ProgrammeForm
from sponsors.models import Order, Programme, SponsorInvoice
from sponsors.reporting import selectors as reporting
from sponsors.reporting.periods import Period, check_period
from sponsors.reporting.territory import check_territory

sponsor_required = organisation_required(kinds=[OrganisationKind.SPONSOR])
MANAGERS = {Role.ADMIN, Role.FINANCE}


def _can_manage(request):
    if request.membership.role not in MANAGERS:
        messages.error(request, "Seuls les administrateurs et les finances du commanditaire peuvent faire cela.")
        return False
    return True


def _form_error(form, error):
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


@sponsor_required
def home(request):
    return render(
        request,
        "sponsors/home.html",
        {
            "programmes": selectors.programmes_of(request.organisation),
            "orders": selectors.orders_of(request.organisation)[:50],
            "invoices": selectors.invoices_of(request.organisation)[:50],
            "ending": _ending_soon(request.organisation),
            "credit_notes": clearing_selectors.credit_notes_of(request.organisation)[:50],
        },
    )


ENDING_SOON_DAYS = 30


def _ending_soon(organisation, programme=None, counters=None):
    """Programmes within 30 days of their end, with their booklet counters (the banner); for one
    programme whose counters were just read (its report), nothing more is asked."""
    today = timezone.localdate()
    if programme is not None and not today <= programme.valid_until <= today + timedelta(days=ENDING_SOON_DAYS):
        return []  # the programme at hand is not ending: nothing to ask the database
    if programme is not None and counters is not None:
        if programme.status != programme.Status.OPEN:
            return []
        return [{"programme": programme, "days_left": (programme.valid_until - today).days, "counters": counters}]
    programmes = selectors.programmes_ending_soon(today=today, within_days=ENDING_SOON_DAYS, organisation=organisation)
    if programme is not None:
        programmes = programmes.filter(pk=programme.pk)
    return [
        {
            "programme": p,
            "days_left": (p.valid_until - today).days,
            "counters": selectors.programme_counters(programme=p),
        }
        for p in programmes
    ]


@sponsor_required
def programme_create(request):
    form = ProgrammeForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and _can_manage(request) and form.is_valid():
        try:
            programme = services.create_programme(
                request.organisation, form.to_data(), actor=request.user, request=request
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, f"Le programme « {programme.name} » est créé.")
            return redirect("sponsors:programme", pk=programme.pk)
    return render(request, "sponsors/programme_form.html", {"form": form, "title": "Nouveau programme"})


@sponsor_required
def programme_detail(request, pk):
    programme = get_for_organisation_or_404(Programme.objects.select_related("sponsor"), request.organisation, pk=pk)
    form = OrderForm(request.POST or None)
    if request.method == "POST" and _can_manage(request) and form.is_valid():
        try:
            order = services.create_quote(
                programme, form.cleaned_data["booklet_count"], actor=request.user, request=request
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, "Voici votre devis : confirmez-le pour recevoir la facture.")
            return redirect("sponsors:order", pk=order.pk)
    report = _report_context(request, programme)
    return render(
        request,
        "sponsors/programme_detail.html",
        {
            "programme": programme,
            "form": form,
            "orders": programme.orders.select_related("invoice").order_by("-pk"),
            "cofunders": programme.cofunders.all(),
            "ending": _ending_soon(request.organisation, programme, counters=report["counters_by_key"]),
            **report,  # the report, its period and the booklet counts
        },
    )


def _report_context(request, programme):
    """The report's tables for the period asked for; a wrong period is explained, and the report
    then covers the whole programme (never an error page)."""
    period_input = {
        "du": request.GET.get("du", "")[:20],
        "au": request.GET.get("au", "")[:20],
        "territoire": request.GET.get("territoire", "")[:20],
    }
    try:
        period = check_period(first=period_input["du"], last=period_input["au"], today=timezone.localdate())
        period_error = None
    except DomainError as error:
        period, period_error = Period(), error.message
    try:
        territory, territory_error = check_territory(code=period_input["territoire"]), None
    except DomainError as error:
        territory, territory_error = None, error.message
    report = reporting.programme_report(programme=programme, period=period, territory=territory)
    counters = {counter["key"]: counter["count"] for counter in report["counters"]}
    return {
        "report": report,
        "chart_data": list(report["charts"].values()),  # read by static/js/report-charts.js
        "counters_by_key": counters,
        # The facts above the report read the same counters (booklets, not people: as they were).
        "counts": {
            "total": counters["issued"],
            "allocated": counters["at_prescribers"],
            "handed_out": counters["handed_out"],
            "cancelled": counters["cancelled"],
        },
        "period_input": period_input,
        "period_error": period_error,
        "territory_error": territory_error,
        "filters": {**period.as_params(), **(territory.as_params() if territory else {})},
        "idle_days": reporting.IDLE_DAYS,
    }


@sponsor_required
def programme_edit(request, pk):
    programme = get_for_organisation_or_404(Programme.objects.all(), request.organisation, pk=pk)
    form = ProgrammeForm(
        request.POST or None, request.FILES or None, initial=ProgrammeForm.initial_for(programme), programme=programme
    )
    if request.method == "POST" and _can_manage(request) and form.is_valid():
        try:
            services.update_programme(programme, form.to_data(), actor=request.user, request=request)
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, "Le programme est modifié.")
            return redirect("sponsors:programme", pk=programme.pk)
    return render(
        request,
        "sponsors/programme_form.html",
        {"form": form, "title": f"Modifier « {programme.name} »", "programme": programme},
    )


@sponsor_required
def order_detail(request, pk):
    order = get_for_organisation_or_404(
        Order.objects.select_related("programme", "invoice__payment"), request.organisation, pk=pk
    )
    print_runs = list(pass_selectors.print_runs_of(order))
    return render(
        request,
        "sponsors/order_detail.html",
        {
            "order": order,
            "invoice": getattr(order, "invoice", None),
            "print_runs": print_runs,
            # The print section refreshes itself (htmx polling) while a run is printing.
            "printing": any(run.in_progress for run in print_runs),
            "may_download_print_files": pass_selectors.may_download_print_files(
                user=request.user, membership=request.membership
            ),
            "retention_days": settings.PASSNUM_PRINT_FILE_RETENTION_DAYS,
            "counts": pass_selectors.booklet_counts(order.booklets.all()),
        },
    )


@sponsor_required
def order_confirm(request, pk):
    order = get_for_organisation_or_404(Order.objects.select_related("programme"), request.organisation, pk=pk)
    back = reverse("sponsors:order", kwargs={"pk": order.pk})
    if request.method == "POST" and _can_manage(request):
        try:
            invoice = services.confirm_order(order, actor=request.user, request=request)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Commande confirmée : la facture {invoice.number} est disponible.")
        return redirect(back)
    return render(
        request,
        "confirm.html",
        {
            "title": f"Confirmer la commande {order.number}",
            "question": f"Confirmer la commande de {order.booklet_count} carnets ? La facture sera émise "
            "et les carnets numérotés ; les pass seront activables après le paiement.",
            "confirm_label": "Oui, confirmer et recevoir la facture",
            "back_url": back,
        },
    )


@sponsor_required
def order_allocate(request, pk):
    order = get_for_organisation_or_404(Order.objects.select_related("programme"), request.organisation, pk=pk)
    form = AllocationForm(request.POST or None)
    if request.method == "POST" and _can_manage(request) and form.is_valid():
        data = form.cleaned_data
        try:
            booklets = pass_services.allocate_booklets(
                order,
                data["prescriber"],
                count=data.get("count"),
                first_serial=data.get("first_serial"),
                last_serial=data.get("last_serial"),
                actor=request.user,
                request=request,
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(
                request,
                f"{len(booklets)} carnet(s), du {booklets[0].serial} au {booklets[-1].serial}, "
                f"confiés à {data['prescriber']}.",
            )
            return redirect("sponsors:order", pk=order.pk)
    return render(
        request,
        "sponsors/allocate.html",
        {
            "order": order,
            "form": form,
            "counts": pass_selectors.booklet_counts(order.booklets.all()),
            "allocations": order.booklets.filter(holder__isnull=False)
            .values("holder__name")
            .order_by("holder__name")
            .distinct(),
        },
    )


@sponsor_required
def invoice_pdf(request, pk):
    invoice = get_for_organisation_or_404(SponsorInvoice.objects.all(), request.organisation, pk=pk)
    if not invoice.pdf:
        raise Http404("Le PDF de cette facture est en préparation : réessayez dans quelques minutes.")
    record_download(
        request=request, document=invoice, organisation=request.organisation, file_name=f"{invoice.number}.pdf"
    )
    return file_response(invoice.pdf, f"{invoice.number}.pdf")


@sponsor_required
def print_file_download(request, pk):
    print_file = get_for_organisation_or_404(
        PrintFile.objects.select_related("print_run__order__programme__sponsor"), request.organisation, pk=pk
    )
    try:
        pass_services.check_may_download_print_files(user=request.user, membership=request.membership)
    except DomainError as error:
        raise PermissionDenied(error.message) from error
    if not print_file.file:
        raise Http404("Le fichier n'est plus disponible : il a été supprimé après la livraison des carnets.")
    pass_services.record_print_file_downloads(files=[print_file], actor=request.user, request=request)
    return file_response(print_file.file, print_file.download_name)


@sponsor_required
def credit_note_pdf(request, pk):
    note = get_for_organisation_or_404(
        clearing_selectors.credit_notes_of(request.organisation), request.organisation, pk=pk
    )
    if not note.pdf:
        raise Http404("Le PDF de cet avoir est en préparation : réessayez dans quelques minutes.")
    record_download(request=request, document=note, organisation=request.organisation, file_name=f"{note.number}.pdf")
    return file_response(note.pdf, f"{note.number}.pdf")
