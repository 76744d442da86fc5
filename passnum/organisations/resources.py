from import_export import resources

from passnum.organisations.models import Organisation


class OrganisationResource(resources.ModelResource):
    class Meta:
        model = Organisation
        fields = ["id", "kind", "name", "siret", "address", "postcode", "city", "email", "is_active"]
        import_id_fields = ["siret"]
        skip_unchanged = True
        report_skipped = True
        # Nothing is imported unless the whole file is valid.
        use_transactions = True
        clean_model_instances = True
