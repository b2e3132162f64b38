"""The terms of a contract (DESIGN §4a): every rule that differs between contracts, by key.

A term is stored on ``Contract`` (one column each, or derived from the contract's parties) and
cites its clause through a ``ContractClause`` row. This registry is the one list of them: the
contract file loader reads and validates them by these keys, ``contract_terms --json`` prints
them, the terms page and the admin show them. Services read the contract's columns; they never
ask which contract it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from govcloud.models import (
    Contract,
    DiscountScope,
    JointSubject,
    PartyRole,
    PricePeriod,
    Scorecard,
    SettlementCadence,
)


@dataclass(frozen=True)
class TermDef:
    """One term: its key in the contract file and JSON, where it is stored, how it reads."""

    key: str
    section: str  # table of contract.toml it is written in ("" = top level)
    field: str | None  # Contract column; None = derived from the parties
    label: Any
    kind: str  # int | decimal | bool | choice | roles | mapping | date | derived
    unit: Any = ""
    none_text: Any = _("合同未约定")  # noqa: RUF009 - a lazy string, evaluated when shown
    choices: tuple[str, ...] = ()
    zero_is_none: bool = False  # 0 reads as ``none_text`` (0 test months = no test period)


def _choices(enum: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in enum.values)


def _defs() -> tuple[TermDef, ...]:
    return (
        # --- billing (DESIGN §4) -----------------------------------------------------------
        TermDef("billing_from", "", "billing_from", _("计费起始日"), "date"),
        TermDef(
            "price_period",
            "billing",
            "price_period",
            _("价格周期"),
            "choice",
            choices=_choices(PricePeriod),
        ),
        TermDef(
            "partial_day",
            "billing",
            "partial_day_rule",
            _("不足一天计费规则"),
            "choice",
            choices=("whole_day", "half_under_12h"),
        ),
        TermDef("discount", "billing", "discount_factor", _("折扣系数"), "decimal"),
        TermDef(
            "discount_applies_to",
            "billing",
            "discount_applies_to",
            _("折扣作用范围"),
            "choice",
            choices=_choices(DiscountScope),
        ),
        TermDef(
            "test_period_months",
            "billing",
            "test_period_months",
            _("新系统测试期（不计费）"),
            "int",
            unit=_("个月"),
            none_text=_("无测试期"),
            zero_is_none=True,
        ),
        TermDef("vat_rate", "billing", "vat_rate", _("增值税率（价格含税）"), "decimal"),
        # --- tickets ------------------------------------------------------------------------
        TermDef("review_chain", "workflow", None, _("资源申请审核链"), "derived"),
        TermDef(
            "delivery_working_days",
            "terms",
            "delivery_working_days",
            _("资源交付时限"),
            "int",
            unit=_("个工作日"),
            none_text=_("未约定时限（及时交付），不计超时"),
        ),
        TermDef(
            "extended_delivery_working_days",
            "terms",
            "extended_delivery_working_days",
            _("经甲方批准的延期交付时限"),
            "int",
            unit=_("个工作日"),
            none_text=_("不适用"),
        ),
        TermDef(
            "delivery_time_tolerance_hours",
            "terms",
            "delivery_time_tolerance_hours",
            _("交付时间补录容差"),
            "int",
            unit=_("小时"),
            none_text=_("不得早于登记时刻"),
            zero_is_none=True,
        ),
        # --- statements -------------------------------------------------------------------------
        TermDef("signoff_order", "workflow", None, _("月度统计表签认顺序"), "derived"),
        TermDef(
            "statement_due_working_day",
            "terms",
            "statement_due_working_day",
            _("月度统计表提交期限（次月第 N 个工作日）"),
            "int",
            unit=_("（次月工作日序号）"),
            none_text=_("合同未约定提交期限"),
        ),
        TermDef(
            "statement_is_deliverable",
            "terms",
            "statement_is_deliverable",
            _("统计表逾期或错误按交付物考核"),
            "bool",
        ),
        TermDef(
            "dispute_escalation_working_days",
            "terms",
            "dispute_escalation_working_days",
            _("统计表争议提交审计"),
            "int",
            unit=_("个工作日后"),
            none_text=_("协商解决，不提交审计"),
        ),
        # --- SLA ----------------------------------------------------------------------------
        TermDef(
            "scorecard",
            "terms",
            "scorecard",
            _("服务水平考核"),
            "choice",
            none_text=_("无服务水平协议，不考核、不扣分"),
            choices=tuple(c for c in _choices(Scorecard) if c),
        ),
        TermDef(
            "utilization_threshold_pct",
            "terms",
            "utilization_threshold_pct",
            _("资源利用率下限"),
            "int",
            unit="%",
            none_text=_("无利用率考核"),
        ),
        TermDef(
            "utilization_charge_pct",
            "terms",
            "utilization_charge_pct",
            _("利用率不达标扣款（年服务费的百分比）"),
            "decimal",
            unit="%",
            none_text=_("无"),
        ),
        TermDef(
            "maintenance_notice_hours",
            "terms",
            "maintenance_notice_hours",
            _("计划维护提前通知"),
            "int",
            unit=_("小时"),
            none_text=_("未约定通知期限"),
        ),
        TermDef(
            "maintenance_approvers",
            "terms",
            "maintenance_approvers",
            _("计划维护须同意的当事方"),
            "roles",
            none_text=_("只需通知，无须批准"),
        ),
        TermDef(
            "upgrade_notice_working_days",
            "terms",
            "upgrade_notice_working_days",
            _("平台升级书面申请提前"),
            "int",
            unit=_("个工作日"),
        ),
        TermDef(
            "improvement_working_days",
            "terms",
            "improvement_working_days",
            _("书面通知后的整改期限"),
            "int",
            unit=_("个工作日"),
        ),
        TermDef(
            "joint_confirmations",
            "terms",
            "joint_confirmations",
            _("须共同确认的事项"),
            "mapping",
            none_text=_("无共同确认要求"),
        ),
        # --- money after the statement ---------------------------------------------------------
        TermDef(
            "settlement_cadence",
            "settlement",
            "settlement_cadence",
            _("结算周期"),
            "choice",
            choices=_choices(SettlementCadence),
        ),
        TermDef(
            "settlement_month",
            "settlement",
            "settlement_month",
            _("年度结算月份"),
            "int",
            unit=_("月"),
            none_text=_("不适用"),
        ),
        TermDef(
            "payment_working_days",
            "settlement",
            "payment_working_days",
            _("收到拨款后付款期限"),
            "int",
            unit=_("个工作日"),
        ),
        TermDef(
            "invoice_lead_working_days",
            "settlement",
            "invoice_lead_working_days",
            _("付款节点前开具发票"),
            "int",
            unit=_("个工作日"),
        ),
        TermDef(
            "invoice_not_above_due",
            "settlement",
            "invoice_not_above_due",
            _("发票不得早开、不得超过应付金额"),
            "bool",
        ),
        TermDef(
            "deduction_notice_working_days",
            "terms",
            "deduction_notice_working_days",
            _("扣款书面通知期限"),
            "int",
            unit=_("个工作日"),
            none_text=_("无扣款约定"),
        ),
        TermDef(
            "deduction_needs_vendor_ack",
            "terms",
            "deduction_needs_vendor_ack",
            _("扣款经乙方签字确认后生效"),
            "bool",
        ),
        TermDef(
            "termination_notice_days",
            "terms",
            "termination_notice_days",
            _("提前终止书面通知"),
            "int",
            unit=_("日"),
        ),
        TermDef(
            "continuation_working_days",
            "terms",
            "continuation_working_days",
            _("期满后继续服务上限"),
            "int",
            unit=_("个工作日"),
            none_text=_("未约定"),
        ),
        TermDef(
            "handover_plan_days_before_end",
            "terms",
            "handover_plan_days_before_end",
            _("交接计划提前提交"),
            "int",
            unit=_("日（服务期满前）"),
            none_text=_("合同未约定交接计划"),
        ),
        TermDef(
            "staff_register_required",
            "terms",
            "staff_register_required",
            _("接触甲方信息人员名单及人员保密协议"),
            "bool",
        ),
    )


_CACHE: dict[str, tuple[TermDef, ...]] = {}


def term_defs() -> tuple[TermDef, ...]:
    if "defs" not in _CACHE:
        _CACHE["defs"] = _defs()
    return _CACHE["defs"]


def term_def(key: str) -> TermDef:
    """The term ``key``; ``KeyError`` for a key the registry does not know."""
    for term in term_defs():
        if term.key == key:
            return term
    raise KeyError(key)


#: The terms by the part of the contract they govern: the terms page and the admin's fieldsets
#: show them in these groups, in this order.
TERM_GROUPS: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (
        _("计费"),
        (
            "billing_from",
            "price_period",
            "partial_day",
            "discount",
            "discount_applies_to",
            "test_period_months",
            "vat_rate",
        ),
    ),
    (
        _("工单"),
        (
            "review_chain",
            "delivery_working_days",
            "extended_delivery_working_days",
            "delivery_time_tolerance_hours",
        ),
    ),
    (
        _("统计表"),
        (
            "signoff_order",
            "statement_due_working_day",
            "statement_is_deliverable",
            "dispute_escalation_working_days",
        ),
    ),
    (
        _("服务水平"),
        (
            "scorecard",
            "utilization_threshold_pct",
            "utilization_charge_pct",
            "maintenance_notice_hours",
            "maintenance_approvers",
            "upgrade_notice_working_days",
            "improvement_working_days",
            "joint_confirmations",
        ),
    ),
    (
        _("结算"),
        (
            "settlement_cadence",
            "settlement_month",
            "payment_working_days",
            "invoice_lead_working_days",
            "invoice_not_above_due",
            "deduction_notice_working_days",
            "deduction_needs_vendor_ack",
        ),
    ),
    (
        _("合同终止"),
        (
            "termination_notice_days",
            "continuation_working_days",
            "handover_plan_days_before_end",
            "staff_register_required",
        ),
    ),
)


def group_label(key: str) -> str:
    """The group a term is shown in ("" for a key in no group)."""
    for label, keys in TERM_GROUPS:
        if key in keys:
            return str(label)
    return ""


class _Keys:
    """``TERM_KEYS``: the set of term keys, computed on first use (the models must be loaded)."""

    def __contains__(self, key: object) -> bool:
        return any(d.key == key for d in term_defs())

    def __iter__(self):
        return iter(d.key for d in term_defs())


TERM_KEYS = _Keys()

# ``partial_day`` is written in contract files as DESIGN §4a spells it.
PARTIAL_DAY_FILE_VALUES = {"whole_day": "whole_day", "half_under_12h": "half_day_under_12h"}
PARTIAL_DAY_FROM_FIELD = {v: k for k, v in PARTIAL_DAY_FILE_VALUES.items()}


def party_roles_in(contract: Contract, attr: str) -> list[str]:
    """Roles in the order of ``review_order`` / ``signoff_order`` (lead parties only)."""
    parties = [p for p in contract.parties.all() if getattr(p, attr) is not None]
    return [p.role for p in sorted(parties, key=lambda p: getattr(p, attr))]


def term_value(contract: Contract, term: TermDef) -> Any:
    """The term's value as stored, ``None`` where the contract sets no such rule."""
    if term.field is None:
        attr = "review_order" if term.key == "review_chain" else "signoff_order"
        return party_roles_in(contract, attr)
    value = getattr(contract, term.field)
    if term.key == "partial_day":
        return PARTIAL_DAY_FROM_FIELD.get(value, value)
    if value in ("", [], {}):
        return None if term.kind in ("choice", "roles", "mapping") else value
    return value


def json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        text = format(value, "f")
        if (
            "." in text
            and value == value.quantize(Decimal("0.01"))
            and value.as_tuple().exponent < -2
        ):
            text = format(value.quantize(Decimal("0.01")), "f")
        return text
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class TermRow:
    term: TermDef
    value: Any
    clause: str
    quote: str

    @property
    def is_none(self) -> bool:
        return self.value is None

    @property
    def display(self) -> str:
        return display_value(self.term, self.value)


def display_value(term: TermDef, value: Any) -> str:
    if value is None or (term.zero_is_none and value == 0):
        return str(term.none_text)
    roles = dict(PartyRole.choices)
    if term.kind in ("roles", "derived"):
        return " → ".join(str(roles.get(r, r)) for r in value) if value else str(term.none_text)
    if term.kind == "mapping":
        subjects = dict(JointSubject.choices)
        return "；".join(
            f"{subjects.get(k, k)}：{'、'.join(str(roles.get(r, r)) for r in v)}"
            for k, v in value.items()
        )
    if term.kind == "bool":
        return str(_("是")) if value else str(_("否"))
    if term.kind == "choice":
        labels: dict[str, Any] = {
            **dict(PricePeriod.choices),
            **dict(DiscountScope.choices),
            **dict(Scorecard.choices),
            **dict(SettlementCadence.choices),
            "whole_day": _("上线、下线当天各按一天计"),
            "half_under_12h": _("不足12小时按0.5天，12小时及以上按1天"),
        }
        return str(labels.get(value, value))
    if isinstance(value, Decimal):
        value = format(value.normalize(), "f")
        if term.key == "vat_rate":
            return f"{format((Decimal(value) * 100).normalize(), 'f')}%"
    return f"{value}{term.unit}" if term.unit else str(value)


def contract_terms(contract: Contract) -> list[TermRow]:
    """Every term of ``contract`` with its value and the clause it cites."""
    clauses = {c.term: c for c in contract.clauses.all()}
    rows = []
    for term in term_defs():
        clause = clauses.get(term.key)
        rows.append(
            TermRow(
                term=term,
                value=term_value(contract, term),
                clause=clause.clause if clause else "",
                quote=clause.quote if clause else "",
            )
        )
    return rows


def contract_term_groups(contract: Contract) -> list[tuple[str, list[TermRow]]]:
    """``contract_terms`` in the groups of ``TERM_GROUPS`` (the terms page)."""
    rows = {row.term.key: row for row in contract_terms(contract)}
    groups = [
        (str(label), [rows.pop(key) for key in keys if key in rows]) for label, keys in TERM_GROUPS
    ]
    if rows:  # a term added to the registry but to no group is still shown
        groups.append((str(_("其他")), list(rows.values())))
    return groups


def contract_terms_json(contract: Contract) -> dict[str, Any]:
    """``contract_terms CODE --json``: DESIGN §8 keys at the top level, clauses beside them."""
    rows = contract_terms(contract)
    data: dict[str, Any] = {
        "code": contract.code,
        "name": contract.name,
        "service_start": contract.service_start.isoformat(),
        "service_end": contract.service_end.isoformat(),
    }
    for row in rows:
        data[row.term.key] = json_value(row.value)
    data["installments"] = [
        {
            "sequence": i.sequence,
            "label": i.label,
            "amount": json_value(i.amount),
            "condition": i.condition,
        }
        for i in contract.installments.all()
    ]
    data["clauses"] = {
        row.term.key: {"clause": row.clause, "quote": row.quote} for row in rows if row.clause
    }
    return data


def _clause_row(contract: Contract, key: str) -> Any:
    """The ``ContractClause`` of term ``key`` (read from prefetched ``clauses``), or None."""
    return next((c for c in contract.clauses.all() if c.term == key), None)


def clause_of(contract: Contract, key: str) -> str:
    """The citation of a term (e.g. 附件2 §2), "" where the contract file gave none."""
    clause = _clause_row(contract, key)
    return clause.clause if clause else ""


@dataclass(frozen=True)
class Citation:
    """Where a deadline, deduction or amount comes from: the term and its clause, linked."""

    key: str
    label: str
    clause: str
    quote: str
    url: str


def cite(contract: Contract, key: str) -> Citation:
    """The citation of term ``key`` of ``contract``, with the link to its row on the terms page."""
    term = term_def(key)
    clause = _clause_row(contract, key)
    return Citation(
        key=key,
        label=str(term.label),
        clause=clause.clause if clause else "",
        quote=clause.quote if clause else "",
        url=reverse("contract_terms", args=[contract.pk]) + f"#term-{key}",
    )
