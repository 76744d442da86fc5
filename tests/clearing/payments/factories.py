"""Statements to pay (issued by the real monthly close) and the bank's pain.002 reports."""

import datetime
import os

import sepaxml
import xmlschema

from clearing.payees.models import PayeeStatus
from clearing.services import close_site_month
from tests.clearing.factories import paris, redeeming_site, redemptions_in
from tests.clearing.payees.factories import PayeeAccountFactory

PAIN001_XSD = os.path.join(os.path.dirname(sepaxml.__file__), "schemas", "pain.001.001.03.xsd")
PAIN002_NS = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"


def statement_to_pay(*, passes=1, payee=PayeeStatus.VERIFIED, month=10, **payee_fields):
    """A site with ``passes`` one-pass redemptions in ``month`` 2026, closed into an issued
    statement; its payee account verified (``payee=None``: no account at all)."""
    place = redeeming_site()
    redemptions_in(place, paris(2026, month, 5), count=passes)
    statement = close_site_month(site=place.site, month=datetime.date(2026, month, 1), now=paris(2026, month + 1, 1, 3))
    if payee is not None:
        PayeeAccountFactory(organisation=place.organisation, status=payee, **payee_fields)
    return statement


def xsd_errors(content: bytes) -> list:
    """Every error of ``content`` against the official pain.001.001.03 schema."""
    return list(xmlschema.XMLSchema(PAIN001_XSD).iter_errors(content.decode()))


def pain002(message_id, transactions=(), *, group_status="PART", group_reason=None, namespace=PAIN002_NS):
    """A bank's status report: ``transactions`` are (end-to-end id, status, reason code or None)."""
    txs = "".join(
        f"<TxInfAndSts><OrgnlEndToEndId>{e2e}</OrgnlEndToEndId><TxSts>{status}</TxSts>"
        + (f"<StsRsnInf><Rsn><Cd>{reason}</Cd></Rsn></StsRsnInf>" if reason else "")
        + "</TxInfAndSts>"
        for e2e, status, reason in transactions
    )
    group_reason_xml = f"<StsRsnInf><Rsn><Cd>{group_reason}</Cd></Rsn></StsRsnInf>" if group_reason else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Document xmlns="{namespace}"><CstmrPmtStsRpt>'
        "<GrpHdr><MsgId>BANK-1</MsgId><CreDtTm>2026-11-03T10:00:00</CreDtTm></GrpHdr>"
        f"<OrgnlGrpInfAndSts><OrgnlMsgId>{message_id}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId>"
        f"<GrpSts>{group_status}</GrpSts>{group_reason_xml}</OrgnlGrpInfAndSts>"
        f"<OrgnlPmtInfAndSts><OrgnlPmtInfId>P1</OrgnlPmtInfId>{txs}</OrgnlPmtInfAndSts>"
        "</CstmrPmtStsRpt></Document>"
    ).encode()


def sepa_content(batch) -> bytes:
    with batch.sepa_file.open("rb") as handle:
        return handle.read()
