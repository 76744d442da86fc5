"""Checks of bank details: a SEPA IBAN with a valid key, and a BIC of the same country. Each
``check_*`` returns the cleaned value or raises ``PayeeError`` tied to the form field."""

import re

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from passnum.errors import DomainError


class PayeeError(DomainError):
    code = "payee_invalid"


def check_iban(value):
    compact = re.sub(r"\s", "", value or "").upper()
    try:
        iban = IBAN(compact)
    except SchwiftyException as exc:
        raise PayeeError(
            "Cet IBAN n'est pas valide : vérifiez chaque caractère (la clé de contrôle ne correspond pas ou la "
            "longueur est fausse).",
            code="iban_invalid",
            field="iban",
        ) from exc
    if not iban.in_sepa_zone:
        raise PayeeError(
            "Cet IBAN est celui d'un pays hors de la zone SEPA : les remboursements ne sont versés que sur un "
            "compte de la zone SEPA.",
            code="iban_not_sepa",
            field="iban",
        )
    return str(iban.compact)


def check_bic(value, *, iban=None):
    compact = re.sub(r"\s", "", value or "").upper()
    try:
        bic = BIC(compact)
    except SchwiftyException as exc:
        raise PayeeError(
            "Ce BIC n'est pas valide : il compte 8 ou 11 caractères, par exemple BNPAFRPPXXX.",
            code="bic_invalid",
            field="bic",
        ) from exc
    if iban is not None:
        iban_country = iban[:2]
        # Monaco, overseas territories and a few others bank under French BICs.
        if bic.country_code != iban_country and not {bic.country_code, iban_country} <= {
            "FR",
            "MC",
            "GP",
            "MQ",
            "GF",
            "RE",
            "YT",
            "PM",
            "BL",
            "MF",
        }:
            raise PayeeError(
                "Ce BIC ne correspond pas au pays de l'IBAN : vérifiez-les sur votre relevé d'identité bancaire.",
                code="bic_iban_mismatch",
                field="bic",
            )
    return str(bic.compact)
