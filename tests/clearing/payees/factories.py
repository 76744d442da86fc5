import factory

from clearing.payees.models import PayeeAccount, PayeeKind
from tests.factories import OrganisationFactory

VALID_IBAN = "FR7630006000011234567890189"
VALID_BIC = "AGRIFRPPXXX"


class PayeeAccountFactory(factory.django.DjangoModelFactory):
    """Version 1 of an organisation's payee account, to be verified."""

    class Meta:
        model = PayeeAccount

    organisation = factory.SubFactory(OrganisationFactory, site=True)
    version = 1
    payee_kind = PayeeKind.SELF
    holder_name = "Association Exemple"
    iban = VALID_IBAN
    bic = VALID_BIC
