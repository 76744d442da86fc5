"""The pass instrument: booklets, passes, their journal, stock movements and print runs.

Every state change of a pass is appended to ``PassJournal``, which the database refuses to
update or delete; ``Pass.state`` is the current state, kept in step in the same transaction by
the functions of ``passnum.passes.services`` (the only writers).
"""

import pgtrigger
from django.conf import settings
from django.db import models

from passnum.organisations.tenancy import TenantQuerySet


class BookletQuerySet(TenantQuerySet, models.QuerySet):
    pass


class Booklet(models.Model):
    class State(models.TextChoices):
        CREATED = "created", "Chez l'opérateur, pas encore confié à un prescripteur"
        ALLOCATED = "allocated", "En stock chez un prescripteur"
        HANDED_OUT = "handed_out", "Remis à un bénéficiaire"
        CANCELLED = "cancelled", "Annulé (déclaré perdu ou volé)"

    programme = models.ForeignKey("sponsors.Programme", on_delete=models.PROTECT, related_name="booklets")
    order = models.ForeignKey("sponsors.Order", on_delete=models.PROTECT, related_name="booklets")
    number = models.PositiveIntegerField("numéro dans le programme")
    serial = models.CharField("numéro de carnet", max_length=20, unique=True)
    state = models.CharField("état", max_length=12, choices=State.choices, default=State.CREATED, db_index=True)
    holder = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="held_booklets",
        verbose_name="prescripteur détenteur",
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)

    tenant_field = "programme__sponsor"
    objects = BookletQuerySet.as_manager()

    class Meta:
        verbose_name = "carnet"
        verbose_name_plural = "carnets"
        ordering = ["serial"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "number"], name="booklet_programme_number_unique"),
        ]

    def __str__(self):
        return f"Carnet {self.serial}"


class PassState(models.TextChoices):
    # Each label says the situation it names, whatever led there: "created" passes exist from the
    # invoice on, paid or not, until their booklet is handed out (``selectors.pass_state_label``
    # adds whether the order is paid).
    CREATED = "created", "Pas encore remis à un bénéficiaire"
    ACTIVE = "active", "Remis, utilisable"
    # Redeemed passes stay "redeemed": whether the site was paid for them is read from their
    # redemption (``Redemption.settled_at``), the one truth, not from a second pass state.
    REDEEMED = "redeemed", "Utilisé (encaissé par une structure)"
    EXPIRED = "expired", "Expiré sans avoir été utilisé"
    CANCELLED = "cancelled", "Annulé (carnet déclaré perdu ou volé)"


class PassQuerySet(TenantQuerySet, models.QuerySet):
    pass


class Pass(models.Model):
    booklet = models.ForeignKey(Booklet, on_delete=models.PROTECT, related_name="passes")
    programme = models.ForeignKey("sponsors.Programme", on_delete=models.PROTECT, related_name="passes")
    position = models.PositiveSmallIntegerField("rang dans le carnet")
    code = models.CharField("code", max_length=13, unique=True)
    # Issued before check symbols came from the code's own alphabet: its last symbol is the old
    # mod-37 check (``passes.codes``). No new pass is ever issued this way.
    legacy_check = models.BooleanField("code à contrôle ancien (modulo 37)", default=False, editable=False)
    face_value_cents = models.PositiveIntegerField("valeur faciale (centimes)")
    state = models.CharField("état", max_length=10, choices=PassState.choices, default=PassState.CREATED)
    valid_until = models.DateField("valable jusqu'au")
    expires_on = models.DateField("expire le (après le délai de grâce)")

    tenant_field = "programme__sponsor"
    objects = PassQuerySet.as_manager()

    class Meta:
        verbose_name = "pass"
        verbose_name_plural = "pass"
        ordering = ["booklet_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["booklet", "position"], name="pass_booklet_position_unique"),
            models.CheckConstraint(condition=models.Q(face_value_cents__gt=0), name="pass_face_value_positive"),
            models.CheckConstraint(condition=models.Q(state__in=PassState.values), name="pass_state_valid"),
        ]
        indexes = [
            models.Index(fields=["programme", "state"], name="pass_programme_state_idx"),
            models.Index(fields=["code"], condition=models.Q(legacy_check=True), name="pass_legacy_code_idx"),
        ]

    def __str__(self):
        from passnum.passes.codes import grouped

        return f"Pass {grouped(self.code)}"


class JournalKind(models.TextChoices):
    CREATED = "created", "Créé"
    ACTIVATED = "activated", "Activé"
    HANDED_OUT = "handed_out", "Remis"
    HAND_OUT_UNDONE = "handout_undo", "Remise annulée"
    REDEEMED = "redeemed", "Encaissé"
    UNDONE = "undone", "Encaissement annulé"
    EXPIRED = "expired", "Expiré"
    CANCELLED = "cancelled", "Annulé"


class PassJournalQuerySet(TenantQuerySet, models.QuerySet):
    pass


class PassJournal(models.Model):
    """Append-only: every state change of a pass (the database refuses UPDATE and DELETE)."""

    pass_ref = models.ForeignKey(Pass, on_delete=models.PROTECT, related_name="journal", db_column="pass_id")
    kind = models.CharField("événement", max_length=12, choices=JournalKind.choices)
    at = models.DateTimeField("date", db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    details = models.JSONField("détails", default=dict, blank=True)

    tenant_field = "pass_ref__programme__sponsor"
    objects = PassJournalQuerySet.as_manager()

    class Meta:
        verbose_name = "événement d'un pass"
        verbose_name_plural = "journal des pass"
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=JournalKind.values), name="pass_journal_kind_valid"),
        ]
        triggers = [
            pgtrigger.Protect(name="pass_journal_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} le {self.at:%d/%m/%Y %H:%M}"


class StockMovementQuerySet(TenantQuerySet, models.QuerySet):
    pass


class StockMovement(models.Model):
    """A booklet moving from the operator's stock (or a prescriber) to a prescriber."""

    booklet = models.ForeignKey(Booklet, on_delete=models.PROTECT, related_name="movements")
    from_organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_organisation = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+")
    batch = models.CharField("lot", max_length=32, db_index=True)
    at = models.DateTimeField("date")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    tenant_field = "booklet__programme__sponsor"
    objects = StockMovementQuerySet.as_manager()

    class Meta:
        verbose_name = "mouvement de stock"
        verbose_name_plural = "mouvements de stock"
        ordering = ["-at", "-pk"]
        triggers = [
            pgtrigger.Protect(name="stock_movement_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self):
        return f"{self.booklet_id} → {self.to_organisation_id}"


class PrintRunQuerySet(TenantQuerySet, models.QuerySet):
    pass


class PrintRun(models.Model):
    """Print-ready PDF files of an order: a proof (BAT, one booklet) or the full run."""

    class Kind(models.TextChoices):
        PROOF = "proof", "Bon à tirer (un carnet)"
        FULL = "full", "Tirage complet"

    class Status(models.TextChoices):
        PENDING = "pending", "En attente"
        RUNNING = "running", "En cours"
        DONE = "done", "Terminé"
        FAILED = "failed", "Échec"

    order = models.ForeignKey("sponsors.Order", on_delete=models.PROTECT, related_name="print_runs")
    kind = models.CharField("type", max_length=5, choices=Kind.choices)
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.PENDING)
    total_booklets = models.PositiveIntegerField("carnets à imprimer")
    done_booklets = models.PositiveIntegerField("carnets imprimés", default=0)
    chunk_size = models.PositiveIntegerField("carnets par fichier", default=50)
    approved_at = models.DateTimeField("BAT validé le", null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField("demandé le", auto_now_add=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)
    error = models.TextField("erreur", blank=True)
    # Marked by the operator when the printer has delivered the booklets: the print files are
    # deleted PASSNUM_PRINT_FILE_RETENTION_DAYS later (they hold live codes).
    delivered_at = models.DateTimeField("livré le", null=True, blank=True)
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    tenant_field = "order__programme__sponsor"
    objects = PrintRunQuerySet.as_manager()

    class Meta:
        verbose_name = "impression"
        verbose_name_plural = "impressions"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["order", "kind"], name="print_run_one_per_order_and_kind"),
            models.CheckConstraint(
                condition=models.Q(done_booklets__lte=models.F("total_booklets")), name="print_run_progress_bounded"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} de la commande {self.order.number}"

    @property
    def chunk_count(self):
        return -(-self.total_booklets // self.chunk_size)

    @property
    def in_progress(self):
        return self.status in (self.Status.PENDING, self.Status.RUNNING)


class PrintFileQuerySet(TenantQuerySet, models.QuerySet):
    pass


class PrintFile(models.Model):
    """One PDF of a print run (a chunk of booklets), stored under an unguessable name."""

    print_run = models.ForeignKey(PrintRun, on_delete=models.CASCADE, related_name="files")
    chunk = models.PositiveIntegerField("lot")
    first_serial = models.CharField("premier carnet", max_length=20)
    last_serial = models.CharField("dernier carnet", max_length=20)
    booklet_count = models.PositiveIntegerField("carnets")
    file = models.FileField("fichier", max_length=200)
    size = models.PositiveBigIntegerField("taille (octets)")
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    purged_at = models.DateTimeField("fichier supprimé le", null=True, blank=True)

    tenant_field = "print_run__order__programme__sponsor"
    objects = PrintFileQuerySet.as_manager()

    class Meta:
        verbose_name = "fichier d'impression"
        verbose_name_plural = "fichiers d'impression"
        ordering = ["print_run_id", "chunk"]
        constraints = [
            models.UniqueConstraint(fields=["print_run", "chunk"], name="print_file_one_per_chunk"),
        ]

    def __str__(self):
        return f"Carnets {self.first_serial} à {self.last_serial}"

    @property
    def download_name(self):
        return f"carnets-{self.first_serial}-{self.last_serial}.pdf"
