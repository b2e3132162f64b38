"""Scoped reads of statements, department bills and settlement; every page and endpoint uses them.

Who sees what (DESIGN §1, §4):

* the contract's parties — bureau, vendor, supervisor, auditor staff — see every statement
  version of their contracts, with all lines, sign-offs, comments and department bills;
* a department user sees only its own department's bills (``DepartmentBill``) and, through a
  bill, its own lines of the signed statement — never a statement itself;
* the three administrators of the bureau (security, audit, system admin) see nothing of billing
  here (三员分立: they administer, they do no contract business); they read statements in the
  read-only admin like before. Querysets are simply empty for them, so every object page is 404;
* the test periods of new systems are the bureau's to manage: only the bureau staff of the
  contract see them (every other user, the contract's other parties included, gets 404).

Foreign and missing objects are both 404 (``get_or_404``), so existence never leaks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, Min, OuterRef, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from billing.models import (
    Deduction,
    DepartmentBill,
    DocumentKind,
    InventoryCorrection,
    Invoice,
    Resource,
    SignoffAction,
    Statement,
    StatementDocument,
    StatementLine,
    StatementStatus,
    SystemTestPeriod,
)
from billing.money import quantize_yuan
from govcloud.access import is_business_staff
from govcloud.exceptions import InvalidTransition
from govcloud.models import Contract, ContractParty, OrganizationKind, PartyRole, User
from govcloud.selectors import contract_ids_for_user, contract_list_for_user, get_or_404

PARTY_KINDS = frozenset(
    {
        OrganizationKind.BUREAU,
        OrganizationKind.VENDOR,
        OrganizationKind.SUPERVISOR,
        OrganizationKind.AUDITOR,
    }
)


# ---------------------------------------------------------------------------- who is asking


def _business(user: Any) -> bool:
    """Active staff with an organisation (the three administrators do no business)."""
    return is_business_staff(user) and user.organization_id is not None


def sees_statements(user: Any) -> bool:
    """Party staff (bureau, vendor, supervisor, auditor) read statements; superusers too."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    return _business(user) and user.kind in PARTY_KINDS


def sees_bills(user: Any) -> bool:
    if sees_statements(user):
        return True
    return _business(user) and user.kind == OrganizationKind.DEPARTMENT


# ------------------------------------------------------------------------------- statements


def statement_list_for_user(*, user: User) -> QuerySet[Statement]:
    qs = Statement.objects.select_related("contract")
    if not sees_statements(user):
        return qs.none()
    if user.is_superuser:
        return qs.all()
    return qs.filter(contract_id__in=contract_ids_for_user(user))


def statement_get_for_user(*, user: User, pk: object) -> Statement:
    return get_or_404(
        statement_list_for_user(user=user).select_related(
            "generated_by", "submitted_by", "supersedes"
        ),
        pk=pk,
    )


def month_versions(statement: Statement) -> QuerySet[Statement]:
    """Every version of the statement's contract and month, oldest first."""
    return Statement.objects.filter(
        contract_id=statement.contract_id, year=statement.year, month=statement.month
    ).order_by("version")


#: Whatever step was attempted, the reason a signed version refuses it is the same.
FROZEN_MESSAGE = _("该统计表已签认，内容不能再修改（如需更正，请乙方出具更正版本）。")


def explain_refusal(statement: Statement, exc: InvalidTransition) -> InvalidTransition:
    """The service's refusal of a step on a signed version, prefixed with why, for people."""
    if not statement.is_frozen:
        return exc
    return InvalidTransition(f"{FROZEN_MESSAGE}{exc.message}", exc.extra)


def statement_document(statement: Statement) -> StatementDocument | None:
    return (
        StatementDocument.objects.filter(statement=statement, kind=DocumentKind.STATEMENT)
        .exclude(file="")
        .first()
    )


# ------------------------------------------------------------------------------------ bills


def bill_list_for_user(*, user: User) -> QuerySet[DepartmentBill]:
    qs = DepartmentBill.objects.select_related("statement__contract", "department")
    if not sees_bills(user):
        return qs.none()
    if user.is_superuser:
        return qs.all()
    if user.kind == OrganizationKind.DEPARTMENT:
        return qs.filter(department_id=user.organization_id)
    return qs.filter(statement__contract_id__in=contract_ids_for_user(user))


def bill_get_for_user(*, user: User, pk: object) -> DepartmentBill:
    return get_or_404(bill_list_for_user(user=user), pk=pk)


def bill_lines(bill: DepartmentBill) -> QuerySet[StatementLine]:
    return StatementLine.objects.filter(
        statement_id=bill.statement_id, department_id=bill.department_id
    ).order_by("position")


def bill_document(bill: DepartmentBill) -> StatementDocument | None:
    return (
        StatementDocument.objects.filter(
            statement_id=bill.statement_id,
            kind=DocumentKind.DEPARTMENT_BILL,
            department_id=bill.department_id,
        )
        .exclude(file="")
        .first()
    )


# -------------------------------------------------------------------------------- contracts


def dashboard_contract_for_user(*, user: User, pk: object) -> Contract:
    """A contract whose billing dashboard the user may open (any of its parties' staff).

    A department user does see the contract itself but not its money: the view answers 403.
    """
    if not sees_bills(user):
        return get_or_404(Contract.objects.none(), pk=pk)
    return get_or_404(contract_list_for_user(user=user), pk=pk)


# ------------------------------------------------------------------------- subtotals


@dataclass
class SystemTotal:
    system_id: int
    system: str
    subtotal: Decimal
    lines: int


@dataclass
class DepartmentTotal:
    department_id: int
    department: str
    subtotal: Decimal = Decimal("0")
    lines: int = 0
    systems: list[SystemTotal] = field(default_factory=list)


def subtotals(lines: QuerySet[StatementLine]) -> list[DepartmentTotal]:
    """Subtotals by department and business system, in the statement's order (one query).

    Sums of the rounded lines, before the discount — the way the documents show them.
    """
    rows = (
        lines.order_by()
        .values("department_id", "department_name", "system_id", "system_name")
        .annotate(subtotal=Sum("amount"), n=Count("id"), first=Min("position"))
        .order_by("first")
    )
    departments: dict[int, DepartmentTotal] = {}
    for row in rows:
        # SQLite sums in floating point (e.g. 107637.4800000000): every line is whole fen, so
        # rounding the sum to the fen gives the exact Decimal total back.
        amount = quantize_yuan(row["subtotal"])
        dept = departments.setdefault(
            row["department_id"],
            DepartmentTotal(department_id=row["department_id"], department=row["department_name"]),
        )
        dept.subtotal += amount
        dept.lines += row["n"]
        dept.systems.append(
            SystemTotal(
                system_id=row["system_id"],
                system=row["system_name"],
                subtotal=amount,
                lines=row["n"],
            )
        )
    return list(departments.values())


# ------------------------------------------------------------------------- sign-off state


@dataclass
class SignoffStep:
    """One required party in the sign-off order, and where it stands on this version."""

    party: ContractParty
    state: str  # "done", "determined", "disputed", "next", "pending"
    by: Any = None
    at: datetime | None = None
    method: str = ""
    comment: str = ""


def signoff_places(signoffs: Iterable[Any]) -> tuple[dict[int, Any], dict[int, Any]]:
    """``(filled, disputed)``: party id → the sign-off that fills its place (its confirmation,
    or an auditor's determination on its behalf), or that disputes. The services' rule too."""
    done: dict[int, Any] = {}
    disputed: dict[int, Any] = {}
    for signoff in signoffs:
        if signoff.action == SignoffAction.CONFIRM:
            done[signoff.party_id] = signoff
        elif signoff.action == SignoffAction.DETERMINE:
            done[signoff.on_behalf_of_id] = signoff
        elif signoff.action == SignoffAction.DISPUTE:
            disputed[signoff.party_id] = signoff
    return done, disputed


def signoff_steps(statement: Statement, signoffs: list[Any]) -> list[SignoffStep]:
    """Every sign-off party in ``contract.signoff_parties`` order, with who confirmed when and
    who is next: the vendor's submission is its confirmation, the others confirm in order
    (``signoff_places`` says whose place is filled, for the services as well).
    """
    parties = statement.contract.signoff_parties
    done, disputed = signoff_places(signoffs)
    steps: list[SignoffStep] = []
    next_found = False
    for party in parties:
        signoff = done.get(party.pk) or disputed.get(party.pk)
        if party.pk in done:
            state = "determined" if signoff.action == SignoffAction.DETERMINE else "done"
        elif party.pk in disputed:
            state = "disputed"
        elif not next_found and _is_next(statement, party):
            state, next_found = "next", True
        else:
            state = "pending"
        steps.append(
            SignoffStep(
                party=party,
                state=state,
                by=signoff.user if signoff else None,
                at=signoff.at if signoff else None,
                method=signoff.get_reauth_method_display() if signoff else "",
                comment=signoff.comment if signoff else "",
            )
        )
    return steps


def _is_next(statement: Statement, party: ContractParty) -> bool:
    if statement.status == StatementStatus.DRAFT:
        return party.role == PartyRole.VENDOR
    return statement.status == StatementStatus.SUBMITTED and party.role != PartyRole.VENDOR


def next_party(steps: list[SignoffStep]) -> ContractParty | None:
    return next((s.party for s in steps if s.state == "next"), None)


def answered_by_newer_version() -> Exists:
    """A later version of the same contract-month exists: the dispute was answered."""
    return Exists(
        Statement.objects.filter(
            contract=OuterRef("contract"),
            year=OuterRef("year"),
            month=OuterRef("month"),
            version__gt=OuterRef("version"),
        )
    )


def statements_awaiting(*, user: User) -> list[Statement]:
    """Submitted statements whose next sign-off is the user's organisation (home card)."""
    if not sees_statements(user) or user.kind == OrganizationKind.VENDOR:
        return []
    candidates = (
        statement_list_for_user(user=user)
        .filter(
            status=StatementStatus.SUBMITTED,
            contract__parties__organization_id=user.organization_id,
            contract__parties__signoff_order__isnull=False,
        )
        .prefetch_related("contract__parties", "signoffs")
    )
    awaiting = []
    for statement in candidates:
        steps = signoff_steps(statement, list(statement.signoffs.all()))
        party = next_party(steps)
        if party is not None and party.organization_id == user.organization_id:
            awaiting.append(statement)
    return awaiting


# ------------------------------------------------------------------------------- the diff


@dataclass
class LineChange:
    key: tuple[int, int]
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    fields: list[str] = field(default_factory=list)

    @property
    def line(self) -> dict[str, Any]:
        return self.new or self.old or {}

    @property
    def amount_delta(self) -> Decimal:
        old = self.old["amount"] if self.old else Decimal("0")
        new = self.new["amount"] if self.new else Decimal("0")
        return new - old


@dataclass
class StatementDiff:
    old: Statement
    new: Statement
    added: list[LineChange]
    removed: list[LineChange]
    changed: list[LineChange]
    unchanged: int
    old_lines: int
    new_lines: int

    @property
    def subtotal_delta(self) -> Decimal:
        return self.new.subtotal - self.old.subtotal

    @property
    def total_delta(self) -> Decimal:
        return self.new.total - self.old.total

    @property
    def vat_delta(self) -> Decimal:
        return self.new.vat - self.old.vat

    @property
    def lines_delta(self) -> int:
        return self.new_lines - self.old_lines


DIFF_FIELDS = (
    "item_code",
    "quantity",
    "unit_price",
    "service_days",
    "segment_start",
    "segment_end",
    "amount",
)
_DIFF_VALUES = (
    "resource_id",
    "position",
    "department_name",
    "system_name",
    "item_name",
    "unit",
    *DIFF_FIELDS,
)


def _keyed_lines(statement: Statement) -> dict[tuple[int, int], dict[str, Any]]:
    """Lines keyed by (resource, n-th billing segment of that resource in the month).

    The segment's ordinal rather than its start: a corrected online date then reads as a
    changed line (start, days, amount) instead of one line removed and another added.
    """
    keyed: dict[tuple[int, int], dict[str, Any]] = {}
    seen: dict[int, int] = defaultdict(int)
    rows = (
        StatementLine.objects.filter(statement=statement)
        .order_by("resource_id", "segment_start", "position")
        .values(*_DIFF_VALUES)
    )
    for row in rows:
        seen[row["resource_id"]] += 1
        keyed[(row["resource_id"], seen[row["resource_id"]])] = row
    return keyed


def statement_diff(old: Statement, new: Statement) -> StatementDiff:
    """Lines added, removed and changed between two versions of a month (two queries)."""
    before, after = _keyed_lines(old), _keyed_lines(new)
    added = [LineChange(key, None, after[key]) for key in after.keys() - before.keys()]
    removed = [LineChange(key, before[key], None) for key in before.keys() - after.keys()]
    changed: list[LineChange] = []
    unchanged = 0
    for key in before.keys() & after.keys():
        fields = [f for f in DIFF_FIELDS if before[key][f] != after[key][f]]
        if fields:
            changed.append(LineChange(key, before[key], after[key], fields))
        else:
            unchanged += 1

    def order(change: LineChange) -> tuple[int, int]:
        return (change.line["position"], change.key[1])

    return StatementDiff(
        old=old,
        new=new,
        added=sorted(added, key=order),
        removed=sorted(removed, key=order),
        changed=sorted(changed, key=order),
        unchanged=unchanged,
        old_lines=len(before),
        new_lines=len(after),
    )


# ----------------------------------------------------------------------------- test periods


def system_test_period_contract_ids(user: User) -> list[int]:
    """Contracts whose test periods ``user`` manages: those where its organisation is the
    bureau (business staff only)."""
    if not _business(user):
        return []
    return list(
        ContractParty.objects.filter(
            organization_id=user.organization_id,
            role=PartyRole.BUREAU,
            contract_id__in=contract_ids_for_user(user),
        ).values_list("contract_id", flat=True)
    )


def system_test_period_contract_for_user(*, user: User, pk: object) -> Contract:
    """The contract whose test periods the page lists: its bureau's staff only, else 404."""
    return get_or_404(
        Contract.objects.filter(pk__in=system_test_period_contract_ids(user)).prefetch_related(
            "parties__organization", "clauses"
        ),
        pk=pk,
    )


def system_test_period_list_for_user(*, user: User) -> QuerySet[SystemTestPeriod]:
    return SystemTestPeriod.objects.filter(
        contract_id__in=system_test_period_contract_ids(user)
    ).select_related("contract", "system__department", "changed_by")


def system_test_period_get_for_user(*, user: User, pk: object) -> SystemTestPeriod:
    return get_or_404(system_test_period_list_for_user(user=user), pk=pk)


# ---------------------------------------------------------------- deductions and invoices


def settlement_contract_ids(user: User) -> Any:
    """Contracts whose settlement the user works on: a party's staff (never a department)."""
    if not sees_statements(user):
        return Contract.objects.none().values("pk")
    return contract_ids_for_user(user)


def deduction_get_for_user(*, user: User, pk: object) -> Deduction:
    return get_or_404(
        Deduction.objects.select_related("contract").filter(
            contract_id__in=settlement_contract_ids(user)
        ),
        pk=pk,
    )


def invoice_get_for_user(*, user: User, pk: object) -> Invoice:
    return get_or_404(
        Invoice.objects.select_related("contract", "installment").filter(
            contract_id__in=settlement_contract_ids(user)
        ),
        pk=pk,
    )


# ---------------------------------------------------------------- inventory corrections


def correction_contract_ids(user: User) -> Any:
    """Contracts whose inventory corrections the user reads: the parties' staff (bureau,
    vendor, supervisor, auditor); never a department, nor the three administrators."""
    return settlement_contract_ids(user)


def correction_contract_for_user(*, user: User, pk: object) -> Contract:
    return get_or_404(
        Contract.objects.filter(pk__in=correction_contract_ids(user)).prefetch_related(
            "parties__organization", "clauses"
        ),
        pk=pk,
    )


def correction_list_for_user(*, user: User) -> QuerySet[InventoryCorrection]:
    return InventoryCorrection.objects.filter(
        contract_id__in=correction_contract_ids(user)
    ).select_related(
        "contract",
        "resource__catalog_item",
        "resource__department",
        "resource__system",
        "proposed_by__organization",
    )


def correction_get_for_user(*, user: User, pk: object) -> InventoryCorrection:
    return get_or_404(correction_list_for_user(user=user), pk=pk)


def correction_resource_for_user(*, user: User, pk: object) -> Resource:
    """A resource whose correction the user may look at proposing (its contract's parties)."""
    return get_or_404(
        Resource.objects.filter(contract_id__in=correction_contract_ids(user)).select_related(
            "contract", "catalog_item", "department", "system"
        ),
        pk=pk,
    )
