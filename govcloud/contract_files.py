"""Contract definition files (DESIGN §4a): read and validate ``contract.toml``.

``read_contract_file`` turns a file into a ``ContractDefinition`` or raises
``ContractFileError`` naming the file, every bad key and what is wrong with it; nothing touches
the database. ``apply_definition`` writes the contract, its parties, installments and clause
citations (the catalog is the billing app's part: ``billing.contracts.load_contract``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import ProtectedError

from govcloud.audit import audit_log, model_snapshot
from govcloud.models import (
    Contract,
    ContractClause,
    ContractParty,
    Installment,
    JointSubject,
    Organization,
    PartyRole,
    Proration,
)
from govcloud.terms import (
    PARTIAL_DAY_FILE_VALUES,
    TermDef,
    json_value,
    party_roles_in,
    term_defs,
    term_value,
)

ROLES = ("bureau", "vendor", "supervisor", "auditor")
TOP_KEYS = {
    "code",
    "name",
    "procurement_no",
    "service_start",
    "service_end",
    "billing_from",
    "catalog",
    "estimated_amount",
    "notes",
    "parties",
    "billing",
    "workflow",
    "settlement",
    "terms",
    "clauses",
}
SECTIONS = ("billing", "workflow", "settlement", "terms")
MAX_FILE_BYTES = 256 * 1024


@dataclass(frozen=True)
class Problem:
    key: str
    message: str


class ContractFileError(Exception):
    """A contract file that cannot be loaded: which file, which keys, what is wrong."""

    def __init__(self, path: Path | str, problems: list[Problem]):
        self.path = Path(path)
        self.problems = problems
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(f"{self.path}: {p.key}: {p.message}" for p in self.problems)


@dataclass(frozen=True)
class PartyDef:
    role: str
    name: str
    short_name: str = ""
    is_lead: bool = True


@dataclass(frozen=True)
class InstallmentDef:
    sequence: int
    label: str
    amount: Decimal | None
    condition: str


@dataclass
class ContractDefinition:
    path: Path
    code: str
    name: str
    values: dict[str, Any]  # Contract field → value (terms included)
    parties: list[PartyDef]
    review_chain: list[str]
    signoff_order: list[str]
    installments: list[InstallmentDef]
    clauses: dict[str, tuple[str, str]]  # term key → (clause, quote)
    catalog_path: Path
    price_period_given: bool = False
    problems: list[Problem] = field(default_factory=list)


class _Reader:
    def __init__(self, path: Path):
        self.path = path
        self.problems: list[Problem] = []

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(key, message))

    def text(
        self, table: dict[str, Any], key: str, dotted: str, *, required: bool, limit: int
    ) -> str:
        value = table.get(key)
        if value is None:
            if required:
                self.problem(dotted, "必填项缺失")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.problem(dotted, f"须为非空字符串（而不是 {value!r}）")
            return ""
        if len(value) > limit:
            self.problem(dotted, f"过长（{len(value)} 字，上限 {limit}）")
            return ""
        return value.strip()

    def date(self, table: dict[str, Any], key: str, dotted: str, *, required: bool) -> date | None:
        value = table.get(key)
        if value is None:
            if required:
                self.problem(dotted, "必填项缺失（日期，如 2026-06-20）")
            return None
        if not isinstance(value, date) or hasattr(value, "hour"):
            self.problem(dotted, f"须为日期，如 2026-06-20（而不是 {value!r}）")
            return None
        return value

    def decimal(self, value: Any, dotted: str) -> Decimal | None:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.problem(dotted, f'须为小数，如 "0.9999"（而不是 {value!r}）')
            return None
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            self.problem(dotted, f"不是有效的小数：{value!r}")
            return None
        if not number.is_finite():
            self.problem(dotted, f"不是有效的小数：{value!r}")
            return None
        return number

    def term(self, term: TermDef, value: Any, dotted: str) -> Any:
        kind = term.kind
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 32767:
                self.problem(dotted, f"须为 0–32767 的整数（而不是 {value!r}）")
                return None
            return value
        if kind == "decimal":
            return self.decimal(value, dotted)
        if kind == "bool":
            if not isinstance(value, bool):
                self.problem(dotted, f"须为 true 或 false（而不是 {value!r}）")
                return None
            return value
        if kind == "choice":
            if value not in term.choices:
                self.problem(dotted, f"取值 {value!r} 无效，可选：{'、'.join(term.choices)}")
                return None
            return PARTIAL_DAY_FILE_VALUES.get(value, value) if term.key == "partial_day" else value
        if kind == "roles":
            return self.roles(value, dotted)
        if kind == "mapping":
            if not isinstance(value, dict):
                self.problem(dotted, '须为表，如 utilization_data = ["bureau", "vendor"]')
                return None
            result = {}
            for subject, roles in value.items():
                if subject not in JointSubject.values:
                    self.problem(
                        f"{dotted}.{subject}",
                        f"未知的共同确认事项，可选：{'、'.join(JointSubject.values)}",
                    )
                    continue
                checked = self.roles(roles, f"{dotted}.{subject}")
                if checked is not None:
                    if not checked:
                        self.problem(f"{dotted}.{subject}", "至少列出一个当事方")
                        continue
                    result[subject] = checked
            return result
        if kind == "date":
            if not isinstance(value, date) or hasattr(value, "hour"):
                self.problem(dotted, f"须为日期，如 2026-06-20（而不是 {value!r}）")
                return None
            return value
        raise AssertionError(kind)

    def roles(self, value: Any, dotted: str) -> list[str] | None:
        if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
            self.problem(dotted, f"须为当事方角色列表，可选：{'、'.join(ROLES)}")
            return None
        unknown = [r for r in value if r not in ROLES]
        if unknown:
            self.problem(dotted, f"未知的当事方角色 {'、'.join(unknown)}，可选：{'、'.join(ROLES)}")
            return None
        if len(set(value)) != len(value):
            self.problem(dotted, "当事方角色重复")
            return None
        return list(value)


def _load_toml(path: Path) -> dict[str, Any]:
    if path.is_dir():
        path = path / "contract.toml"
    if not path.is_file():
        raise ContractFileError(path, [Problem("(文件)", "文件不存在或不是普通文件")])
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ContractFileError(
            path, [Problem("(文件)", f"无法读取：{exc.strerror or exc}")]
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ContractFileError(
            path, [Problem("(文件)", f"文件过大（上限 {MAX_FILE_BYTES // 1024} KB）")]
        )
    try:
        # "-sig": editors on Windows save UTF-8 with a byte-order mark.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ContractFileError(path, [Problem("(文件)", "不是 UTF-8 编码的文本")]) from None
    return parse_toml_text(text, path)


def parse_toml_text(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ContractFileError(path, [Problem("(语法)", f"TOML 语法错误：{exc}")]) from None


def contract_file_path(path: Path | str) -> Path:
    path = Path(path)
    return path / "contract.toml" if path.is_dir() else path


def read_contract_file(path: Path | str) -> ContractDefinition:
    """Parse and validate one contract file; raise ``ContractFileError`` listing every problem."""
    path = contract_file_path(path)
    return read_contract_data(_load_toml(path), path)


def read_contract_data(
    data: dict[str, Any], path: Path, *, catalog_file: bool = True
) -> ContractDefinition:
    """Validate the parsed contents of ``path``. ``catalog_file=False``: the caller brings the
    catalog's text itself (an upload), so no file is looked for beside ``path``."""
    r = _Reader(path)
    for key in data:
        if key not in TOP_KEYS:
            r.problem(key, f"未知的键（可用：{'、'.join(sorted(TOP_KEYS))}）")
    code = r.text(data, "code", "code", required=True, limit=30)
    name = r.text(data, "name", "name", required=True, limit=200)
    values: dict[str, Any] = {
        "procurement_no": r.text(
            data, "procurement_no", "procurement_no", required=False, limit=60
        ),
        "notes": r.text(data, "notes", "notes", required=False, limit=2000),
    }
    start = r.date(data, "service_start", "service_start", required=True)
    end = r.date(data, "service_end", "service_end", required=True)
    values["service_start"], values["service_end"] = start, end
    if start and end and start >= end:
        r.problem("service_end", "须晚于 service_start")
    if "estimated_amount" in data:
        amount = r.decimal(data["estimated_amount"], "estimated_amount")
        if amount is not None and amount <= 0:
            r.problem("estimated_amount", "须为正数")
        values["estimated_amount"] = amount
    else:
        values["estimated_amount"] = None
    catalog = r.text(data, "catalog", "catalog", required=True, limit=200)
    catalog_path = path.parent / catalog if catalog else path.parent
    if catalog and ("/" in catalog or "\\" in catalog or catalog in (".", "..")):
        r.problem("catalog", "须为本文件旁的文件名（不得含路径）")
    elif catalog and catalog_file and not catalog_path.is_file():
        r.problem("catalog", f"找不到目录文件 {catalog}（应与 contract.toml 放在同一文件夹）")

    sections: dict[str, dict[str, Any]] = {}
    for section in (*SECTIONS, "parties", "clauses"):
        table = data.get(section, {})
        if not isinstance(table, dict):
            r.problem(section, f"须为表（[{section}]）")
            table = {}
        sections[section] = table

    # Terms by section, every key checked against the registry.
    defs = term_defs()
    by_section: dict[str, dict[str, TermDef]] = {}
    for term in defs:
        by_section.setdefault(term.section, {})[term.key] = term
    given: set[str] = set()  # keys present with a valid value
    present: set[str] = set()  # keys present at all (a bad value is reported once, not twice)
    for section in ("billing", "settlement", "terms"):
        allowed = {k: t for k, t in by_section.get(section, {}).items() if t.field}
        extra = {"installments"} if section == "settlement" else set()
        for key, value in sections[section].items():
            dotted = f"{section}.{key}"
            if key in extra:
                continue
            term = allowed.get(key)
            if term is None:
                r.problem(
                    dotted,
                    f"未知的键（[{section}] 可用：{'、'.join(sorted(allowed) + sorted(extra))}）",
                )
                continue
            present.add(key)
            checked = r.term(term, value, dotted)
            if checked is not None:
                values[term.field] = checked
                given.add(key)
    billing_from = data.get("billing_from")
    if billing_from is not None:
        values["billing_from"] = r.date(data, "billing_from", "billing_from", required=False)
        given.add("billing_from")
    else:
        values["billing_from"] = start
    if values.get("billing_from") and start and values["billing_from"] > start:
        r.problem("billing_from", "不得晚于 service_start")
    for required in ("partial_day", "discount"):
        if required not in present:
            r.problem(f"billing.{required}", "必填项缺失")
    discount = values.get("discount_factor")
    if discount is not None and not Decimal(0) < discount <= Decimal(1):
        r.problem("billing.discount", f'须大于 0 且不超过 1（如 "0.9999"），而不是 {discount}')
    vat = values.setdefault("vat_rate", Decimal("0.06"))
    if vat is not None and not Decimal(0) <= vat < Decimal(1):
        r.problem("billing.vat_rate", f'须在 0 与 1 之间（如 "0.06"），而不是 {vat}')
    values.setdefault("test_period_months", 0)
    values.setdefault("delivery_time_tolerance_hours", 2)
    values.setdefault("discount_applies_to", "subtotal")
    values.setdefault("settlement_cadence", "half_yearly")
    for key, default in (("maintenance_approvers", []), ("joint_confirmations", {})):
        values.setdefault(key, default)
    for term in defs:
        if term.field and term.field not in values:
            values[term.field] = (
                False if term.kind == "bool" else ("" if term.kind == "choice" else None)
            )
    delivery, extended = (
        values.get("delivery_working_days"),
        values.get("extended_delivery_working_days"),
    )
    if delivery == 0:
        r.problem("terms.delivery_working_days", "须至少 1 个工作日；合同未约定时限时省略此键")
    if extended is not None and (delivery is None or extended < delivery):
        r.problem(
            "terms.extended_delivery_working_days",
            "须不短于 delivery_working_days（且须先约定标准时限）",
        )
    month = values.get("settlement_month")
    if month is not None and not 1 <= month <= 12:
        r.problem("settlement.settlement_month", "须为 1–12 的月份")
    due = values.get("statement_due_working_day")
    if due is not None and not 1 <= due <= 23:
        r.problem("terms.statement_due_working_day", "须为 1–23（次月第 N 个工作日）")
    pct = values.get("utilization_threshold_pct")
    if pct is not None and pct > 100:
        r.problem("terms.utilization_threshold_pct", "须为 0–100 的百分数")
    charge = values.get("utilization_charge_pct")
    if charge is not None and not Decimal(0) < charge <= 100:
        r.problem("terms.utilization_charge_pct", "须大于 0 且不超过 100")

    parties = _parties(r, sections["parties"])
    present = {p.role for p in parties if p.is_lead}
    workflow = sections["workflow"]
    for key in workflow:
        if key not in ("review_chain", "signoff_order"):
            r.problem(f"workflow.{key}", "未知的键（[workflow] 可用：review_chain、signoff_order）")
    default_review = ["bureau"] + (["supervisor"] if "supervisor" in present else [])
    default_signoff = ["bureau", "vendor"] + (["supervisor"] if "supervisor" in present else [])
    review = r.roles(workflow.get("review_chain", default_review), "workflow.review_chain") or []
    signoff = (
        r.roles(workflow.get("signoff_order", default_signoff), "workflow.signoff_order") or []
    )
    for dotted, roles in (("workflow.review_chain", review), ("workflow.signoff_order", signoff)):
        missing = [role for role in roles if role not in present]
        if missing:
            r.problem(dotted, f"列出的当事方 {'、'.join(missing)} 未在 [parties] 中给出")
    if "bureau" not in review:
        r.problem("workflow.review_chain", "须包含 bureau（甲方）")
    for role in ("bureau", "vendor"):
        if role not in signoff:
            r.problem("workflow.signoff_order", f"须包含 {role}")
    for key in ("maintenance_approvers",):
        missing = [role for role in values.get(key) or [] if role not in present]
        if missing:
            r.problem(f"terms.{key}", f"列出的当事方 {'、'.join(missing)} 未在 [parties] 中给出")
    for subject, roles in (values.get("joint_confirmations") or {}).items():
        missing = [role for role in roles if role not in present]
        if missing:
            r.problem(
                f"terms.joint_confirmations.{subject}",
                f"列出的当事方 {'、'.join(missing)} 未在 [parties] 中给出",
            )

    installments = _installments(r, sections["settlement"].get("installments", []))
    clauses = _clauses(r, sections["clauses"])
    if r.problems:
        raise ContractFileError(path, r.problems)
    return ContractDefinition(
        path=path,
        code=code,
        name=name,
        values=values,
        parties=parties,
        review_chain=review,
        signoff_order=signoff,
        installments=installments,
        clauses=clauses,
        catalog_path=catalog_path,
        price_period_given="price_period" in given,
    )


def _party(r: _Reader, value: Any, dotted: str, role: str, *, lead: bool) -> PartyDef | None:
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict):
        r.problem(dotted, '须为单位名称，或 { name = "…", short_name = "…" }')
        return None
    for key in value:
        if key not in ("name", "short_name"):
            r.problem(f"{dotted}.{key}", "未知的键（可用：name、short_name）")
    name = r.text(
        value, "name", f"{dotted}.name" if len(value) > 1 else dotted, required=True, limit=200
    )
    short = r.text(value, "short_name", f"{dotted}.short_name", required=False, limit=60)
    return PartyDef(role=role, name=name, short_name=short, is_lead=lead) if name else None


def _parties(r: _Reader, table: dict[str, Any]) -> list[PartyDef]:
    parties: list[PartyDef] = []
    for key in table:
        if key not in ROLES and key != "vendor_members":
            r.problem(f"parties.{key}", f"未知的当事方（可用：{'、'.join(ROLES)}、vendor_members）")
    for role in ROLES:
        if role not in table:
            if role in ("bureau", "vendor"):
                r.problem(f"parties.{role}", "必填项缺失（单位名称）")
            continue
        party = _party(r, table[role], f"parties.{role}", role, lead=True)
        if party:
            parties.append(party)
    members = table.get("vendor_members", [])
    if not isinstance(members, list):
        r.problem("parties.vendor_members", "须为列表（联合体成员单位）")
        members = []
    for index, member in enumerate(members, start=1):
        party = _party(r, member, f"parties.vendor_members[{index}]", "vendor", lead=False)
        if party:
            parties.append(party)
    names = [p.name for p in parties]
    for name in {n for n in names if names.count(n) > 1}:
        r.problem("parties", f"同一单位“{name}”不得担任两个当事方")
    return parties


def _installments(r: _Reader, rows: Any) -> list[InstallmentDef]:
    if not isinstance(rows, list):
        r.problem("settlement.installments", "须为 [[settlement.installments]] 表的列表")
        return []
    result: list[InstallmentDef] = []
    for index, row in enumerate(rows, start=1):
        dotted = f"settlement.installments[{index}]"
        if not isinstance(row, dict):
            r.problem(dotted, "须为表")
            continue
        for key in row:
            if key not in ("label", "amount", "condition"):
                r.problem(f"{dotted}.{key}", "未知的键（可用：label、amount、condition）")
        label = r.text(row, "label", f"{dotted}.label", required=True, limit=60)
        condition = r.text(row, "condition", f"{dotted}.condition", required=False, limit=200)
        amount = None
        if "amount" in row:
            amount = r.decimal(row["amount"], f"{dotted}.amount")
            if amount is not None and (amount <= 0 or amount != amount.quantize(Decimal("0.01"))):
                r.problem(f"{dotted}.amount", "须为正数，至多两位小数")
                amount = None
        if label:
            result.append(InstallmentDef(index, label, amount, condition))
    return result


def _clauses(r: _Reader, table: dict[str, Any]) -> dict[str, tuple[str, str]]:
    keys = {t.key for t in term_defs()}
    result = {}
    for key, value in table.items():
        dotted = f"clauses.{key}"
        if key not in keys:
            r.problem(dotted, "不是已知的条款项（见 README 的条款项列表）")
            continue
        if isinstance(value, str):
            value = {"clause": value}
        if not isinstance(value, dict):
            r.problem(dotted, '须为 { clause = "…", quote = "…" }')
            continue
        for extra in value:
            if extra not in ("clause", "quote"):
                r.problem(f"{dotted}.{extra}", "未知的键（可用：clause、quote）")
        clause = r.text(value, "clause", f"{dotted}.clause", required=True, limit=60)
        quote = r.text(value, "quote", f"{dotted}.quote", required=False, limit=300)
        if clause:
            result[key] = (clause, quote)
    return result


# --- writing -------------------------------------------------------------------------------


@dataclass
class AppliedContract:
    """What ``apply_definition`` did: the keys of the snapshot that changed, before and after,
    and notes on what the file asked for but was kept as it is (parties matched by role)."""

    contract: Any
    created: bool
    changed: list[str]
    before: dict[str, Any] | None = None
    after: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def changes(self) -> list[tuple[str, Any, Any]]:
        """(key, before, after) of every changed key (before is None for a new contract)."""
        before = self.before or {}
        return [(key, before.get(key), self.after.get(key)) for key in self.changed]


def _validation_problems(exc: ValidationError) -> list[Problem]:
    by_field = {t.field: t for t in term_defs() if t.field}
    problems = []
    for fieldname, messages in exc.message_dict.items():
        term = by_field.get(fieldname)
        if term is not None:
            key = f"{term.section}.{term.key}" if term.section else term.key
        else:
            key = "(合同)" if fieldname == NON_FIELD_ERRORS else fieldname
        problems.extend(Problem(key, str(m)) for m in messages)
    return problems


@transaction.atomic
def apply_definition(
    definition: ContractDefinition, *, actor: Any, action: str | None = None
) -> AppliedContract:
    """Create or update the contract, its parties, installments and clauses (not the catalog).

    Parties are matched by role on an existing contract (an admin may have renamed the
    organisation since): the file's names are used only where a party is missing, and a
    difference is reported as a note. Raises ``ContractFileError`` (nothing saved) when the
    file cannot be applied: a party name that exists as another kind of organisation, an
    installment removed from the file that payments were recorded against.
    """
    values = dict(definition.values)
    values["proration"] = (
        Proration.DAYS_365 if values.get("price_period") == "year" else Proration.DAYS_IN_MONTH
    )
    contract = Contract.objects.select_for_update().filter(code=definition.code).first()
    created = contract is None
    before = None if created else _snapshot(contract)
    if created:
        contract = Contract(code=definition.code)
    values["name"] = definition.name
    dirty = created
    for key, value in values.items():
        if getattr(contract, key) != value:
            setattr(contract, key, value)
            dirty = True
    try:
        contract.full_clean(validate_unique=False)
    except ValidationError as exc:
        raise ContractFileError(definition.path, _validation_problems(exc)) from None
    if dirty:
        contract.save()

    existing = list(contract.parties.select_related("organization"))
    review = {role: i for i, role in enumerate(definition.review_chain, start=1)}
    signoff = {role: i for i, role in enumerate(definition.signoff_order, start=1)}
    # Clear orders first so re-ordering never trips the unique constraints.
    ContractParty.objects.filter(contract=contract).update(review_order=None, signoff_order=None)
    problems: list[Problem] = []
    notes: list[str] = []
    kept: set[int] = set()
    for party in definition.parties:
        match = next(
            (
                p
                for p in existing
                if p.role == party.role
                and (p.is_lead if party.is_lead else p.organization.name == party.name)
            ),
            None,
        )
        if match is not None and party.is_lead and match.organization.name != party.name:
            notes.append(
                f"parties.{party.role}: 文件写的是“{party.name}”，合同现有的是"
                f"“{match.organization.name}”；当事方按角色匹配，保留现有单位"
                "（更换当事方请在管理后台修改）"
            )
        if match is None:
            org = Organization.objects.filter(name=party.name).first()
            if org is None:
                org = Organization.objects.create(
                    name=party.name, kind=party.role, short_name=party.short_name
                )
            elif org.kind != party.role:
                key = f"parties.{party.role}" if party.is_lead else "parties.vendor_members"
                problems.append(
                    Problem(
                        key,
                        f"单位“{party.name}”已存在且类型为“{org.get_kind_display()}”，"
                        f"不能担任{dict(_role_labels())[party.role]}",
                    )
                )
                continue
            match = ContractParty(contract=contract, organization=org, role=party.role)
        match.is_lead = party.is_lead
        match.review_order = review.get(party.role) if party.is_lead else None
        match.signoff_order = signoff.get(party.role) if party.is_lead else None
        match.save()
        kept.add(match.pk)
    if problems:
        raise ContractFileError(definition.path, problems)
    for party in existing:
        if party.pk not in kept:
            notes.append(
                f"parties: 合同现有的{party.get_role_display()}“{party.organization.name}”"
                "未在文件中列出，予以保留，不参与审核和签认"
            )

    for inst in definition.installments:
        Installment.objects.update_or_create(
            contract=contract,
            sequence=inst.sequence,
            defaults={"label": inst.label, "amount": inst.amount, "condition": inst.condition},
        )
    removed = Installment.objects.filter(
        contract=contract, sequence__gt=len(definition.installments)
    )
    try:
        removed.delete()
    except ProtectedError as exc:
        # Payments (billing) point at the installment: refuse, never re-point or lose them.
        paid = {getattr(obj, "installment_id", None) for obj in exc.protected_objects}
        raise ContractFileError(
            definition.path,
            [
                Problem(
                    "settlement.installments",
                    f"第 {inst.sequence} 期“{inst.label}”已登记付款，不能从合同中删除；"
                    "请在文件中保留该期次（可修改名称和付款条件）",
                )
                for inst in removed
                if inst.pk in paid
            ],
        ) from None
    for key, (clause, quote) in definition.clauses.items():
        ContractClause.objects.update_or_create(
            contract=contract, term=key, defaults={"clause": clause, "quote": quote}
        )
    ContractClause.objects.filter(contract=contract).exclude(
        term__in=list(definition.clauses)
    ).delete()

    contract = Contract.objects.prefetch_related("parties", "clauses", "installments").get(
        pk=contract.pk
    )
    after = _snapshot(contract)
    changed = sorted(k for k in after if before is None or before.get(k) != after[k])
    if created or changed:
        audit_log(
            actor=actor,
            action=action or ("contract.create" if created else "contract.update"),
            obj=contract,
            before=before,
            after=after,
            contract=contract,
        )
    return AppliedContract(
        contract=contract,
        created=created,
        changed=changed,
        before=before,
        after=after,
        notes=notes,
    )


def _role_labels() -> list[tuple[str, str]]:

    return [(str(value), str(label)) for value, label in PartyRole.choices]


def _snapshot(contract: Any) -> dict[str, Any]:

    data = {k: json_value(v) for k, v in model_snapshot(contract).items()}
    data.pop("updated_at", None)
    data.pop("created_at", None)
    data["parties"] = sorted(
        f"{p.role}:{p.organization_id}:{p.is_lead}:{p.review_order}:{p.signoff_order}"
        for p in contract.parties.all()
    )
    data["clauses"] = {c.term: [c.clause, c.quote] for c in contract.clauses.all()}
    data["installments"] = [
        [i.sequence, i.label, json_value(i.amount), i.condition]
        for i in contract.installments.all()
    ]
    return data


# --- a contract as file contents ---------------------------------------------------------------


def contract_data(contract: Any) -> dict[str, Any]:
    """The contract as the parsed contents of a ``contract.toml`` (what ``tomllib`` gives).

    Onboarding by copying a contract's terms feeds this, with the new code, name and dates,
    through ``read_contract_data``: the copy is validated exactly like a file.
    """

    data: dict[str, Any] = {
        "code": contract.code,
        "name": contract.name,
        "service_start": contract.service_start,
        "service_end": contract.service_end,
        "billing_from": contract.billing_from,
        "catalog": "catalog.csv",
    }
    if contract.procurement_no:
        data["procurement_no"] = contract.procurement_no
    if contract.estimated_amount is not None:
        data["estimated_amount"] = str(contract.estimated_amount)
    if contract.notes:
        data["notes"] = contract.notes
    parties: dict[str, Any] = {}
    members: list[dict[str, str]] = []
    for party in sorted(contract.parties.all(), key=lambda p: (p.role, p.pk)):
        entry = {"name": party.organization.name}
        if party.organization.short_name:
            entry["short_name"] = party.organization.short_name
        if party.is_lead and party.role not in parties:
            parties[party.role] = entry
        elif party.role == PartyRole.VENDOR:
            members.append(entry)
    if members:
        parties["vendor_members"] = members
    data["parties"] = parties
    data["workflow"] = {
        "review_chain": party_roles_in(contract, "review_order"),
        "signoff_order": party_roles_in(contract, "signoff_order"),
    }
    sections: dict[str, dict[str, Any]] = {"billing": {}, "settlement": {}, "terms": {}}
    for term in term_defs():
        if not term.field or term.section not in sections:
            continue
        value = term_value(contract, term)
        if value is None:
            continue  # the contract sets no such rule: the key is left out
        sections[term.section][term.key] = str(value) if term.kind == "decimal" else value
    sections["settlement"]["installments"] = [
        {
            "label": i.label,
            **({"condition": i.condition} if i.condition else {}),
            **({"amount": str(i.amount)} if i.amount is not None else {}),
        }
        for i in contract.installments.all()
    ]
    data.update(sections)
    data["clauses"] = {
        c.term: {"clause": c.clause, **({"quote": c.quote} if c.quote else {})}
        for c in contract.clauses.all()
    }
    return data
