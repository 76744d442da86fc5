"""Every refusal a person meets at the scanner or at the counter, defined once.

Each refusal has its machine code (stable: sites' tools and the API rely on it), a short French
label (lists, filters, the refused-scan log), the next action for the person at the scanner or
the counter, and its HTTP status. The services raise them (``DomainError(message,
code=Refusal.PASS_EXPIRED)``: the message says what happened in this case, with its figures),
the API documents them, the scan page shows the label and the next action, the refused-scan log
is constrained to them in the database, and the rate limiter counts the failed look-ups among
them. No code string is written anywhere else in the product (a test checks it).
"""

import enum


class Refusal(enum.StrEnum):
    def __new__(cls, code: str, label: str, next_action: str, status: int = 409):
        member = str.__new__(cls, code)
        member._value_ = code
        member.label = label
        member.next_action = next_action
        member.status = status
        return member

    # --- reading the code (these three are the failed look-ups the rate limiter counts)
    CODE_MALFORMED = (
        "code_malformed",
        "Code illisible",
        "Scannez à nouveau le QR code ou le code-barres, ou tapez le code imprimé sur le pass.",
        400,
    )
    CODE_MISTYPED = (
        "code_mistyped",
        "Faute de frappe dans le code",
        "Vérifiez chaque caractère du code et tapez-le à nouveau, ou scannez le pass.",
        400,
    )
    PASS_UNKNOWN = (
        "pass_unknown",
        "Pass inconnu",
        "Vérifiez qu'il s'agit bien d'un Pass numérique ; sinon, ce pass ne paie pas le service.",
        404,
    )
    # --- the pass
    PASS_NOT_ACTIVE = (
        "pass_not_active",
        "Pass pas encore utilisable",
        "Invitez la personne à revoir le prescripteur qui lui a remis le carnet.",
    )
    PASS_ALREADY_REDEEMED = (
        "pass_already_redeemed",
        "Pass déjà encaissé",
        "Ne rendez pas le service au titre de ce pass : demandez un autre pass du carnet.",
    )
    PASS_EXPIRED = (
        "pass_expired",
        "Pass expiré",
        "Ce pass ne peut plus servir : demandez un autre pass encore valable.",
    )
    PASS_CANCELLED = (
        "pass_cancelled",
        "Pass annulé",
        "Ce pass ne peut pas servir : orientez la personne vers son prescripteur.",
    )
    PASSES_FROM_DIFFERENT_BOOKLETS = (
        "passes_from_different_booklets",
        "Pass de carnets différents",
        "Scannez à nouveau des pass tous issus du même carnet.",
        400,
    )
    WRONG_PASS_COUNT = (
        "wrong_pass_count",
        "Nombre de pass incorrect",
        "Scannez à nouveau le nombre de pass que demande ce service.",
        400,
    )
    ALREADY_COLLECTED = (
        "already_collected",
        "Pass déjà scanné pour ce service",
        "Scannez un autre pass du même carnet.",
        400,
    )
    # --- the site, its place and its service
    SITE_NOT_QUALIFIED = (
        "site_not_qualified",
        "Structure non qualifiée",
        "Contactez l'opérateur du Pass numérique.",
        403,
    )
    SITE_SUSPENDED = (
        "site_suspended",
        "Structure suspendue",
        "Contactez l'opérateur du Pass numérique.",
        403,
    )
    POINT_OF_PRESENCE_UNKNOWN = (
        "point_of_presence_unknown",
        "Lieu inconnu",
        "Choisissez un de vos lieux dans la liste, puis scannez à nouveau.",
        400,
    )
    SERVICE_NOT_IN_CATALOGUE = (
        "service_not_in_catalogue",
        "Service hors de votre catalogue",
        "Choisissez un service de votre catalogue, puis scannez à nouveau.",
    )
    SERVICE_NOT_ELIGIBLE = (
        "service_not_eligible",
        "Service non financé par le programme",
        "Choisissez un autre service, financé par ce programme, puis scannez à nouveau.",
    )
    SITE_OUT_OF_TERRITORY = (
        "site_out_of_territory",
        "Lieu hors du territoire du programme",
        "Orientez la personne vers un lieu de son territoire (« Où utiliser mon pass »).",
    )
    # --- what the request says
    BENEFICIARY_SHARE_INVALID = (
        "beneficiary_share_invalid",
        "Reste à charge incorrect",
        "Corrigez le reste à charge, puis scannez à nouveau.",
        400,
    )
    SCANNED_AT_INVALID = (
        "scanned_at_invalid",
        "Date de scan incorrecte",
        "Vérifiez la date et l'heure de l'appareil, puis scannez à nouveau.",
        400,
    )
    IDEMPOTENCY_KEY_INVALID = (
        "idempotency_key_invalid",
        "Clé d'idempotence absente ou invalide",
        "Rechargez la page, puis recommencez.",
        400,
    )
    IDEMPOTENCY_KEY_REUSED = (
        "idempotency_key_reused",
        "Demande déjà envoyée",
        "Rechargez la page, puis recommencez.",
    )
    RATE_LIMITED = (
        "rate_limited",
        "Trop de codes erronés",
        "Attendez quelques minutes avant de scanner à nouveau.",
        429,
    )
    CONFLICT = (
        "conflict",
        "Modifié au même moment",
        "Recommencez : une autre demande portait sur le même pass ou le même carnet au même moment.",
    )
    # --- undoing a redemption
    UNDO_WINDOW_OVER = (
        "undo_window_over",
        "Délai d'annulation dépassé",
        "L'annulation n'est plus possible : si c'est une erreur, écrivez à l'opérateur.",
    )
    REDEMPTION_SETTLED = (
        "redemption_settled",
        "Encaissement déjà réglé",
        "Cet encaissement figure sur un relevé : l'opérateur corrigera par un ajustement sur le suivant.",
    )
    REDEMPTION_ALREADY_UNDONE = (
        "redemption_already_undone",
        "Encaissement déjà annulé",
        "Rien à faire : l'encaissement est déjà annulé.",
    )
    # --- the counter: handing a booklet over, undoing it, returning booklets
    NOT_A_PRESCRIBER = (
        "not_a_prescriber",
        "Réservé aux prescripteurs",
        "Choisissez votre organisation de prescripteur dans l'en-tête.",
        403,
    )
    BOOKLET_UNKNOWN = (
        "booklet_unknown",
        "Carnet inconnu",
        "Vérifiez le numéro imprimé sous le code-barres du carnet, puis recommencez.",
        404,
    )
    BOOKLET_NOT_IN_STOCK = (
        "booklet_not_in_stock",
        "Carnet hors de votre stock",
        "Remettez un carnet de votre stock.",
        404,
    )
    BOOKLET_ALREADY_HANDED_OUT = (
        "booklet_already_handed_out",
        "Carnet déjà remis",
        "Remettez un autre carnet de votre stock.",
    )
    BOOKLET_CANCELLED = (
        "booklet_cancelled",
        "Carnet annulé",
        "Remettez un autre carnet de votre stock.",
    )
    BOOKLET_PASS_USED = (
        "booklet_pass_used",
        "Un pass du carnet a servi",
        "Déclarez plutôt le carnet perdu si la personne ne l'a plus.",
    )
    ORDER_NOT_PAID = (
        "order_not_paid",
        "Commande non payée",
        "Remettez un carnet d'une commande payée ; le commanditaire sera prévenu.",
    )
    PROGRAMME_EXPIRED = (
        "programme_expired",
        "Programme terminé",
        "Remettez un carnet d'un programme en cours.",
    )
    PROGRAMME_CLOSED = (
        "programme_closed",
        "Programme clos",
        "Remettez un carnet d'un programme en cours.",
    )
    NOT_ELIGIBLE = (
        "not_eligible",
        "Personne hors des publics du programme",
        "Orientez la personne vers un programme qui la concerne.",
    )
    EXCEPTION_REASON_REQUIRED = (
        "exception_reason_required",
        "Raison de la dérogation à indiquer",
        "Indiquez pourquoi vous faites une exception, puis confirmez.",
    )
    BENEFICIARY_INVALID = (
        "beneficiary_invalid",
        "Renseignements sur la personne à corriger",
        "Corrigez le champ signalé, puis confirmez.",
        400,
    )
    REPLACEMENT_REFUSED = (
        "replacement_refused",
        "Remplacement impossible",
        "Un carnet de remplacement ne remplace qu'un carnet perdu ou volé, une seule fois.",
    )
    HAND_OVER_ALREADY_UNDONE = (
        "already_undone",
        "Remise déjà annulée",
        "Rien à faire : la remise est déjà annulée.",
    )
    HAND_OVER_UNDO_REFUSED = (
        "undo_refused",
        "Annulation de la remise impossible",
        "Déclarez plutôt le carnet perdu si la personne ne l'a plus.",
    )
    RETURN_INVALID = (
        "return_invalid",
        "Carnets à rendre mal indiqués",
        "Indiquez une liste de numéros, ou le premier et le dernier d'une série du même programme.",
        400,
    )
    RETURN_EMPTY = ("return_empty", "Aucun carnet à rendre", "Indiquez les carnets à rendre.", 400)
    RETURN_TOO_MANY = ("return_too_many", "Trop de carnets à la fois", "Rendez-les en plusieurs fois.", 400)
    HAND_OVER_REFUSED = ("hand_over_refused", "Remise impossible", "Remettez un autre carnet de votre stock.")
    LOSS_REFUSED = (
        "loss_refused",
        "Déclaration de perte impossible",
        "Vérifiez le numéro du carnet ; s'il est déjà déclaré, rien à faire.",
    )
    BOOKLET_REFUSED = (
        "booklet_refused",
        "Opération sur le carnet impossible",
        "Vérifiez le carnet et recommencez ; si cela continue, écrivez à l'opérateur.",
    )
    RETURN_REFUSED = (
        "return_refused",
        "Retour impossible",
        "Ne rendez que des carnets de votre stock jamais remis.",
    )
    OPERATOR_MISSING = (
        "operator_missing",
        "Stock de l'opérateur introuvable",
        "Réessayez plus tard ; si cela continue, écrivez à l'opérateur.",
        503,
    )
    # --- territories: a well-formed code that the referential of communes does not know
    INSEE_UNKNOWN = (
        "insee_unknown",
        "Commune inconnue",
        "Vérifiez le code INSEE de la commune (ce n'est pas le code postal), ou cherchez la commune par son nom.",
        400,
    )
    DEPARTMENT_UNKNOWN = (
        "department_unknown",
        "Département inconnu",
        "Vérifiez le code du département, par exemple 33 pour la Gironde ou 978 pour Saint-Martin.",
        400,
    )
    TERRITORY_UNKNOWN = (
        "territory_unknown",
        "Territoire inconnu",
        "Indiquez le code d'un département (33, 2A, 971) ou le code INSEE d'une commune (33063), pas un code postal.",
        400,
    )

    # --- calls for projects, co-funding agreements and the funders' statements
    CALL_INVALID = (
        "call_invalid",
        "Appel à projets à corriger",
        "Corrigez le champ signalé, puis enregistrez.",
        400,
    )
    CALL_NOT_OPEN = (
        "call_not_open",
        "Appel à projets fermé",
        "Attendez le prochain appel à projets du cofinanceur.",
    )
    CALL_DEADLINE_PASSED = (
        "call_deadline_passed",
        "Date limite de dépôt dépassée",
        "Cette candidature ne peut plus être déposée : attendez le prochain appel à projets.",
    )
    PURCHASE_BELOW_MINIMUM = (
        "purchase_below_minimum",
        "Achat inférieur au minimum de l'appel",
        "Augmentez le nombre de carnets de votre plan d'achat.",
        400,
    )
    PURCHASE_OVER_CAP = (
        "purchase_over_cap",
        "Achat au-dessus du plafond par projet",
        "Réduisez le nombre de carnets de votre plan d'achat.",
        400,
    )
    SHARE_TOO_HIGH = (
        "share_too_high",
        "Part demandée trop élevée",
        "Demandez une part au plus égale à celle que permet l'appel.",
        400,
    )
    PRIORITY_AUDIENCES_UNDER_MINIMUM = (
        "priority_audiences_under_minimum",
        "Publics prioritaires sous leur part minimale",
        "Réservez une plus grande part des pass aux publics prioritaires de l'appel.",
        400,
    )
    AUDIENCES_INVALID = (
        "audiences_invalid",
        "Publics visés mal indiqués",
        "Indiquez pour chaque public une part entre 0 et 100 %, 100 % au total au plus.",
        400,
    )
    APPLICATION_NOT_PENDING = (
        "application_not_pending",
        "Candidature déjà décidée ou non déposée",
        "Rechargez la page : la candidature a changé d'état.",
    )
    DECISION_REASON_REQUIRED = (
        "decision_reason_required",
        "Motif du refus à indiquer",
        "Écrivez pourquoi la candidature est refusée, puis confirmez.",
        400,
    )
    COFUNDING_OVER_100 = (
        "cofunding_over_100",
        "Parts des cofinanceurs au-delà de 100 %",
        "Réduisez la part d'un cofinanceur du programme (hors conventions).",
    )
    AGREEMENT_SHARE_LOCKED = (
        "agreement_share_locked",
        "Part fixée par une convention de cofinancement",
        "Laissez cette part telle quelle ; pour la changer, écrivez au cofinanceur.",
    )
    QUARTER_NOT_ENDED = (
        "quarter_not_ended",
        "Trimestre pas encore terminé",
        "Émettez le relevé après la fin du trimestre.",
        400,
    )
    FUNDER_STATEMENT_EXISTS = (
        "funder_statement_exists",
        "Relevé du trimestre déjà émis",
        "Téléchargez le relevé déjà émis dans la liste des relevés.",
    )

    # --- the business grant (sponsors/grants): eligibility rules, then instruction and instalments
    GRANT_HEADCOUNT_TOO_HIGH = (
        "grant_headcount_too_high",
        "Effectif trop élevé",
        "La subvention est réservée aux entreprises de moins de 30 salariés : vérifiez l'effectif déclaré.",
        400,
    )
    GRANT_EQUIPMENT_SHARE_TOO_HIGH = (
        "grant_equipment_share_too_high",
        "Part du matériel trop élevée",
        "Réduisez les achats de matériel ou augmentez les autres dépenses du projet.",
        400,
    )
    GRANT_DURATION_TOO_LONG = (
        "grant_duration_too_long",
        "Projet trop long",
        "Rapprochez la date de fin prévue : le projet dure 24 mois au plus.",
        400,
    )
    GRANT_PROJECT_ALREADY_STARTED = (
        "grant_project_already_started",
        "Projet déjà commencé",
        "La demande doit être déposée avant le début du projet : reportez la date de début.",
        400,
    )
    GRANT_AMOUNT_OUT_OF_RANGE = (
        "grant_amount_out_of_range",
        "Montant demandé hors des limites",
        "Demandez un montant compris entre le minimum et le maximum du dispositif.",
        400,
    )
    GRANT_OUT_OF_TERRITORY = (
        "grant_out_of_territory",
        "Entreprise hors du territoire",
        "Le siège de l'entreprise doit être situé sur le territoire du dispositif : vérifiez la commune.",
        400,
    )
    GRANT_DOCUMENTS_MISSING = (
        "grant_documents_missing",
        "Pièces manquantes",
        "Ajoutez les pièces demandées (PDF, JPEG ou PNG) puis déposez à nouveau.",
        400,
    )
    GRANT_RENEWAL_TOO_EARLY = (
        "grant_renewal_too_early",
        "Nouvelle aide trop tôt",
        "Une nouvelle demande est possible deux ans après la précédente subvention accordée.",
        400,
    )
    GRANT_APPLICATION_INCOMPLETE = (
        "grant_application_incomplete",
        "Demande incomplète",
        "Complétez les champs signalés de la demande.",
        400,
    )
    GRANT_STATE_NOT_ALLOWED = (
        "grant_state_not_allowed",
        "Action impossible dans cet état",
        "Rechargez la page : la demande a changé d'état.",
    )
    GRANT_DECISION_REASON_REQUIRED = (
        "grant_decision_reason_required",
        "Motif obligatoire",
        "Indiquez le motif : l'entreprise le lira dans la lettre de décision.",
        400,
    )
    GRANT_INSTALMENT_ABOVE_REMAINING = (
        "grant_instalment_above_remaining",
        "Versement supérieur au reste de la subvention",
        "Acceptez au plus ce qui reste de la subvention accordée, ou refusez la facture.",
        400,
    )
    GRANT_INVALID_FIGURE = (
        "grant_invalid_figure",
        "Chiffre invalide",
        "Saisissez un nombre positif, par exemple 1 234,56 pour un montant en euros.",
        400,
    )

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(refusal.value, refusal.label) for refusal in cls]

    @classmethod
    def values(cls) -> list[str]:
        return [refusal.value for refusal in cls]


#: The refusals that mean « this code was not found or not read »: only these are rate limited,
#: so that guessing codes is hopeless while scanning real passes is never slowed.
FAILED_LOOKUPS = frozenset({Refusal.CODE_MALFORMED, Refusal.CODE_MISTYPED, Refusal.PASS_UNKNOWN})

#: Who meets which refusal (the API documentation lists them from here).
PASS_CHECK_REFUSALS = (
    Refusal.PASS_NOT_ACTIVE,
    Refusal.PASS_ALREADY_REDEEMED,
    Refusal.PASS_EXPIRED,
    Refusal.PASS_CANCELLED,
    Refusal.SITE_NOT_QUALIFIED,
    Refusal.SITE_SUSPENDED,
    Refusal.CODE_MALFORMED,
    Refusal.CODE_MISTYPED,
    Refusal.PASS_UNKNOWN,
    Refusal.RATE_LIMITED,
)
REDEMPTION_REFUSALS = (
    Refusal.CODE_MALFORMED,
    Refusal.CODE_MISTYPED,
    Refusal.PASS_UNKNOWN,
    Refusal.PASS_NOT_ACTIVE,
    Refusal.PASS_ALREADY_REDEEMED,
    Refusal.PASS_EXPIRED,
    Refusal.PASS_CANCELLED,
    Refusal.SITE_NOT_QUALIFIED,
    Refusal.SITE_SUSPENDED,
    Refusal.SERVICE_NOT_IN_CATALOGUE,
    Refusal.SERVICE_NOT_ELIGIBLE,
    Refusal.SITE_OUT_OF_TERRITORY,
    Refusal.PASSES_FROM_DIFFERENT_BOOKLETS,
    Refusal.WRONG_PASS_COUNT,
    Refusal.POINT_OF_PRESENCE_UNKNOWN,
    Refusal.BENEFICIARY_SHARE_INVALID,
    Refusal.SCANNED_AT_INVALID,
    Refusal.IDEMPOTENCY_KEY_INVALID,
    Refusal.IDEMPOTENCY_KEY_REUSED,
    Refusal.CONFLICT,
    Refusal.RATE_LIMITED,
)
REDEMPTION_UNDO_REFUSALS = (
    Refusal.UNDO_WINDOW_OVER,
    Refusal.REDEMPTION_SETTLED,
    Refusal.REDEMPTION_ALREADY_UNDONE,
)
HAND_OVER_REFUSALS = (
    Refusal.NOT_A_PRESCRIBER,
    Refusal.BOOKLET_UNKNOWN,
    Refusal.BOOKLET_NOT_IN_STOCK,
    Refusal.BOOKLET_ALREADY_HANDED_OUT,
    Refusal.BOOKLET_CANCELLED,
    Refusal.ORDER_NOT_PAID,
    Refusal.PROGRAMME_EXPIRED,
    Refusal.PROGRAMME_CLOSED,
    Refusal.NOT_ELIGIBLE,
    Refusal.EXCEPTION_REASON_REQUIRED,
    Refusal.BENEFICIARY_INVALID,
    Refusal.INSEE_UNKNOWN,
    Refusal.IDEMPOTENCY_KEY_INVALID,
    Refusal.IDEMPOTENCY_KEY_REUSED,
    Refusal.CONFLICT,
)


def documented(refusals) -> str:
    """« `code` (status, label) » for each refusal: the API documentation's list."""
    return ", ".join(f"`{refusal.value}` ({refusal.status}, {refusal.label.lower()})" for refusal in refusals)
