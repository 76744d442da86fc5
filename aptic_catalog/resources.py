"""The console's import and export of services (django-import-export), same columns as the CSV.

The console import applies the same checks as ``services.import_referential``: the whole file
is checked first, a bad line blocks the whole import, and a successful import writes a new
version of the referential. Unlike the versioned file import, it may carry only some
services: the services absent from it are left as they are.
"""

import hashlib

from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from aptic_catalog import services
from aptic_catalog.models import Service, Subcategory, Theme

CONSOLE_NOTE = (
    "Import depuis la console d'administration : les services du fichier ont été créés ou mis à jour, "
    "les autres sont restés inchangés."
)


class ServiceResource(resources.ModelResource):
    code = fields.Field(attribute="code", column_name="code", widget=widgets.IntegerWidget())
    title = fields.Field(attribute="title", column_name="title")
    # Levels, sub-category and theme titles are written by ``before_import`` from the same
    # columns, so they are only exported here.
    level = fields.Field(attribute="subcategory__level__number", column_name="level", readonly=True)
    level_title = fields.Field(attribute="subcategory__level__title", column_name="level_title", readonly=True)
    subcategory = fields.Field(
        attribute="subcategory",
        column_name="subcategory",
        widget=widgets.ForeignKeyWidget(Subcategory, "code"),
    )
    subcategory_title = fields.Field(attribute="subcategory__title", column_name="subcategory_title", readonly=True)
    theme_code = fields.Field(
        attribute="theme", column_name="theme_code", widget=widgets.ForeignKeyWidget(Theme, "code")
    )
    theme_title = fields.Field(attribute="theme__title", column_name="theme_title", readonly=True)

    class Meta:
        model = Service
        fields = list(services.COLUMNS)
        export_order = list(services.COLUMNS)
        import_id_fields = ["code"]
        # Nothing is imported unless the whole file is valid.
        use_transactions = True
        clean_model_instances = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.clean_rows = []
        self.errors_by_line = {}

    def get_queryset(self):
        return super().get_queryset().select_related("subcategory__level", "theme")

    def import_data(self, dataset, **kwargs):
        # An invalid line must roll back the others too, whoever calls the import.
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, **kwargs)

    def before_import(self, dataset, **kwargs):
        header_errors = services.check_headers(dataset.headers)
        if header_errors:
            raise ValidationError([message for _, message in header_errors])
        # Line 1 is the header: data row i is line i + 1, as in a spreadsheet.
        headers = dataset.headers
        numbered = ((i + 1, dict(zip(headers, row, strict=False))) for i, row in enumerate(dataset, 1))
        self.clean_rows, errors = services.check_rows(numbered)
        self.errors_by_line = {}
        for line, message in errors:
            self.errors_by_line.setdefault(line, []).append(f"Ligne {line} : {message}")
        if not errors:
            services.apply_structure(self.clean_rows)

    def before_import_row(self, row, **kwargs):
        messages = self.errors_by_line.get(kwargs["row_number"] + 1)
        if messages:
            raise ValidationError(messages)

    def before_save_instance(self, instance, row, **kwargs):
        # A service listed in an imported file is part of the referential again.
        instance.is_active = True

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        if kwargs.get("dry_run") or result.has_errors() or result.has_validation_errors():
            return
        user = kwargs.get("user")
        services.record_version(
            rows=self.clean_rows,
            sha256=hashlib.sha256(dataset.export("csv").encode("utf-8")).hexdigest(),
            source_name=kwargs.get("file_name") or "import depuis la console",
            imported_by=user,
            note=CONSOLE_NOTE,
            stats={
                "created": result.totals.get("new", 0),
                "updated": result.totals.get("update", 0),
            },
        )
