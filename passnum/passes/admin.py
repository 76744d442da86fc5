from django.contrib import admin, messages

from passnum.admin_helpers import ReadOnlyAdmin
from passnum.errors import DomainError
from passnum.passes import services
from passnum.passes.downloads import files_response
from passnum.passes.models import Booklet, Pass, PassJournal, PrintFile, PrintRun, StockMovement


@admin.register(Booklet)
class BookletAdmin(ReadOnlyAdmin):
    list_display = ["serial", "programme", "order", "state", "holder"]
    list_filter = ["state"]
    search_fields = ["serial", "programme__name", "holder__name"]
    list_select_related = ["programme", "order", "holder"]


@admin.register(Pass)
class PassAdmin(ReadOnlyAdmin):
    list_display = ["code", "booklet", "position", "state", "face_value_cents", "valid_until"]
    list_filter = ["state"]
    search_fields = ["code", "booklet__serial"]
    list_select_related = ["booklet"]


@admin.register(PassJournal)
class PassJournalAdmin(ReadOnlyAdmin):
    list_display = ["at", "pass_ref", "kind", "actor"]
    list_filter = ["kind"]
    search_fields = ["pass_ref__code", "pass_ref__booklet__serial"]
    list_select_related = ["pass_ref", "actor"]


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ["at", "booklet", "from_organisation", "to_organisation", "batch"]
    search_fields = ["booklet__serial", "to_organisation__name", "batch"]
    list_select_related = ["booklet", "from_organisation", "to_organisation"]


class PrintFileInline(admin.TabularInline):
    model = PrintFile
    extra = 0
    fields = ["chunk", "first_serial", "last_serial", "booklet_count", "size"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PrintRun)
class PrintRunAdmin(ReadOnlyAdmin):
    list_display = ["order", "kind", "status", "progress", "approved_at", "created_at", "finished_at", "delivered_at"]
    list_filter = ["kind", "status"]
    search_fields = ["order__number", "order__pk", "order__programme__name"]
    list_select_related = ["order__programme"]
    inlines = [PrintFileInline]
    actions = ["download", "mark_delivered"]

    @admin.action(description="Télécharger tous les fichiers de l'impression")
    def download(self, request, queryset):
        files = PrintFile.objects.filter(print_run__in=queryset)
        return _download(self, request, files, "impression.zip")

    @admin.action(description="Marquer comme livrée (les fichiers seront supprimés ensuite)")
    def mark_delivered(self, request, queryset):
        for run in queryset:
            try:
                services.mark_print_run_delivered(run=run, actor=request.user, request=request)
            except DomainError as error:
                self.message_user(request, f"{run} : {error.message}", level=messages.ERROR)
            else:
                self.message_user(request, f"{run} : marquée livrée.")

    @admin.display(description="avancement")
    def progress(self, obj):
        return f"{obj.done_booklets} / {obj.total_booklets} carnets"


@admin.register(PrintFile)
class PrintFileAdmin(ReadOnlyAdmin):
    list_display = ["print_run", "chunk", "first_serial", "last_serial", "size"]
    search_fields = ["first_serial", "last_serial"]
    list_select_related = ["print_run__order"]

    actions = ["download"]

    @admin.action(description="Télécharger les fichiers choisis")
    def download(self, request, queryset):
        return _download(self, request, queryset, "carnets.zip")


def _download(model_admin, request, files, zip_name):
    """The files still stored, each download written to the audit log before the bytes leave."""
    files = list(
        files.filter(purged_at__isnull=True)
        .select_related("print_run__order__programme__sponsor")
        .order_by("print_run", "chunk")
    )
    if not files:
        model_admin.message_user(request, "Aucun fichier : pas encore produit, ou supprimé après la livraison.")
        return None
    try:
        services.check_may_download_print_files(user=request.user, membership=getattr(request, "membership", None))
    except DomainError as error:
        model_admin.message_user(request, error.message, level=messages.ERROR)
        return None
    services.record_print_file_downloads(files=files, actor=request.user, request=request)
    return files_response([(f.file, f"{f.print_run.kind}-{f.download_name}") for f in files], zip_name)
