"""The operator's console for payment batches: make a batch of the statements and payout orders to
pay (a confirmation page lists them and the payees held back), download its SEPA file, mark it
sent then paid, record a rejected transfer or import the bank's pain.002 report; read the payout
orders. Every state change asks for confirmation first; batches, transfers and payout orders
change only through ``clearing.payments.services``."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from clearing.admin_actions import confirm_then_act
from clearing.money import euros
from clearing.payments import selectors, services
from clearing.payments.models import PaymentBatch, PaymentBatchLine, PaymentBatchStatusChange, PayoutOrder
from clearing.payments.reasons import REJECTION_REASONS
from passnum.admin_helpers import ReadOnlyAdmin
from passnum.audit.services import record_download
from passnum.errors import DomainError
from passnum.passes.downloads import file_response


class RejectionForm(forms.Form):
    reason_code = forms.ChoiceField(
        label="Motif de rejet donné par la banque",
        choices=[("", "—")] + [(code, f"{code} — {label}") for code, label in REJECTION_REASONS.items()],
    )


class Pain002Form(forms.Form):
    file = forms.FileField(label="Relevé d'état de la banque (fichier pain.002, XML)")


class PaymentBatchLineInline(admin.TabularInline):
    model = PaymentBatchLine
    fields = [
        "organisation",
        "statement",
        "payout",
        "holder_name",
        "masked_iban",
        "bic",
        "amount",
        "end_to_end_id",
        "status",
        "reason_code",
        "reason_label",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="IBAN")
    def masked_iban(self, line):
        return line.masked_iban

    @admin.display(description="montant")
    def amount(self, line):
        return euros(line.amount_cents)


class StatusChangeInline(admin.TabularInline):
    model = PaymentBatchStatusChange
    fields = ["from_status", "to_status", "at", "by"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


def held_back_label(entry):
    if entry.get("statement"):
        return f"relevé {entry['statement']}"
    return f"ordre de paiement {services.held_back_name(entry)}"


def held_back_html(entries):
    if not entries:
        return "aucun"
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            "<li>{} — {} ({}) : {}</li>",
            ((e["organisation"], held_back_label(e), euros(e["total_cents"]), e["message"]) for e in entries),
        ),
    )


@admin.register(PaymentBatch)
class PaymentBatchAdmin(ReadOnlyAdmin):
    list_display = ["message_id", "status", "line_count", "total", "execution_date", "created_at", "sent_at", "paid_at"]
    list_filter = ["status"]
    search_fields = ["message_id", "lines__end_to_end_id", "lines__statement__number", "lines__payout__reference"]
    fields = [
        "message_id",
        "status",
        "debtor_name",
        "debtor_iban",
        "execution_date",
        "line_count",
        "total",
        "held_back_list",
        "created_at",
        "created_by",
        "sent_at",
        "paid_at",
    ]
    readonly_fields = fields
    inlines = [PaymentBatchLineInline, StatusChangeInline]
    actions = ["download_sepa", "mark_sent", "mark_paid", "import_pain002"]
    change_list_template = "admin/payments/paymentbatch/change_list.html"

    @admin.display(description="montant total")
    def total(self, batch):
        return euros(batch.total_cents)

    @admin.display(description="retenus faute de compte vérifié")
    def held_back_list(self, batch):
        return held_back_html(batch.held_back)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "held_back": selectors.held_back_payees()}
        return super().changelist_view(request, extra_context=extra_context)

    def get_urls(self):
        return [
            path("creer/", self.admin_site.admin_view(self.create_view), name="payments_paymentbatch_create"),
            *super().get_urls(),
        ]

    def create_view(self, request):
        """« Créer un lot avec ce qui est à payer »: the statements, the payout orders and the
        held-back payees, then the batch on POST."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            try:
                result = services.create_batch(by=request.user, request=request)
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                batch = result.batch
                self.message_user(
                    request,
                    f"Lot {batch.message_id} créé : {batch.line_count} virement(s), {euros(batch.total_cents)}."
                    + (
                        f" {len(result.held_back)} paiement(s) retenu(s) faute de compte vérifié."
                        if result.held_back
                        else ""
                    ),
                    messages.WARNING if result.held_back else messages.SUCCESS,
                )
                return redirect(reverse("admin:payments_paymentbatch_change", args=[batch.pk]))
        held_back = selectors.held_back_payees()
        held_statements = {entry["statement"] for entry in held_back if entry.get("statement")}
        held_payouts = {entry["payout_id"] for entry in held_back if entry.get("payout_id")}
        to_pay = [s for s in selectors.statements_to_pay() if s.number not in held_statements]
        payouts = [p for p in selectors.payouts_to_pay() if p.pk not in held_payouts]
        return render(
            request,
            "admin/payments/create_batch.html",
            {
                **self.admin_site.each_context(request),
                "title": "Créer un lot avec les relevés et les ordres de paiement à payer",
                "to_pay": to_pay,
                "payouts": payouts,
                "total": euros(sum(s.total_cents for s in to_pay) + sum(p.amount_cents for p in payouts)),
                "held_back": held_back,
                "opts": self.model._meta,
            },
        )

    def _one(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choisissez un seul lot à la fois.", messages.ERROR)
            return None
        return queryset.get()

    @admin.action(description="Télécharger le fichier SEPA")
    def download_sepa(self, request, queryset):
        batch = self._one(request, queryset)
        if batch is None:
            return None
        if not batch.sepa_file:
            self.message_user(request, "Ce lot n'a pas de fichier SEPA.", messages.ERROR)
            return None
        # The transfers of many sites in one file: no single organisation.
        record_download(request=request, document=batch, file_name=f"{batch.message_id}.xml")
        return file_response(batch.sepa_file, f"{batch.message_id}.xml")

    def _state_change(self, request, queryset, *, service, title, intro, button, done):
        def act(batch, data):
            service(batch=batch, by=request.user, request=request)
            return done.format(batch=batch)

        return confirm_then_act(
            self,
            request,
            queryset,
            act=act,
            title=title,
            intro=lambda batch: intro.format(batch=batch),
            button=button,
            noun="lot",
        )

    @admin.action(description="Marquer envoyé à la banque")
    def mark_sent(self, request, queryset):
        return self._state_change(
            request,
            queryset,
            service=services.mark_batch_sent,
            title="Marquer le lot envoyé",
            intro="Le fichier du lot {batch.message_id} ({batch.line_count} virement(s), {batch.total_display}) a été "
            "transmis à la banque.",
            button="Marquer envoyé",
            done="Lot {batch.message_id} marqué envoyé.",
        )

    @admin.action(description="Marquer payé (virements exécutés)")
    def mark_paid(self, request, queryset):
        return self._state_change(
            request,
            queryset,
            service=services.mark_batch_paid,
            title="Marquer le lot payé",
            intro="La banque a exécuté les virements du lot {batch.message_id} : ses relevés et ordres de paiement "
            "non rejetés passent à « payé ». Enregistrez d'abord les rejets, s'il y en a.",
            button="Marquer payé",
            done="Lot {batch.message_id} payé : ses relevés et ordres de paiement sont payés.",
        )

    @admin.action(description="Importer un relevé pain.002 de la banque")
    def import_pain002(self, request, queryset):
        def act(batch, data):
            return services.import_pain002(batch=batch, file=data["file"], by=request.user, request=request).message

        return confirm_then_act(
            self,
            request,
            queryset,
            act=act,
            title="Importer le relevé de la banque (pain.002)",
            intro=lambda batch: (
                f"Les virements que la banque a rejetés dans le lot {batch.message_id} seront "
                "enregistrés avec leur motif ; leurs relevés et ordres de paiement redeviendront à payer. Sur un lot "
                "déjà payé, ce sont des retours de fonds : le bénéficiaire en est averti."
            ),
            button="Importer",
            form_class=Pain002Form,
            error_field="file",
            multipart=True,
            noun="lot",
        )


@admin.register(PaymentBatchLine)
class PaymentBatchLineAdmin(ReadOnlyAdmin):
    list_display = ["end_to_end_id", "batch", "organisation", "paid_thing", "amount", "status", "reason_label"]
    list_filter = ["status"]  # by status; the reason code is shown on each line
    search_fields = [
        "end_to_end_id",
        "organisation__name",
        "statement__number",
        "payout__reference",
        "batch__message_id",
    ]
    list_select_related = ["batch", "organisation", "statement", "payout"]
    actions = ["record_rejection", "record_return"]

    @admin.display(description="montant")
    def amount(self, line):
        return euros(line.amount_cents)

    @admin.display(description="paie")
    def paid_thing(self, line):
        return line.paid_thing

    @admin.action(description="Enregistrer un rejet de la banque")
    def record_rejection(self, request, queryset):
        def act(line, data):
            services.record_rejection(line=line, reason_code=data["reason_code"], by=request.user, request=request)
            return f"Virement {line.end_to_end_id} rejeté : {what_it_pays(line)} est de nouveau à payer."

        return confirm_then_act(
            self,
            request,
            queryset.select_related("batch", "statement", "payout"),
            act=act,
            title="Enregistrer un rejet",
            intro=lambda line: (
                f"Le virement {line.end_to_end_id} ({euros(line.amount_cents)} à {line.holder_name}) "
                f"a été rejeté par la banque. {sentence_start(what_it_pays(line))} redeviendra à payer et partira dans "
                "un prochain lot."
            ),
            button="Enregistrer le rejet",
            form_class=RejectionForm,
            noun="virement",
        )

    @admin.action(description="Enregistrer un retour de fonds après paiement")
    def record_return(self, request, queryset):
        def act(line, data):
            services.record_return(line=line, reason_code=data["reason_code"], by=request.user, request=request)
            return (
                f"Virement {line.end_to_end_id} retourné : {what_it_pays(line)} est de nouveau à payer et le "
                "bénéficiaire est prévenu par e-mail."
            )

        return confirm_then_act(
            self,
            request,
            queryset.select_related("batch", "statement", "payout"),
            act=act,
            title="Enregistrer un retour de fonds",
            intro=lambda line: (
                f"La banque a renvoyé le virement {line.end_to_end_id} ({euros(line.amount_cents)} à "
                f"{line.holder_name}) après le paiement du lot. {sentence_start(what_it_pays(line))} redeviendra à "
                "payer ; il partira dans un prochain lot quand le compte bancaire du bénéficiaire sera de nouveau "
                "vérifié. Le bénéficiaire est prévenu par e-mail."
            ),
            button="Enregistrer le retour",
            form_class=RejectionForm,
            noun="virement",
        )


def sentence_start(text):
    # str.capitalize would lower the rest (a reference, a statement's number).
    return text[:1].upper() + text[1:]


def what_it_pays(line):
    if line.statement_id:
        return f"son relevé {line.statement.number}"
    return f"son ordre de paiement {line.payout.reference}" if line.payout_id else "ce qu'il payait"


class PayoutLineInline(admin.TabularInline):
    """The transfers that paid (or tried to pay) a payout order, the latest last."""

    model = PaymentBatchLine
    fk_name = "payout"
    fields = ["batch", "end_to_end_id", "holder_name", "masked_iban", "amount", "status", "reason_code", "reason_label"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "virements de cet ordre"

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="IBAN")
    def masked_iban(self, line):
        return line.masked_iban

    @admin.display(description="montant")
    def amount(self, line):
        return euros(line.amount_cents)


@admin.register(PayoutOrder)
class PayoutOrderAdmin(ReadOnlyAdmin):
    """Payout orders outside the statements (a grant's instalments, …): read only — the app that
    owes the money orders them, the batches pay them."""

    list_display = ["reference", "organisation", "amount", "label", "source_kind", "status", "created_at", "paid_at"]
    list_filter = ["status", "source_kind"]
    search_fields = ["reference", "label", "organisation__name", "payment_lines__end_to_end_id"]
    list_select_related = ["organisation"]
    fields = [
        "reference",
        "label",
        "organisation",
        "amount",
        "source_kind",
        "source_id",
        "status",
        "created_at",
        "created_by",
        "paid_at",
    ]
    readonly_fields = fields
    inlines = [PayoutLineInline]

    @admin.display(description="montant", ordering="amount_cents")
    def amount(self, payout):
        return euros(payout.amount_cents)


@admin.register(PaymentBatchStatusChange)
class PaymentBatchStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["batch", "from_status", "to_status", "at", "by"]
    list_filter = ["to_status"]
    list_select_related = ["batch", "by"]
