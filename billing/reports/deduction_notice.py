"""The written deduction notice (扣款书面通知书, 包头 §7.1.2), rendered with the report toolkit.

Rendered on request from the deduction record (amount, reason, event and notice deadline never
change once entered — a revision is a re-issued notice — only the acknowledgement line fills in).
It is not digitally signed: the vendor's acknowledgement is recorded on the platform (who,
when; audited), and the bureau's seal stays on paper where the bureau issues it.
"""

from __future__ import annotations

from billing.models import Deduction
from billing.reports.amount_words import amount_in_words
from govcloud.dates import business_date
from govcloud.pdf.render import render_pdf
from govcloud.terms import cite


def deduction_notice_pdf_bytes(deduction: Deduction) -> bytes:
    contract = deduction.contract
    return render_pdf(
        "billing/reports/deduction_notice.html",
        {
            "report_title": contract.name,
            "report_subtitle": "考核扣款书面通知书",
            "contract": contract,
            "deduction": deduction,
            "issued_on": business_date(deduction.created_at),
            "amount_words": amount_in_words(deduction.amount),
            "notice_term": cite(contract, "deduction_notice_working_days"),
            "ack_term": cite(contract, "deduction_needs_vendor_ack"),
            "bureau": contract.bureau,
            "vendor": next((p.organization for p in contract.parties_with_role("vendor")), None),
        },
    )
