"""One refusal vocabulary: every code of the scanner and the counter is defined once, in
``passnum.refusals``, with its French label, next action and status; no other product file
spells a code, and the refused-scan log cannot hold a reason outside the vocabulary."""

import ast
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from mediators.redemption.models import RefusedScan
from passnum.refusals import FAILED_LOOKUPS, REDEMPTION_REFUSALS, Refusal, documented
from tests.factories import OrganisationFactory

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_PACKAGES = ["passnum", "sponsors", "prescribers", "beneficiaries", "mediators", "clearing", "aptic_catalog"]


def product_files():
    for package in PRODUCT_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts and path != ROOT / "passnum" / "refusals.py":
                yield path


def test_no_refusal_code_is_spelled_outside_the_vocabulary():
    codes = set(Refusal.values())
    spelled = []
    for path in product_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in codes:
                spelled.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert spelled == [], "Use passnum.refusals.Refusal instead of these strings:\n" + "\n".join(spelled)


def test_the_walk_would_see_a_spelled_code(tmp_path):
    """The check above reads what a file says: a file spelling a code is caught."""
    sample = "raise DomainError('Déjà encaissé', code='pass_already_redeemed')"
    found = [
        node.value
        for node in ast.walk(ast.parse(sample))
        if isinstance(node, ast.Constant) and node.value in set(Refusal.values())
    ]
    assert found == ["pass_already_redeemed"]


def test_every_refusal_says_what_it_is_and_what_to_do_next():
    assert len(Refusal.values()) == len(set(Refusal.values()))
    for refusal in Refusal:
        assert refusal.label and refusal.label[0].isupper(), refusal
        assert refusal.next_action.endswith((".", ")")), refusal
        assert refusal.status in {400, 403, 404, 409, 429, 503}, refusal
    assert {r.value for r in FAILED_LOOKUPS} == {"code_malformed", "code_mistyped", "pass_unknown"}
    assert Refusal("pass_expired") is Refusal.PASS_EXPIRED and Refusal.PASS_EXPIRED == "pass_expired"


def test_the_api_documentation_lists_the_codes_from_the_vocabulary(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    description = schema["paths"]["/api/v1/redemptions"]["post"]["description"]
    assert documented(REDEMPTION_REFUSALS) in description
    assert "`pass_already_redeemed` (409, pass déjà encaissé)" in description


@pytest.mark.django_db
def test_the_refused_scan_log_only_holds_known_reasons():
    organisation = OrganisationFactory(site=True)
    fields = {"organisation": organisation, "entered": "X", "message": "…", "at": timezone.now()}
    RefusedScan.objects.create(reason=Refusal.PASS_EXPIRED, **fields)
    with pytest.raises(IntegrityError, match="refused_scan_reason_known"), transaction.atomic():
        RefusedScan.objects.create(reason="made_up_reason", **fields)
    assert list(RefusedScan.objects.values_list("reason", flat=True)) == ["pass_expired"]
