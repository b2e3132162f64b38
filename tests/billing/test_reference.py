"""The reference contracts: loaded idempotently, every catalog row exactly as the CSV."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from billing.contracts import REFERENCE_DIR
from billing.models import CatalogItem
from govcloud.models import Contract, ContractParty, Organization, PartyRole

SHARED = Path(__file__).resolve().parents[3] / "shared" / "catalogs"

pytestmark = pytest.mark.django_db


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_loading_twice_leaves_no_duplicates():
    call_command("load_reference_contracts")
    counts = (
        Contract.objects.count(),
        Organization.objects.count(),
        ContractParty.objects.count(),
        CatalogItem.objects.count(),
    )
    call_command("load_reference_contracts")
    assert counts == (
        Contract.objects.count(),
        Organization.objects.count(),
        ContractParty.objects.count(),
        CatalogItem.objects.count(),
    )
    assert counts[0] == 2
    assert counts[3] == 66 + 28


@pytest.mark.parametrize(
    ("code", "filename"), [("JZ-2026", "jz-2026/catalog.csv"), ("BT-2025", "bt-2025/catalog.csv")]
)
def test_every_catalog_row_equals_the_csv(code, filename):
    call_command("load_reference_contracts")
    contract = Contract.objects.get(code=code)
    items = {i.code: i for i in contract.catalog_items.all()}
    rows = _rows(REFERENCE_DIR / filename)
    assert len(items) == len(rows)
    for row in rows:
        item = items[row["code"]]
        assert (item.section, item.name, item.spec, item.unit, item.period) == (
            row["section"],
            row["name"],
            row["spec"],
            row["unit"],
            row["period"],
        )
        assert item.unit_price == Decimal(row["unit_price"])


@pytest.mark.parametrize(
    ("folder", "filename"), [("jz-2026", "jiaozuo-2026.csv"), ("bt-2025", "baotou-2025.csv")]
)
def test_shipped_catalog_copy_matches_the_shared_original(folder, filename):
    if not SHARED.exists():
        pytest.skip("shared/ not beside the project")
    assert _rows(REFERENCE_DIR / folder / "catalog.csv") == _rows(SHARED / filename)


def test_contract_parameters_follow_design_table():
    call_command("load_reference_contracts")
    jz = Contract.objects.get(code="JZ-2026")
    bt = Contract.objects.get(code="BT-2025")
    assert (jz.discount_factor, bt.discount_factor) == (Decimal("0.9993"), Decimal("0.9999"))
    assert str(jz.billing_from) == "2026-03-20"
    assert (bt.test_period_months, jz.test_period_months) == (1, 0)
    assert bt.estimated_amount == Decimal("8700000.00")
    assert [p.role for p in jz.review_chain] == [PartyRole.BUREAU]
    assert [p.role for p in bt.review_chain] == [PartyRole.BUREAU, PartyRole.SUPERVISOR]
    assert [p.role for p in bt.signoff_parties] == [
        PartyRole.BUREAU,
        PartyRole.VENDOR,
        PartyRole.SUPERVISOR,
    ]
    assert [p.role for p in jz.signoff_parties] == [PartyRole.BUREAU, PartyRole.VENDOR]
    assert [i.amount for i in bt.installments.all()] == [Decimal("1000000.00"), None, None]
    # JZ's flavour catalog carries the size in the code (used by right-sizing).
    flavour = jz.catalog_items.get(code="ecs.4c8g")
    assert (flavour.vcpus, flavour.memory_gb) == (4, 8)


# ------------------------------------------------------- terms as the two texts set them

#: (term, JZ-2026 value, its clause, BT-2025 value, its clause); clause "" = none cited.
REFERENCE_TERMS = [
    ("delivery_working_days", None, "四.5", 2, "附件2 §2"),
    ("extended_delivery_working_days", None, "", 5, "附件2 §2"),
    ("scorecard", None, "四.1", "sla100", "附件2"),
    ("maintenance_notice_hours", 72, "五.5", None, "附件2 1.1(1)"),
    ("maintenance_approvers", None, "五.5", ["bureau", "supervisor"], "附件2 1.1(1)"),
    ("upgrade_notice_working_days", 5, "五.6", None, ""),
    ("improvement_working_days", 15, "四.2", 10, "附件2 §9"),
    ("dispute_escalation_working_days", None, "十三.1", 3, "7.1.1"),
    ("statement_due_working_day", None, "五.2", 5, "5.1.5"),
    ("statement_is_deliverable", False, "五.2", True, "附件3 二(二)"),
    ("settlement_cadence", "yearly", "三.2", "half_yearly", "7.2.1(2)"),
    ("settlement_month", 12, "三.2", None, ""),
    ("payment_working_days", 20, "三.2", None, ""),
    ("invoice_lead_working_days", 10, "三.3", None, ""),
    ("invoice_not_above_due", False, "", True, "7.2.1"),
    ("deduction_notice_working_days", None, "", 10, "7.1.2"),
    ("deduction_needs_vendor_ack", False, "", True, "7.1.2"),
    ("utilization_threshold_pct", None, "", 30, "附件2 7.3"),
    ("utilization_charge_pct", None, "", "20.00", "附件2 7.3"),
    ("review_chain", ["bureau"], "一.1", ["bureau", "supervisor"], "附件2 2.3"),
    ("signoff_order", ["bureau", "vendor"], "三.2", ["bureau", "vendor", "supervisor"], "7.1.1"),
    ("termination_notice_days", 30, "十.1", 60, "15.4.3"),
    ("continuation_working_days", None, "", 30, "2.2"),
    ("partial_day", "whole_day", "三.1", "half_under_12h", "7.1.1"),
    ("discount", "0.9993", "三.1", "0.9999", "7.1.1"),
    ("test_period_months", 0, "三.1", 1, "5.1.2"),
    ("price_period", "year", "三.1", "month", "7.1.1"),
    ("billing_from", "2026-03-20", "三.1", "2025-06-20", "2.1"),
]


@pytest.fixture
def terms_json(db):
    call_command("load_reference_contracts")

    def read(code: str) -> dict:
        out = io.StringIO()
        call_command("contract_terms", code, "--json", stdout=out)
        return json.loads(out.getvalue())

    return {"JZ-2026": read("JZ-2026"), "BT-2025": read("BT-2025")}


@pytest.mark.parametrize(
    ("key", "jz", "jz_clause", "bt", "bt_clause"),
    REFERENCE_TERMS,
    ids=[row[0] for row in REFERENCE_TERMS],
)
def test_reference_terms_as_the_texts_say(terms_json, key, jz, jz_clause, bt, bt_clause):
    for code, value, clause in (("JZ-2026", jz, jz_clause), ("BT-2025", bt, bt_clause)):
        data = terms_json[code]
        assert data[key] == value, (code, key)
        assert data["clauses"].get(key, {}).get("clause", "") == clause, (code, key)
        if clause:
            assert data["clauses"][key]["quote"], (code, key)


def test_design_section_8_keys_are_null_where_the_contract_sets_no_rule(terms_json):
    jz, bt = terms_json["JZ-2026"], terms_json["BT-2025"]
    for key in (
        "delivery_working_days",
        "scorecard",
        "maintenance_notice_hours",
        "improvement_working_days",
    ):
        assert key in jz
        assert key in bt
    assert (jz["delivery_working_days"], jz["scorecard"]) == (None, None)
    assert bt["maintenance_notice_hours"] is None


def test_exit_terms_as_the_texts_say(terms_json):
    # BT-2025 2.2: a handover plan 30 days before the end; 附件5 2(6): the register of staff
    # with access. JZ-2026 sets neither.
    jz, bt = terms_json["JZ-2026"], terms_json["BT-2025"]
    assert (bt["handover_plan_days_before_end"], bt["staff_register_required"]) == (30, True)
    assert (jz["handover_plan_days_before_end"], jz["staff_register_required"]) == (None, False)
    assert bt["clauses"]["handover_plan_days_before_end"]["clause"] == "2.2"


def test_joint_confirmations_as_the_texts_say(terms_json):
    # JZ-2026 requires no joint confirmation; BT-2025: 附件2 7.3 (three parties' data), §9
    # (improvement reports), §2 (late-delivery exemption), §4 (incident level), 7.1.2, and
    # 附件4 3(4) (media clearing supervised by the bureau's management and the supervisor).
    assert terms_json["JZ-2026"]["joint_confirmations"] is None
    assert terms_json["BT-2025"]["joint_confirmations"] == {
        "utilization_data": ["bureau", "vendor", "supervisor"],
        "improvement_report": ["bureau", "supervisor", "auditor"],
        "late_delivery_exemption": ["bureau", "supervisor"],
        "incident_level": ["bureau"],
        "deduction_acknowledgement": ["vendor"],
        "data_deletion": ["bureau", "supervisor"],
    }
    assert terms_json["BT-2025"]["clauses"]["joint_confirmations"]["clause"].startswith("附件2 7.3")


def test_installments_as_the_texts_say(terms_json):
    bt = terms_json["BT-2025"]["installments"]
    assert [(i["label"], i["amount"]) for i in bt] == [
        ("预付款", "1000000.00"),
        ("半年款", None),
        ("尾款", None),
    ]
    assert [i["label"] for i in terms_json["JZ-2026"]["installments"]] == ["年度结算"]


def test_every_quote_is_in_the_contract_text(terms_json):
    """A clause quote is the contract's own words (whitespace and line breaks aside): pieces
    joined by "…" or "；" each; a closing remark in parentheses is the platform's."""
    seeds = SHARED.parent / "seeds"
    if not seeds.exists():
        pytest.skip("shared/ not beside the project")
    texts = {
        "JZ-2026": (seeds / "jiaozuo-contract-2026.txt").read_text(encoding="utf-8"),
        "BT-2025": (seeds / "baotou-contract-2025.txt").read_text(encoding="utf-8"),
    }
    missing = []
    for code, text in texts.items():
        flat = "".join(text.split())
        for key, cited in terms_json[code]["clauses"].items():
            quote = "".join(cited["quote"].split())
            quote = quote.split("（", 1)[0] if quote.endswith("）") else quote
            for part in quote.replace("……", "…").replace("；", "…").split("…"):
                part = part.strip("〔〕[]（）()，。；")
                if len(part) >= 6 and part not in flat:
                    missing.append(f"{code} {key}: {part}")
    assert not missing, "\n".join(missing)
