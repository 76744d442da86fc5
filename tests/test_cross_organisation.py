"""Another organisation's data never shows, whatever the route.

Two walks over every URL pattern of the project, found by the URL resolver (a route added later
is walked as soon as it exists, or fails the pinned count below until someone looks at it):

- **declarations**: a route with a parameter declares ``tenant_path`` (its object is created for
  one organisation and requested by another: 404) or ``public_path`` (a code or token meant for
  whoever holds it); every public route is pinned in ``PUBLIC_ROUTES`` with its reason.
- **the marked walk**: two organisations of each kind (A, the visitor's, and B) hold data whose
  every distinctive value is a marker (``tests/tenancy.py``, ``build_side``). A member of each kind
  of A, then an anonymous visitor, requests every route — lists, exports, API, parameterised routes
  with B's objects (404) and with A's own, and the look-up forms with query strings and bodies
  naming B's booklets, passes and places — and no response may contain a marker of B, except
  what a public route publishes on purpose and what is printed on a booklet the request named.
"""

import uuid
from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clearing.models import CreditNote
from passnum.organisations.services import create_api_token
from tests.factories import OrganisationFactory
from tests.tenancy import (
    PUBLISHED,
    WALK_KINDS,
    build_world,
    factory_for,
    is_third_party,
    iter_url_patterns,
    owning_organisation,
    route_tenancy,
    url_parameters,
)

# Every route of the project (the admin, allauth and the API schema are the libraries' own).
# When this number changes, a route was added or removed: make sure the walk covers it (its
# parameters declared with tenant_path/public_path, its data built in tests/tenancy.py build_side,
# a public route added to PUBLIC_ROUTES with its reason), then update the number.
ROUTE_COUNT = 128

# Routes that answer someone outside the organisation that owns the data — anonymous visitors or
# any holder of a code — each with the reason it may. Another organisation's published data (a
# qualified site's name, places and workshops) may appear on these routes only.
PUBLIC_ROUTES = {
    "home": "page d'accueil, la même pour tous",
    "healthz": "état de la base et de la file pour la supervision, sans donnée",
    "admin:mediators_supportingdocument_download": "console de l'opérateur : admin_view la réserve à son personnel",
    "admin:clearing_creditnote_pdf": "console de l'opérateur : admin_view la réserve à son personnel",
    "organisations:invitation": "lien secret envoyé par e-mail à la personne invitée",
    "aptic_catalog:referential": "référentiel national #APTIC, public",
    "territories:search_communes": "référentiel officiel des communes (INSEE), public",
    "mediators:finder": "trouveur public des lieux qualifiés",
    "mediators:public_workshops": "ateliers publics des lieux qualifiés",
    "mediators:public_point": "fiche publique d'un lieu qualifié",
    "mediators:pass_landing": "URL du QR code d'un pass : ce qu'est le pass et où l'utiliser",
    "mediators:scan_service_worker": "script du service worker de la page de scan, sans donnée",
    "beneficiaries:verify": "« vérifier mon pass » : l'état d'un pass pour qui en a le code",
    "api:auth-token": "création d'un jeton à partir d'un e-mail et d'un mot de passe",
    "api:referential-service-list": "référentiel national #APTIC, public",
    "api:referential-service-detail": "référentiel national #APTIC, public",
    "api:sites-open-data": "données ouvertes des lieux qualifiés (schéma national)",
    "api:sites-open-data-csv": "données ouvertes des lieux qualifiés (schéma national), en CSV",
    "api:pass-check": "test d'un pass par son code, pour qui le détient",
    "api-docs": "référence de l'API, tirée du schéma public, la même pour tous",
}

# Data of another organisation that a private page shows on purpose, with the reason.
OPEN_GRANT_SCHEMES = (
    "les dispositifs de subvention ouverts aux demandes sont proposés à toute entreprise, avec le nom de la "
    "collectivité qui les porte"
)
SHARED_ON_PURPOSE = {
    "grants:home": {"schemename": OPEN_GRANT_SCHEMES, "sponsororg": OPEN_GRANT_SCHEMES},
    # Its GET (and a POST without a scheme) leads back to the list of the open schemes.
    "grants:application_create": {"schemename": OPEN_GRANT_SCHEMES, "sponsororg": OPEN_GRANT_SCHEMES},
    "sponsors:order_allocate": {
        "prescriberorg": "le commanditaire choisit à quel prescripteur confier ses carnets : la liste des "
        "prescripteurs (leur nom seulement) lui est montrée",
    },
    "calls:open_calls": {
        "calltitle": "un appel à projets publié et ouvert s'adresse à tout commanditaire : son titre est montré",
        "funderorg": "un appel à projets publié et ouvert s'adresse à tout commanditaire : le nom de son "
        "cofinanceur est montré",
    },
    "calls:application_new": {
        "calltitle": "le commanditaire choisit l'appel ouvert auquel il candidate : les titres des appels ouverts "
        "lui sont montrés",
    },
}

# Pages that list the organisation's own data, with the markers of side A they must show: the
# walk proves that they do list data (the absence of B's is then meaningful).
OWN_DATA_SHOWN = {
    "sponsor": {
        "sponsors:home": ["programmename", "invoice", "avnumber"],
        "organisations:detail": ["sponsormember@exemple.fr", "sponsorinvited@exemple.fr"],
        "organisations:api_tokens": ["sponsortoken"],
        "api:organisation-member-list": ["sponsormember@exemple.fr"],
        "sponsors:programme": ["programmename", "cofunder"],
        "api:report-programme": ["programmename"],
        "sponsors:order": ["programmename"],
        "calls:open_calls": ["calltitle", "programmename"],
        "calls:application": ["programmename", "decisionreason"],
        "grants:home": ["grantproject", "companyorg"],
        "grants:application": ["grantproject", "grantstakes", "grantdocument", "grantinvoice"],
    },
    "prescriber": {
        "prescribers:home": ["programmename", "serial1"],
        "prescribers:return": ["programmename", "serial4"],
        "organisations:detail": ["prescribermember@exemple.fr", "prescriberinvited@exemple.fr"],
        "organisations:api_tokens": ["prescribertoken"],
        "api:organisation-member-list": ["prescribermember@exemple.fr"],
        "api:booklet": ["programmename"],
    },
    "site": {
        "mediators:points": ["pointname"],
        "mediators:scan": ["pointname"],
        "mediators:documents": ["document"],
        "mediators:redemptions": ["pointname", "redemption"],
        "mediators:refused_scans": ["refusedentry"],
        "api:redemptions": ["redemption"],
        "clearing:statements": ["relnumber", "abonumber", "rejectionreason"],
        "api:statements": ["relnumber"],
        "organisations:detail": ["sitemember@exemple.fr", "siteinvited@exemple.fr"],
        "organisations:api_tokens": ["sitetoken"],
        "api:organisation-member-list": ["sitemember@exemple.fr"],
    },
    "company": {
        "grants:home": ["grantproject", "schemename"],
        "grants:application": ["grantproject", "grantreason", "grantdocument", "grantinvoice"],
        "organisations:detail": ["companymember@exemple.fr", "companyinvited@exemple.fr"],
        "organisations:api_tokens": ["companytoken"],
    },
    "funder": {
        "calls:funder_home": ["calltitle", "cofnumber", "programmename"],
        "calls:call": ["calltitle", "calldescription", "programmename"],
        "calls:received": ["programmename", "decisionreason"],
        "organisations:detail": ["fundermember@exemple.fr", "funderinvited@exemple.fr"],
        "organisations:api_tokens": ["fundertoken"],
        "api:organisation-member-list": ["fundermember@exemple.fr"],
    },
}


def project_routes():
    return [(name, pattern) for name, pattern in iter_url_patterns() if not is_third_party(pattern)]


ROUTES = project_routes()
PARAMETERISED = [
    pytest.param(name, pattern, id=name or str(pattern.pattern)) for name, pattern in ROUTES if url_parameters(pattern)
]


def test_the_walk_finds_every_route():
    names = sorted(name or str(pattern.pattern) for name, pattern in ROUTES)
    assert len(ROUTES) == ROUTE_COUNT, (
        f"Le projet a {len(ROUTES)} routes, la marche inter-organisations en attend {ROUTE_COUNT}. "
        "Pour une route ajoutée : déclarez ses paramètres (tenant_path ou public_path), créez ses données "
        "marquées dans tests/tenancy.py (build_side) pour qu'elle en affiche, ajoutez-la à PUBLIC_ROUTES "
        "avec sa raison si elle est publique, puis mettez ROUTE_COUNT à jour. Routes : " + ", ".join(names)
    )
    assert all(name for name, _ in ROUTES), "Chaque route doit avoir un nom."


def test_public_routes_are_pinned_with_a_reason():
    names = {name for name, _ in ROUTES}
    assert set(PUBLIC_ROUTES) <= names, f"Routes publiques disparues : {sorted(set(PUBLIC_ROUTES) - names)}"
    declared = {name for name, pattern in ROUTES if (route_tenancy(pattern) or ("",))[0] == "public"}
    undeclared = declared - set(PUBLIC_ROUTES)
    assert not undeclared, (
        f"Routes déclarées publiques (public_path ou tenant_public) absentes de PUBLIC_ROUTES : {sorted(undeclared)}. "
        "Ajoutez chacune à PUBLIC_ROUTES avec la raison pour laquelle elle peut répondre hors de l'organisation."
    )
    assert all(reason.strip() for reason in PUBLIC_ROUTES.values())


@pytest.mark.parametrize(("name", "pattern"), PARAMETERISED)
def test_route_declares_its_tenancy(name, pattern):
    assert route_tenancy(pattern) is not None, (
        f"La route {name} ({pattern.pattern}) prend un paramètre mais ne déclare ni tenant_path(model=…) "
        "ni public_path(reason=…) (ou, pour l'API, TenantScopedMixin ou tenant_public)."
    )


TENANT_ROUTES = [param for param in PARAMETERISED if (route_tenancy(param.values[1]) or ("",))[0] == "tenant"]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "pattern"), TENANT_ROUTES)
def test_object_of_another_organisation_answers_404(name, pattern, client, member_of):
    _, model, lookups = route_tenancy(pattern)
    obj = factory_for(model)()
    owner_organisation = owning_organisation(obj)
    kwargs = {url_kwarg: getattr(obj, field) for url_kwarg, field in lookups.items()}
    url = reverse(name, kwargs=kwargs)

    outsider = member_of(OrganisationFactory(kind=owner_organisation.kind), role="admin")
    client.force_login(outsider)
    response = client.get(url)
    assert response.status_code == 404, f"GET {url} par une autre organisation : {response.status_code}"
    assert str(obj) not in response.content.decode()
    # A route that takes no POST may say so (405) before looking anything up: no data either way.
    response = client.post(url)
    assert response.status_code in {404, 405}, f"POST {url} par une autre organisation : {response.status_code}"
    assert str(obj) not in response.content.decode()

    # Positive control: the owner's organisation reaches the object.
    insider = member_of(owner_organisation, role="admin")
    client.force_login(insider)
    response = client.get(url)
    assert response.status_code != 404, f"GET {url} par l'organisation propriétaire : 404"


# --- The marked walk -------------------------------------------------------------------------


@dataclass
class Probe:
    """A look-up naming B's objects: sent as a query string (GET) and as a form or JSON body (POST).
    ``booklets``: B's booklets it names, whose printed values (programme, serial, pass codes) the
    answer may show (whoever holds a pass reads them on « vérifier mon pass » anyway)."""

    label: str
    form: dict
    api: dict = field(default_factory=dict)
    booklets: list = field(default_factory=list)


def probes(world):
    a, b = world.side("a").objects, world.side("b").objects
    service = a.item.service.code
    month = f"{timezone.localdate():%Y-%m}"
    beneficiary = {"age_band": "60-74", "commune": "33063", "audiences": [], "contact_consent": False}
    return [
        Probe(
            "carnet en stock de B, pass actif de B encaissé à un lieu de A",
            form={
                "serial": b.stock_serial,
                "serials": b.stock_serial,
                "first_serial": b.stock_serial,
                "last_serial": b.stock_serial,
                "kind": "lost",
                "confirm": "1",
                "code": b.active_code,
                "point_of_presence": a.point.pk,
                "service": service,
                "key": "walk-1",
                "point": b.point.pk,
                "month": month,
                "programme": b.programme.pk,
                "email": b.member_email,
                "role": "member",
            },
            api={
                "codes": [b.active_code],
                "service": service,
                "point_of_presence": a.point.pk,
                "booklet_serial": b.stock_serial,
                "beneficiary": beneficiary,
            },
            booklets=[b.stock_serial, b.handed_serial],
        ),
        Probe(
            "carnet remis par B, pass déjà encaissé par B",
            form={
                "serial": b.handed_serial,
                "code": b.redeemed_code,
                "point_of_presence": a.point.pk,
                "service": service,
                "key": "walk-2",
                "reason": "pass_already_redeemed",
            },
            api={
                "codes": [b.redeemed_code],
                "service": service,
                "point_of_presence": a.point.pk,
                "booklet_serial": b.handed_serial,
                "beneficiary": beneficiary,
            },
            booklets=[b.handed_serial],
        ),
        Probe(
            "remplacement d'un carnet volé chez B, pass annulé de B, lieu de B",
            form={
                "serial": a.stock_serial,
                "replaces": b.lost_serial,
                "code": b.cancelled_code,
                "point_of_presence": b.point.pk,
                "service": service,
                "key": "walk-3",
            },
            api={"codes": [b.cancelled_code], "service": service, "point_of_presence": b.point.pk},
            booklets=[b.lost_serial],
        ),
        Probe(
            "carnet volé de B",
            form={"serial": b.lost_serial, "code": b.lost_serial, "kind": "stolen"},
            api={"booklet_serial": b.lost_serial, "beneficiary": beneficiary},
            booklets=[b.lost_serial],
        ),
        Probe("export CSV filtré sur un lieu de B", form={"format": "csv", "month": month, "point": b.point.pk}),
    ]


def body_of(response):
    content = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    return content.decode("utf-8", errors="replace").lower()


def send(client, method, url, *, data=None, api=False, headers=None):
    """One request, its writes rolled back (each request sees the same world) and the rate-limit
    counters cleared (hundreds of look-ups must not turn into 429s)."""
    cache.clear()
    with transaction.atomic():
        if method == "get":
            response = client.get(url, data, follow=not api, headers=headers)
        elif api:
            response = client.post(url, data or {}, content_type="application/json", headers=headers)
        else:
            response = client.post(url, data or {}, follow=True, headers=headers)
        body = body_of(response)
        transaction.set_rollback(True)
    return response.status_code, body


def leaks(body, side, *, allowed):
    """The markers of ``side`` found in ``body`` that ``allowed`` does not cover."""
    return [
        f"{text} ({what})"
        for text, (category, what) in side.markers.items()
        if text.lower() in body and text not in allowed and category not in allowed
    ]


def object_of(side, model):
    """The first object of ``model`` owned by one of ``side``'s organisations, and that organisation."""
    for organisation in side.organisations.values():
        obj = model.objects.for_organisation(organisation).order_by("pk").first()
        if obj is not None:
            return obj, organisation
    return None, None


def walk(client, world, *, kind=None, token=None):
    """Requests every route as ``client`` (a member of side A of ``kind``, or anonymous); returns
    the problems found and the markers of A seen per route."""
    a, b = world.side("a"), world.side("b")
    problems, own_seen = [], {}
    api_headers = {"authorization": f"Token {token}"} if token else None

    def check(name, label, status, body, allowed=()):
        allowed = set(allowed)
        if name in PUBLIC_ROUTES:
            allowed.add(PUBLISHED)
        allowed.update(b.by_what[what] for what in SHARED_ON_PURPOSE.get(name, {}))
        found = leaks(body, b, allowed=allowed)
        if kind is None:  # anonymous: nobody's private data either
            found += leaks(body, a, allowed=allowed)
        if found:
            problems.append(f"{name} [{label}] ({status}) montre des données de l'autre organisation : {found}")

    for name, pattern in ROUTES:
        api = str(pattern.pattern).startswith("^") or name.startswith("api:")
        if url_parameters(pattern):
            tenancy = route_tenancy(pattern)
            if tenancy[0] == "tenant":
                _, model, lookups = tenancy
                theirs, owner = object_of(b, model)
                if theirs is None:
                    problems.append(
                        f"{name} : aucun {model.__name__} dans le monde de la marche ; créez-en un dans build_side"
                    )
                    continue
                kwargs = {k: getattr(theirs, f) for k, f in lookups.items()}
                url = reverse(name, kwargs=kwargs)
                for method in ("get", "post"):
                    status, body = send(client, method, url, api=api)
                    # The page may repeat its own URL (language switch, "next" link).
                    check(name, f"{method.upper()} objet de B", status, body, set(map(str, kwargs.values())))
                    expected = {404, 405} if method == "post" else {404}
                    if kind == owner.kind and status not in expected:
                        problems.append(f"{name} : {method.upper()} {url} d'un objet de B répond {status}, pas 404")
                mine, mine_owner = object_of(a, model)
                kwargs = {k: getattr(mine, f) for k, f in lookups.items()}
                url = reverse(name, kwargs=kwargs)
                status, body = send(client, "get", url, api=api)
                check(name, "GET objet de A", status, body, set(map(str, kwargs.values())))
                own_seen[name] = body
                if kind == mine_owner.kind and status == 404:
                    problems.append(f"{name} : GET {url} de son propre objet répond 404")
                continue
            urls = [
                (reverse(name, kwargs=kwargs), b.printed(booklets))
                for kwargs, booklets in PUBLIC_ROUTE_KWARGS[name](world)
            ]
        else:
            urls = [(reverse(name), set())]
        for url, named in urls:
            status, body = send(client, "get", url, api=api)
            check(name, "GET", status, body, named)
            own_seen[name] = body
            if api and token:
                token_status, token_body = send(client, "get", url, api=api, headers=api_headers)
                check(name, "GET avec jeton", token_status, token_body, named)
            post_status, post_body = send(client, "post", url, api=api)
            check(name, "POST", post_status, post_body, named)
            if {status, post_status} <= {401, 403, 405} and status != 405:
                continue  # refused to this visitor before anything is read
            for probe in probes(world):
                allowed = b.printed(probe.booklets) | named
                status, body = send(client, "get", url, data=probe.form, api=api)
                check(name, f"GET {probe.label}", status, body, allowed | set(map(str, probe.form.values())))
                data = probe.api if api else probe.form
                headers = {"idempotency-key": f"walk-{uuid.uuid4()}"} if api else None
                status, body = send(client, "post", url, data=data, api=api, headers=headers)
                check(name, f"POST {probe.label}", status, body, allowed | set(map(str, probe.form.values())))
    return problems, own_seen


# Parameters of the public routes with a parameter, and B's booklets they name (whoever holds a
# pass or a booklet may read what is printed on it).
PUBLIC_ROUTE_KWARGS = {
    "organisations:invitation": lambda world: [({"token": "jeton-inconnu"}, [])],
    "admin:mediators_supportingdocument_download": lambda world: [
        ({"pk": world.side("b").objects.point.site.documents.order_by("pk").first().pk}, [])
    ],
    "admin:clearing_creditnote_pdf": lambda world: [
        ({"pk": CreditNote.objects.get(programme=world.side("b").objects.programme).pk}, [])
    ],
    "mediators:pass_landing": lambda world: [
        ({"code": world.side("b").objects.active_code}, [world.side("b").objects.handed_serial]),
        ({"code": world.side("b").objects.stock_serial}, [world.side("b").objects.stock_serial]),
    ],
    "mediators:public_point": lambda world: [({"pk": world.side("b").objects.point.pk}, [])],
    "api:referential-service-detail": lambda world: [({"code": "1"}, [])],
    "api:pass-check": lambda world: [
        ({"code": world.side("b").objects.active_code}, [world.side("b").objects.handed_serial]),
        ({"code": world.side("b").objects.redeemed_code}, [world.side("b").objects.handed_serial]),
    ],
}


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return build_world()


@pytest.mark.parametrize("kind", WALK_KINDS)
def test_member_of_another_organisation_sees_nothing_of_it(kind, world):
    """A member of organisation A (of ``kind``) walks every route, by session and by API token:
    nothing of organisation B shows, B's objects answer 404, and A's own data does show."""
    a = world.side("a")
    client = Client()
    client.force_login(a.admins[kind])
    _token, key = create_api_token(organisation=a.organisations[kind], user=a.admins[kind], name="walk")

    problems, seen = walk(client, world, kind=kind, token=key)

    for name, whats in OWN_DATA_SHOWN[kind].items():
        for what in whats:
            if a.by_what[what].lower() not in seen.get(name, ""):
                problems.append(f"{name} ne montre pas à A ses propres données ({what}) : la marche n'y prouve rien")
    assert not problems, "\n".join(problems)


def test_anonymous_visitor_sees_nobody_s_data(world):
    problems, _ = walk(Client(), world)
    assert not problems, "\n".join(problems)


def route_urls(world, name, pattern):
    """The URLs of a route in the world of the walk: B's object for a tenant route."""
    if not url_parameters(pattern):
        return [reverse(name)]
    tenancy = route_tenancy(pattern)
    if tenancy[0] == "public":
        return [reverse(name, kwargs=kwargs) for kwargs, _ in PUBLIC_ROUTE_KWARGS[name](world)]
    _, model, lookups = tenancy
    theirs, _ = object_of(world.side("b"), model)
    return [reverse(name, kwargs={k: getattr(theirs, f) for k, f in lookups.items()})]


def login_pages():
    return (reverse("account_login"), reverse("admin_login"))


def test_only_pinned_routes_answer_anonymous_visitors(world):
    """A route that neither sends an anonymous visitor to the login page nor refuses them
    (401, 403, 404) is public: it must be pinned in PUBLIC_ROUTES with its reason."""
    client, answering = Client(), set()
    for name, pattern in ROUTES:
        for url in route_urls(world, name, pattern):
            for method in ("get", "post"):
                cache.clear()
                response = getattr(client, method)(url)
                location = response.headers.get("Location", "")
                if response.status_code in {401, 403, 404} or location.startswith(login_pages()):
                    continue
                answering.add(name)
    assert answering - set(PUBLIC_ROUTES) == set(), (
        "Ces routes répondent à un visiteur anonyme sans être dans PUBLIC_ROUTES : "
        f"{sorted(answering - set(PUBLIC_ROUTES))}. Protégez-les, ou ajoutez-les avec leur raison."
    )
    # A pinned route is declared public or answers anonymous visitors: no stale entry.
    declared = {name for name, pattern in ROUTES if (route_tenancy(pattern) or ("",))[0] == "public"}
    stale = set(PUBLIC_ROUTES) - answering - declared
    assert not stale, f"Dans PUBLIC_ROUTES, mais ni déclarées publiques ni ouvertes aux anonymes : {sorted(stale)}"
