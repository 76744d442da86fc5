from aptic_catalog.selectors import active_services
from aptic_catalog.services import ensure_referential_loaded


def build(context):
    ensure_referential_loaded()
    context.output["aptic_services"] = active_services().count()
