"""Places in the site space (points de présence, catalogue, workshops) and the public finder
(/trouver/).
"""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from mediators.places import forms, selectors, services
from mediators.places.models import CatalogueItem, PointOfPresence, Workshop
from mediators.space import PAGE_SIZE, current_site, show_error, site_required
from passnum.errors import DomainError
from passnum.organisations.tenancy import get_for_organisation_or_404


@site_required
def points(request):
    site = current_site(request)
    return render(
        request, "mediators/points.html", {"site": site, "points": site.points.order_by("-is_active", "name")}
    )


def _point_form(request, site, point=None):
    form = forms.PointForm(request.POST or None, instance=point)
    if request.method == "POST" and form.is_valid():
        data = {field: form.cleaned_data.get(field) for field in forms.PointForm.Meta.fields}
        try:
            services.save_point_of_presence(site=site, by=request.user, data=data, point=point, request=request)
        except DomainError as error:
            show_error(form, error)
        else:
            messages.success(request, f"Le lieu « {data['name']} » est enregistré.")
            return redirect("mediators:points")
    title = f"Modifier le lieu « {point.name} »" if point else "Ajouter un lieu d'accueil"
    return render(request, "mediators/point_form.html", {"form": form, "title": title, "point": point})


@site_required
def point_add(request):
    return _point_form(request, current_site(request))


@site_required
def point_edit(request, pk):
    point = get_for_organisation_or_404(PointOfPresence.objects.select_related("site"), request.organisation, pk=pk)
    return _point_form(request, point.site, point)


@site_required
def point_close(request, pk):
    point = get_for_organisation_or_404(
        PointOfPresence.objects.select_related("site__organisation"), request.organisation, pk=pk
    )
    if request.method == "POST":
        services.close_point_of_presence(point=point, by=request.user, request=request)
        messages.success(request, f"Le lieu « {point.name} » est fermé : il n'apparaît plus dans l'annuaire.")
        return redirect("mediators:points")
    return render(
        request,
        "confirm.html",
        {
            "title": "Fermer un lieu",
            "question": f"Fermer « {point.name} » ? Il disparaîtra de l'annuaire et ses ateliers à venir "
            "seront annulés.",
            "confirm_label": "Oui, fermer ce lieu",
            "back_url": reverse("mediators:points"),
        },
    )


def _catalogue_save(request, site, form, item=None):
    try:
        services.save_catalogue_item(
            site=site,
            by=request.user,
            service_code=form.cleaned_data["service"],
            passes_required=form.cleaned_data["passes_required"],
            format=form.cleaned_data["format"],
            duration_minutes=form.cleaned_data["duration_minutes"],
            tariff_cents=form.tariff_cents,
            item=item,
            request=request,
        )
    except DomainError as error:
        show_error(form, error)
        return False
    return True


@site_required
def catalogue(request):
    site = current_site(request)
    form = forms.CatalogueItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _catalogue_save(request, site, form):
        messages.success(request, "Le service est ajouté à votre catalogue.")
        return redirect("mediators:catalogue")
    items = site.catalogue.select_related("service__subcategory__level").order_by("service__code")
    return render(request, "mediators/catalogue.html", {"site": site, "items": items, "form": form})


@site_required
def catalogue_edit(request, pk):
    item = get_for_organisation_or_404(
        CatalogueItem.objects.select_related("site", "service"), request.organisation, pk=pk
    )
    initial = {
        "service": str(item.service.code),
        "passes_required": item.passes_required,
        "format": item.format,
        "duration_minutes": item.duration_minutes,
        "tariff_euros": item.tariff_cents / 100,
    }
    form = forms.CatalogueItemForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and _catalogue_save(request, item.site, form, item):
        messages.success(request, "Le service est modifié.")
        return redirect("mediators:catalogue")
    return render(
        request,
        "mediators/form_page.html",
        {
            "form": form,
            "title": f"Modifier « {item.service.title} »",
            "submit_label": "Enregistrer",
            "back_url": reverse("mediators:catalogue"),
        },
    )


@site_required
def catalogue_remove(request, pk):
    item = get_for_organisation_or_404(
        CatalogueItem.objects.select_related("site__organisation", "service"), request.organisation, pk=pk
    )
    if request.method == "POST":
        services.remove_catalogue_item(item=item, by=request.user, request=request)
        messages.success(request, f"« {item.service.title} » est retiré de votre catalogue.")
        return redirect("mediators:catalogue")
    return render(
        request,
        "confirm.html",
        {
            "title": "Retirer un service",
            "question": f"Retirer « {item.service.title} » de votre catalogue ? Ses ateliers à venir seront annulés.",
            "confirm_label": "Oui, retirer ce service",
            "back_url": reverse("mediators:catalogue"),
        },
    )


@site_required
def workshops(request):
    site = current_site(request)
    items = (
        site.workshops.select_related("service", "point_of_presence")
        .filter(starts_at__gte=timezone.now() - timezone.timedelta(days=30))
        .order_by("starts_at")
    )
    return render(request, "mediators/workshops.html", {"site": site, "workshops": items})


def _workshop_form(request, site, workshop=None):
    initial = {}
    if workshop is not None:
        initial = {
            "service": str(workshop.service.code),
            "point_of_presence": workshop.point_of_presence_id,
            "title": workshop.title,
            "starts_at": timezone.localtime(workshop.starts_at),
            "duration_minutes": workshop.duration_minutes,
            "seats": workshop.seats,
            "level": workshop.level,
        }
    form = forms.WorkshopForm(request.POST or None, site=site, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_workshop(
                site=site,
                by=request.user,
                service_code=form.cleaned_data["service"],
                point_of_presence=form.cleaned_data["point_of_presence"],
                starts_at=form.cleaned_data["starts_at"],
                duration_minutes=form.cleaned_data["duration_minutes"],
                seats=form.cleaned_data["seats"],
                level=form.cleaned_data["level"],
                title=form.cleaned_data["title"],
                workshop=workshop,
                request=request,
            )
        except DomainError as error:
            show_error(form, error)
        else:
            messages.success(request, "L'atelier est publié.")
            return redirect("mediators:workshops")
    title = "Modifier l'atelier" if workshop else "Publier un atelier"
    return render(
        request,
        "mediators/form_page.html",
        {"form": form, "title": title, "submit_label": "Publier", "back_url": reverse("mediators:workshops")},
    )


@site_required
def workshop_add(request):
    return _workshop_form(request, current_site(request))


@site_required
def workshop_edit(request, pk):
    workshop = get_for_organisation_or_404(
        Workshop.objects.select_related("site", "service"), request.organisation, pk=pk
    )
    return _workshop_form(request, workshop.site, workshop)


@site_required
def workshop_cancel(request, pk):
    workshop = get_for_organisation_or_404(
        Workshop.objects.select_related("site__organisation", "service"), request.organisation, pk=pk
    )
    if request.method == "POST":
        services.cancel_workshop(workshop=workshop, by=request.user, request=request)
        messages.success(request, "L'atelier est annulé.")
        return redirect("mediators:workshops")
    return render(
        request,
        "confirm.html",
        {
            "title": "Annuler un atelier",
            "question": f"Annuler l'atelier « {workshop} » ?",
            "confirm_label": "Oui, annuler l'atelier",
            "back_url": reverse("mediators:workshops"),
        },
    )


def finder(request):
    """Where to use a pass: a list first, plain GET, works without JavaScript."""
    form = forms.FinderForm(request.GET or None)
    criteria = {}
    if form.is_bound and form.is_valid():
        criteria = {key: value for key, value in form.cleaned_data.items() if value not in (None, "", [], False)}
    results = selectors.find_points(**criteria)
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "mediators/finder.html",
        {
            "form": form,
            "page": page,
            "searched": bool(criteria),
            "query": query.urlencode(),
            **_finder_map(results, page),
        },
    )


def _finder_map(results, page):
    """The map's data (given to static/js/finder-map.js through json_script), or no map when
    there is no tile server or nothing to show. The list stays the product: the map only adds
    markers for its places."""
    if not settings.PASSNUM_MAP_TILE_URL or not page.paginator.count:
        return {"map_data": None}
    markers, truncated = selectors.map_points(results)
    on_page = {point.pk for point in page}
    for marker in markers:
        marker["in_page"] = marker["id"] in on_page
    data = {
        "tiles": {"url": settings.PASSNUM_MAP_TILE_URL, "attribution": settings.PASSNUM_MAP_ATTRIBUTION},
        "points": markers,
    }
    return {"map_data": data if markers else None, "map_truncated": truncated, "map_limit": selectors.MAP_MAX_POINTS}


def public_point(request, pk):
    point = selectors.public_point(pk)
    if point is None:
        raise Http404("Ce lieu n'existe pas ou n'accepte pas le Pass numérique.")
    return render(request, "mediators/public_point.html", {"point": point})


def public_workshops(request):
    form = forms.WorkshopFinderForm(request.GET or None)
    criteria = form.cleaned_data if form.is_bound and form.is_valid() else {}
    items = selectors.public_workshops(place=criteria.get("place", ""), level=criteria.get("level"))
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "mediators/public_workshops.html", {"form": form, "page": page, "query": query.urlencode()})
