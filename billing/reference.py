"""The two reference contracts the product is modelled on, loaded idempotently.

Parties and parameters are transcribed from the contract texts (焦作 2026, 包头 2025); the
price tables ship with the project under ``billing/data/catalogs``. Only public bodies are
named — no personal names, phone numbers or bank accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction

from billing.services import CatalogImportResult, catalog_import
from govcloud.audit import audit_log, model_snapshot
from govcloud.models import (
    Contract,
    ContractParty,
    Installment,
    Organization,
    OrganizationKind,
    PartialDay,
    PartyRole,
    PricePeriod,
    Proration,
    SettlementCadence,
)

CATALOG_DIR = Path(__file__).resolve().parent / "data" / "catalogs"


@dataclass(frozen=True)
class PartySpec:
    name: str
    role: str
    short_name: str = ""
    is_lead: bool = True
    review_order: int | None = None
    signoff_order: int | None = None


@dataclass(frozen=True)
class ContractSpec:
    code: str
    name: str
    catalog_file: str
    values: dict[str, Any]
    parties: tuple[PartySpec, ...]
    installments: tuple[tuple[int, str, Decimal | None, str], ...] = field(default=())


JZ_BUREAU = "焦作市行政审批和政务信息管理局"
BT_BUREAU = "包头市行政审批政务服务与数据管理局"

REFERENCE_CONTRACTS: tuple[ContractSpec, ...] = (
    ContractSpec(
        code="JZ-2026",
        name="焦作市政务云服务采购项目",
        catalog_file="jiaozuo-2026.csv",
        values={
            "service_start": date(2026, 6, 4),
            "service_end": date(2028, 6, 3),
            # 合同三、1: 2026年3月20日至2026年6月3日产生的服务费用按本合同价格标准执行。
            "billing_from": date(2026, 3, 20),
            "price_period": PricePeriod.YEAR,
            "proration": Proration.DAYS_365,
            "partial_day_rule": PartialDay.WHOLE_DAY,
            "discount_factor": Decimal("0.9993"),
            "test_period_months": 0,
            "settlement_cadence": SettlementCadence.YEARLY,
            "estimated_amount": None,
            "vat_rate": Decimal("0.06"),
        },
        parties=(
            PartySpec(JZ_BUREAU, PartyRole.BUREAU, "焦作市政务局", review_order=1, signoff_order=1),
            PartySpec("浪潮云信息技术股份公司", PartyRole.VENDOR, "浪潮云", signoff_order=2),
            PartySpec(
                "焦作国资数字产业投资发展有限公司", PartyRole.VENDOR, "焦作国资数产", is_lead=False
            ),
        ),
        installments=(
            (
                1,
                "年度结算",
                None,
                "每年12月，乙方提交资源申请表、资源使用情况确认表，经甲方确认并收到财政拨款后20个工作日内支付",
            ),
        ),
    ),
    ContractSpec(
        code="BT-2025",
        name="包头市本级政务云服务项目（含多云管理服务）",
        catalog_file="baotou-2025.csv",
        values={
            "procurement_no": "BTZC-G-F-250006",
            "service_start": date(2025, 6, 20),
            "service_end": date(2026, 6, 19),
            "billing_from": date(2025, 6, 20),
            "price_period": PricePeriod.MONTH,
            "proration": Proration.DAYS_IN_MONTH,
            "partial_day_rule": PartialDay.HALF_DAY_UNDER_12H,
            "discount_factor": Decimal("0.9999"),
            "test_period_months": 1,
            "settlement_cadence": SettlementCadence.HALF_YEARLY,
            "estimated_amount": Decimal("8700000.00"),
            "vat_rate": Decimal("0.06"),
        },
        parties=(
            PartySpec(BT_BUREAU, PartyRole.BUREAU, "包头市数据局", review_order=1, signoff_order=1),
            PartySpec(
                "中国电信股份有限公司包头分公司", PartyRole.VENDOR, "包头电信", signoff_order=2
            ),
            # The contract (5.5) requires a third-party supervisor and auditor without naming
            # them; these placeholders are renamed in the admin once the firms are appointed.
            PartySpec(
                "包头市本级政务云服务项目第三方监理单位",
                PartyRole.SUPERVISOR,
                "项目监理",
                review_order=2,
                signoff_order=3,
            ),
            PartySpec("包头市本级政务云服务项目第三方审计单位", PartyRole.AUDITOR, "项目审计"),
        ),
        installments=(
            (1, "预付款", Decimal("1000000.00"), "合同签订后支付，支持乙方前期建设投入"),
            (2, "半年款", None, "乙方完成半年服务内容，按半年服务资源用量据实结算"),
            (3, "尾款", None, "服务期满考核后：实际支付费用 − 已支付金额"),
        ),
    ),
)


def _organization(spec: PartySpec) -> Organization:
    org, _created = Organization.objects.get_or_create(
        name=spec.name, defaults={"kind": spec.role, "short_name": spec.short_name}
    )
    return org


@transaction.atomic
def load_reference_contracts(*, actor: Any = None) -> dict[str, CatalogImportResult]:
    """Create or bring up to date both reference contracts; running it twice changes nothing."""
    results: dict[str, CatalogImportResult] = {}
    for spec in REFERENCE_CONTRACTS:
        contract = Contract.objects.filter(code=spec.code).first()
        if contract is None:
            contract = Contract(code=spec.code, name=spec.name, **spec.values)
            contract.full_clean()
            contract.save()
            audit_log(
                actor=actor or "load_reference_contracts",
                action="contract.create",
                obj=contract,
                after=model_snapshot(contract),
            )
        for party in spec.parties:
            org = _organization(party)
            ContractParty.objects.get_or_create(
                contract=contract,
                organization=org,
                defaults={
                    "role": party.role,
                    "is_lead": party.is_lead,
                    "review_order": party.review_order,
                    "signoff_order": party.signoff_order,
                },
            )
        for sequence, label, amount, condition in spec.installments:
            Installment.objects.get_or_create(
                contract=contract,
                sequence=sequence,
                defaults={"label": label, "amount": amount, "condition": condition},
            )
        csv_text = (CATALOG_DIR / spec.catalog_file).read_text(encoding="utf-8")
        results[spec.code] = catalog_import(
            actor=actor or "load_reference_contracts", contract=contract, csv_text=csv_text
        )
    return results


def bureau_of(code: str) -> Organization:
    return Organization.objects.get(
        contract_parties__contract__code=code, kind=OrganizationKind.BUREAU
    )
