"""The reasons a bank gives for a rejected credit transfer (ISO 20022 ``ExternalStatusReason1Code``,
those the EPC lists for SEPA), with a French label the operator and the site understand."""

REJECTION_REASONS = {
    "AC01": "IBAN incorrect : le numéro de compte n'existe pas ou est mal formé",
    "AC04": "Compte clôturé",
    "AC06": "Compte bloqué",
    "AC13": "Type de compte du bénéficiaire invalide",
    "AG01": "Virement interdit sur ce compte",
    "AG02": "Code d'opération invalide",
    "AM04": "Provision insuffisante sur le compte de l'opérateur",
    "AM05": "Virement en double",
    "BE04": "Adresse du bénéficiaire manquante",
    "CNOR": "Banque du bénéficiaire injoignable",
    "DNOR": "Banque de l'opérateur injoignable",
    "FF01": "Format du fichier invalide",
    "MD07": "Titulaire du compte décédé",
    "MS02": "Refusé par le bénéficiaire",
    "MS03": "Motif non communiqué par la banque",
    "RC01": "BIC incorrect",
    "RR01": "Informations réglementaires manquantes sur le compte de l'opérateur",
    "RR02": "Nom ou adresse de l'opérateur manquant",
    "RR03": "Nom ou adresse du bénéficiaire manquant",
    "RR04": "Motif réglementaire",
    "TM01": "Reçu après l'heure limite de la banque",
}


def reason_label(code: str) -> str:
    """The French label of a bank's code; a code outside the list still says what it is."""
    return REJECTION_REASONS.get(code, f"Motif de rejet « {code} » communiqué par la banque")
