"""Checks of what a site files: supporting documents. Each ``check_*`` returns
the cleaned value or raises ``SiteError`` with a French message tied to the form field.
"""

from mediators.errors import SiteError

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024


SIGNATURES = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
]


def sniff_content_type(head):
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def check_document(uploaded):
    """Size at most 5 MB and a real PDF, JPEG or PNG (read from the content, not the name)."""
    if uploaded is None:
        raise SiteError("Choisissez un fichier à envoyer.", code="document_missing", field="file")
    if uploaded.size > MAX_DOCUMENT_BYTES:
        raise SiteError(
            f"Ce fichier pèse {uploaded.size / 1024 / 1024:.1f} Mo : 5 Mo au plus. Réduisez-le (scan en noir et "
            "blanc, résolution plus faible) ou envoyez une photo.",
            code="document_too_large",
            field="file",
        )
    if uploaded.size == 0:
        raise SiteError("Ce fichier est vide.", code="document_empty", field="file")
    uploaded.seek(0)
    head = uploaded.read(16)
    uploaded.seek(0)
    content_type = sniff_content_type(head)
    if content_type is None:
        raise SiteError(
            "Ce fichier n'est ni un PDF, ni une image JPEG ou PNG : enregistrez-le dans l'un de ces formats.",
            code="document_wrong_type",
            field="file",
        )
    return content_type
