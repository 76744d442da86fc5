"""Import and export of sites and points of presence in the operator's console.

The whole file is checked first with the same rules as the site space (the ``check_*`` of the
qualification and places services):
every bad line is reported with its number (line 1 is the header, as in a spreadsheet) and its
reason, and nothing is imported unless the whole file is valid.

A site imported with a contact e-mail gets an administrator: an invitation for the admin role is
e-mailed to that address (``qualification.services.invite_site_admin``), once — importing the file again sends
nothing while the invitation is pending or once someone administers the site.
"""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from import_export import fields, resources, widgets

from mediators.places import services as places_services
from mediators.places.models import PointOfPresence
from mediators.places.validators import check_postcode
from mediators.qualification import services as qualification_services
from mediators.qualification.models import LegalForm, QualificationStatus, Sector, Site, SiteStatusChange
from passnum.audit.services import record
from passnum.errors import DomainError
from passnum.organisations.enums import OrganisationKind
from passnum.organisations.models import Organisation
from passnum.organisations.services import create_organisation
from passnum.organisations.validators import normalise_siret, validate_siret


def _cell(row, key):
    value = row.get(key)
    return "" if value is None else str(value).strip()


class CheckedResource(resources.ModelResource):
    """Checks every row in ``before_import``; a bad line blocks the whole import."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.errors_by_line = {}

    def import_data(self, dataset, **kwargs):
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, **kwargs)

    def check_row(self, row, seen, line):
        """Returns the list of French messages for this row (empty when valid)."""
        raise NotImplementedError

    def before_import(self, dataset, **kwargs):
        self.errors_by_line = {}
        seen = {}
        for index, values in enumerate(dataset, 1):
            row = dict(zip(dataset.headers, values, strict=False))
            line = index + 1
            for message in self.check_row(row, seen, line):
                self.errors_by_line.setdefault(line, []).append(f"Ligne {line} : {message}")

    def before_import_row(self, row, **kwargs):
        messages = self.errors_by_line.get(kwargs["row_number"] + 1)
        if messages:
            raise ValidationError(messages)


class SiteResource(CheckedResource):
    siret = fields.Field(attribute="organisation__siret", column_name="siret", readonly=True)
    name = fields.Field(attribute="organisation__name", column_name="name", readonly=True)
    address = fields.Field(attribute="organisation__address", column_name="address", readonly=True)
    postcode = fields.Field(attribute="organisation__postcode", column_name="postcode", readonly=True)
    city = fields.Field(attribute="organisation__city", column_name="city", readonly=True)
    email = fields.Field(attribute="organisation__email", column_name="email", readonly=True)

    class Meta:
        model = Site
        fields = [
            "siret",
            "name",
            "address",
            "postcode",
            "city",
            "email",
            "legal_form",
            "sector",
            "presentation",
            "website",
            "status",
        ]
        export_order = fields
        import_id_fields = ["siret"]
        use_transactions = True
        skip_unchanged = False

    def get_queryset(self):
        return super().get_queryset().select_related("organisation")

    def get_instance(self, instance_loader, row):
        return Site.objects.filter(organisation__siret=normalise_siret(_cell(row, "siret"))).first()

    def check_row(self, row, seen, line):
        errors = []
        siret = normalise_siret(_cell(row, "siret"))
        try:
            validate_siret(siret)
        except ValidationError as exc:
            errors.append(f"SIRET « {siret} » : {exc.messages[0]}")
        else:
            if siret in seen:
                errors.append(f"le SIRET {siret} figure déjà ligne {seen[siret]}.")
            seen.setdefault(siret, line)
            other = Organisation.objects.filter(siret=siret).exclude(kind=OrganisationKind.SITE).first()
            if other is not None:
                errors.append(f"le SIRET {siret} est déjà inscrit pour une organisation d'un autre type ({other}).")
            elif not Organisation.objects.filter(siret=siret).exists() and not _cell(row, "name"):
                errors.append("le nom de la structure est obligatoire.")
        legal_form, sector = _cell(row, "legal_form"), _cell(row, "sector")
        if legal_form not in LegalForm.values:
            errors.append(f"forme juridique « {legal_form} » inconnue (valeurs : {', '.join(LegalForm.values)}).")
        if sector not in Sector.values:
            errors.append(f"secteur « {sector} » inconnu (public ou private).")
        if not errors:
            try:
                qualification_services.check_legal_form_and_sector(legal_form, sector)
                if _cell(row, "postcode"):
                    check_postcode(_cell(row, "postcode"))
            except DomainError as error:
                errors.append(error.message)
        status = _cell(row, "status") or QualificationStatus.DRAFT
        if status not in QualificationStatus.values:
            errors.append(f"état « {status} » inconnu (valeurs : {', '.join(QualificationStatus.values)}).")
        if len(_cell(row, "presentation")) > 280:
            errors.append("la présentation dépasse 280 caractères.")
        email = _cell(row, "email")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                errors.append(f"l'e-mail de contact « {email} » n'est pas une adresse valide.")
        return errors

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        if not instance.status:
            instance.status = QualificationStatus.DRAFT

    def save_instance(self, instance, is_create, row, **kwargs):
        user = kwargs.get("user")
        with transaction.atomic():
            if instance.organisation_id is None:
                siret = normalise_siret(_cell(row, "siret"))
                organisation = Organisation.objects.filter(siret=siret, kind=OrganisationKind.SITE).first()
                if organisation is None:
                    organisation = create_organisation(
                        kind=OrganisationKind.SITE,
                        name=_cell(row, "name"),
                        siret=siret,
                        created_by=user,
                        address=_cell(row, "address"),
                        postcode=_cell(row, "postcode"),
                        city=_cell(row, "city"),
                        email=_cell(row, "email"),
                    )
                instance.organisation = organisation
            previous = Site.objects.filter(pk=instance.pk).values_list("status", flat=True).first()
            instance.save()
            if previous != instance.status:
                SiteStatusChange.objects.create(
                    site=instance,
                    from_status=previous or "",
                    to_status=instance.status,
                    reason="Import depuis la console",
                    actor=user if getattr(user, "pk", None) else None,
                )
            record(
                "admin.site.line_imported",  # the file's own entry: AuditedAdminMixin.process_result
                actor=user,
                organisation=instance.organisation,
                target=instance,
                after={"status": instance.status},
            )
            # The contact e-mail becomes the site's administrator, invited once (re-imports send nothing).
            qualification_services.invite_site_admin(
                site=instance, email=_cell(row, "email"), by=user if getattr(user, "pk", None) else None
            )


class PointOfPresenceResource(CheckedResource):
    site = fields.Field(
        attribute="site", column_name="siret", widget=widgets.ForeignKeyWidget(Site, "organisation__siret")
    )

    class Meta:
        model = PointOfPresence
        fields = ["id", "site", *places_services.POINT_FIELDS, "is_active"]
        export_order = fields
        import_id_fields = ["id"]
        use_transactions = True

    def get_queryset(self):
        return super().get_queryset().select_related("site__organisation")

    def check_row(self, row, seen, line):
        errors = []
        siret = normalise_siret(_cell(row, "siret"))
        if not Site.objects.filter(organisation__siret=siret).exists():
            errors.append(f"aucune structure de médiation avec le SIRET « {siret} » : importez d'abord la structure.")
        point_id = _cell(row, "id")
        if point_id and not (
            point_id.isdigit()
            and PointOfPresence.objects.filter(pk=int(point_id), site__organisation__siret=siret).exists()
        ):
            errors.append(
                f"le lieu n° {point_id} n'existe pas pour cette structure : laissez la colonne id vide "
                "pour créer un lieu."
            )
        try:
            places_services.check_point_of_presence({key: _cell(row, key) for key in places_services.POINT_FIELDS})
        except DomainError as error:
            errors.append(
                f"{PointOfPresence._meta.get_field(error.field).verbose_name if error.field else ''} : "
                f"{error.message}".lstrip(" :")
            )
        return errors

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        cleaned = places_services.check_point_of_presence(
            {key: _cell(row, key) for key in places_services.POINT_FIELDS}
        )
        for key in ("postcode", "insee_code", "latitude", "longitude", "phone"):
            row[key] = str(cleaned[key])
        row["siret"] = normalise_siret(_cell(row, "siret"))

    def after_save_instance(self, instance, row, **kwargs):
        record(
            "admin.point_of_presence.line_imported",
            actor=kwargs.get("user"),
            organisation=instance.site.organisation,
            target=instance,
        )
