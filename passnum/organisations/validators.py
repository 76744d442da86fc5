from django.core.exceptions import ValidationError
from stdnum import luhn
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.fr import siret as stdnum_siret


def normalise_siret(value):
    return stdnum_siret.compact(value or "")


def validate_siret(value):
    """A SIRET is 14 digits whose Luhn checksum holds (python-stdnum knows La Poste's exception)."""
    try:
        stdnum_siret.validate(value)
    except InvalidLength as exc:
        raise ValidationError("Un SIRET compte 14 chiffres.", code="siret_length") from exc
    except InvalidFormat as exc:
        raise ValidationError("Un SIRET ne contient que des chiffres.", code="siret_format") from exc
    except InvalidChecksum as exc:
        raise ValidationError(
            "Ce SIRET n'est pas valide : vérifiez les chiffres (la clé de contrôle ne correspond pas).",
            code="siret_checksum",
        ) from exc


def siret_from_prefix(digits12):
    """Completes 12 digits (8 of SIREN, 4 of NIC) into a valid SIRET: demo data and tests."""
    siren = digits12[:8] + luhn.calc_check_digit(digits12[:8])
    body = siren + digits12[8:12]
    return body + luhn.calc_check_digit(body)
