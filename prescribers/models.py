"""The prescriber's view of booklets: a proxy of the pass instrument's ``Booklet`` scoped by its
holder (the prescriber), for the API (``GET /api/v1/booklets/{serial}``). No table of its own."""

from passnum.passes.models import Booklet, BookletQuerySet


class HeldBookletQuerySet(BookletQuerySet):
    """``for_organisation`` follows the model's ``tenant_field``: here the holder."""


class HeldBooklet(Booklet):
    tenant_field = "holder"
    objects = HeldBookletQuerySet.as_manager()

    class Meta:
        proxy = True
        verbose_name = "carnet d'un prescripteur"
        verbose_name_plural = "carnets des prescripteurs"
        default_permissions = ()
