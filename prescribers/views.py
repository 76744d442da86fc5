"""The prescriber's counter (/counter/): stock, hand-over (keyboard and scanner first), undo,
lost booklets, return of unused booklets to the operator. Works without JavaScript: the serial is
a GET form, the rest plain POST forms."""

import secrets

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from beneficiaries import selectors as beneficiary_selectors
from beneficiaries import services as beneficiary_services
from beneficiaries.models import AgeBand, HandOver
from passnum.errors import DomainError
from passnum.organisations.decorators import organisation_required
from passnum.organisations.enums import OrganisationKind
from passnum.organisations.tenancy import get_for_organisation_or_404
from passnum.passes import selectors as pass_selectors
from passnum.passes import services as pass_services
from passnum.territories import selectors as territory_selectors
from prescribers import selectors as prescriber_selectors
from prescribers.forms import HandOverForm, LossForm, ReplacementForm, ReturnForm, SerialForm

prescriber_required = organisation_required(kinds=[OrganisationKind.PRESCRIBER])
DEFAULTS_KEY = "counter_defaults"


def _recent(request):
    now = timezone.now()
    recent = list(beneficiary_selectors.hand_overs_of(request.organisation)[:10])
    labels = territory_selectors.commune_labels(codes=[handover.beneficiary.commune for handover in recent])
    for handover in recent:
        handover.commune_label = labels[handover.beneficiary.commune]
        handover.undoable = beneficiary_services.can_undo(handover, now=now)
        handover.undo_until = beneficiary_services.undo_deadline(handover)
    return recent


@prescriber_required
def home(request):
    return render(
        request,
        "prescribers/home.html",
        {"stock": pass_selectors.stock_by_programme(request.organisation), "recent": _recent(request)},
    )


def _defaults(request, programme):
    saved = request.session.get(DEFAULTS_KEY, {})
    communes = list(programme.communes or [])
    return {
        "age_band": saved.get("age_band", AgeBand.B26_44),
        "commune": saved.get("commune") or (communes[0] if communes else ""),
        "audiences": [a for a in saved.get("audiences", []) if a in (programme.audiences or [])],
    }


def _field_error(form, error):
    field = error.field if error.field in form.fields and not form.fields[error.field].widget.is_hidden else None
    form.add_error(field, error.message)


@prescriber_required
def hand_over(request):
    """Step 1 (GET ?serial=): the booklet; step 2 (POST): the beneficiary, then confirmation."""
    source = request.POST if request.method == "POST" else request.GET
    replacing = None
    if source.get("replaces"):
        replacing = beneficiary_selectors.replaceable_loss(
            request.organisation, pass_selectors.normalise_serial(source["replaces"])
        )
    serial_form = SerialForm(request.GET if "serial" in request.GET else None)
    context = {"serial_form": serial_form, "replacing": replacing, "recent": _recent(request)[:3]}
    serial = pass_selectors.normalise_serial(source.get("serial", ""))
    if not serial:
        if serial_form.is_bound:
            serial_form.is_valid()
        return render(request, "prescribers/hand_over.html", context)
    if request.method == "POST":
        done = beneficiary_selectors.hand_over_by_submission(request.organisation, request.POST.get("submission_key"))
        if done is not None:
            messages.success(
                request,
                f"Carnet {done.booklet.serial} remis. (Ce formulaire avait déjà été envoyé : "
                "la remise n'est comptée qu'une fois.)",
            )
            return redirect("prescribers:hand_over")
    try:
        booklet = beneficiary_services.check_booklet(serial, request.organisation)
    except DomainError as error:
        serial_form = SerialForm({"serial": source.get("serial", "")})
        serial_form.is_valid()
        serial_form.add_error("serial", error.message)
        context["serial_form"] = serial_form
        return render(request, "prescribers/hand_over.html", context, status=200 if request.method == "GET" else 400)
    programme = booklet.programme
    if replacing is not None:
        form_class, initial = ReplacementForm, {"replaces": replacing.booklet.serial}
        form_kwargs = {}
    else:
        form_class, initial = HandOverForm, _defaults(request, programme)
        form_kwargs = {"programme": programme}
    initial.update(serial=booklet.serial, submission_key=HandOverForm.new_key())
    if request.method == "POST":
        form = form_class(request.POST, **form_kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                handover, created = beneficiary_services.hand_over(
                    request.organisation,
                    booklet.serial,
                    data,
                    user=request.user,
                    exception_reason=data.get("exception_reason", ""),
                    submission_key=data["submission_key"],
                    replaces=replacing.hand_over if replacing else None,
                    request=request,
                )
            except DomainError as error:
                _field_error(form, error)
            else:
                if replacing is None:
                    request.session[DEFAULTS_KEY] = {
                        "age_band": data["age_band"],
                        "commune": handover.beneficiary.commune,
                        "audiences": data.get("audiences", []),
                    }
                summary = pass_selectors.booklet_summary(booklet)
                messages.success(
                    request,
                    f"Carnet {booklet.serial} remis : ses {summary['usable']} pass sont actifs jusqu'au "
                    f"{summary['valid_until']:%d/%m/%Y}."
                    + (
                        ""
                        if created
                        else " (Ce formulaire avait déjà été envoyé : la remise n'est comptée qu'une fois.)"
                    ),
                )
                return redirect("prescribers:hand_over")
    else:
        form = form_class(initial=initial, **form_kwargs)
    context.update(
        booklet=booklet,
        programme=programme,
        summary=pass_selectors.booklet_summary(booklet),
        form=form,
        communes=list(territory_selectors.commune_labels(codes=list(programme.communes or [])).items()),
    )
    return render(request, "prescribers/hand_over.html", context, status=400 if form.errors else 200)


@prescriber_required
def undo(request, pk):
    handover = get_for_organisation_or_404(HandOver.objects.select_related("booklet"), request.organisation, pk=pk)
    back = reverse("prescribers:home")
    if request.method == "POST":
        try:
            beneficiary_services.undo_hand_over(handover, user=request.user, request=request)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, f"La remise du carnet {handover.booklet.serial} est annulée : il revient en stock."
            )
        return redirect(back)
    return render(
        request,
        "confirm.html",
        {
            "title": f"Annuler la remise du carnet {handover.booklet.serial}",
            "question": "Le carnet reviendra dans votre stock et ses pass seront désactivés. Annuler cette remise ?",
            "confirm_label": "Oui, annuler la remise",
            "back_url": back,
        },
    )


@prescriber_required
def lost(request):
    """Declare a booklet lost or stolen: the form (GET), then a confirmation page (POST)."""
    form = LossForm(request.GET or None)
    if form.is_bound and form.is_valid():
        serial = pass_selectors.normalise_serial(form.cleaned_data["serial"])
        kind = form.cleaned_data["kind"]
        try:
            booklet = beneficiary_services.check_loss(serial, request.organisation)
        except DomainError as error:
            form.add_error("serial", error.message)
        else:
            if request.method == "POST" and request.POST.get("confirm") == "1":
                try:
                    declaration = beneficiary_services.declare_lost(
                        request.organisation, serial, kind=kind, user=request.user, request=request
                    )
                except DomainError as error:
                    form.add_error("serial", error.message)
                else:
                    text = (
                        f"Carnet {serial} déclaré {declaration.get_kind_display().lower()} : "
                        f"{declaration.cancelled_passes} pass annulés."
                    )
                    messages.success(request, text)
                    if declaration.hand_over_id:
                        return redirect(f"{reverse('prescribers:hand_over')}?replaces={serial}")
                    return redirect("prescribers:home")
            else:
                summary = pass_selectors.booklet_summary(booklet)
                return render(
                    request,
                    "prescribers/lost_confirm.html",
                    {"booklet": booklet, "summary": summary, "kind": kind, "form": form},
                )
    return render(request, "prescribers/lost.html", {"form": form}, status=400 if form.errors else 200)


@prescriber_required
def return_stock(request):
    """Send unused booklets back to the operator: the stock and the form, a confirmation page
    listing the booklets (POST), then the return itself (POST with ``confirm``)."""
    stock = prescriber_selectors.stock_to_return(request.organisation)
    form = ReturnForm(request.POST if request.method == "POST" else None, stock=stock)
    if request.method == "POST" and form.is_valid():
        serials, first_serial, last_serial = form.request()
        confirmed = request.POST.get("confirm") == "1"
        try:
            if confirmed:
                booklets, created = pass_services.return_booklets(
                    request.organisation,
                    serials,
                    first_serial=first_serial,
                    last_serial=last_serial,
                    batch=request.POST.get("batch", ""),
                    actor=request.user,
                    request=request,
                )
            else:
                booklets = pass_services.check_return(
                    request.organisation, serials, first_serial=first_serial, last_serial=last_serial
                )
        except DomainError as error:
            if error.field == "serials" and form.cleaned_data.get("programme"):
                error.field = "programme"
            _field_error(form, error)
        else:
            ranges = pass_services.serial_ranges(booklets)
            if confirmed:
                text = f"{len(booklets)} carnet(s) rendu(s) à l'opérateur : {', '.join(ranges)}."
                if not created:
                    text += " (Ce formulaire avait déjà été envoyé : les carnets n'ont été rendus qu'une fois.)"
                messages.success(request, text)
                return redirect("prescribers:home")
            by_programme = {}
            for booklet in booklets:
                by_programme.setdefault(booklet.programme_id, []).append(booklet)
            groups = [
                {"programme": group[0].programme, "count": len(group), "ranges": pass_services.serial_ranges(group)}
                for group in by_programme.values()
            ]
            return render(
                request,
                "prescribers/return_confirm.html",
                {
                    "count": len(booklets),
                    "groups": groups,
                    "serials": " ".join(b.serial for b in booklets),
                    "batch": secrets.token_hex(16),
                },
            )
    return render(
        request, "prescribers/return.html", {"form": form, "stock": stock}, status=400 if form.errors else 200
    )
