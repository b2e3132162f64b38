"""The monthly statement workflow (月度服务资源统计表, DESIGN §4): generate, submit, confirm or
dispute, escalate, decide, sign, supersede.

Every function here is the only way its step happens — the portal, the API, the admin and
Celery all call it. Who may do what on a version now is ``statement_available_actions`` (one
``govcloud.workflow.ActionRules``): each service locks the statement and ``require``s its
action there (the actor's party and role, the state — ``TRANSITIONS`` via
``govcloud.workflow.check_transition``), then audits and notifies after commit. Pages,
templates and the API only read the same rules, so they never offer what would be refused.

Decisions the design left open, with the contract text they rest on:

* **The vendor's submission is its confirmation.** It is recorded as the vendor's
  ``StatementSignoff`` (re-authenticated like every other), so the sign-off table and the PDF
  show every party. The other sign-off parties (``contract.signoff_parties`` without the
  vendor) then confirm **in their sign-off order** (包头: bureau, then supervisor — "由甲乙双方
  会同第三方监理共同确认并签字盖章"), so the PDF's signatures are applied in a fixed order.
  Any of them that has not confirmed yet may dispute at any time.
* **Disputes and versions.** A dispute sends the version back to the vendor (``disputed``);
  the vendor answers with a new version computed from the (corrected) inventory, and the
  disputed one stays readable and unchanged. A draft has no legal weight and is recomputed in
  place when the vendor generates again.
* **Escalation** is the contract's term ``dispute_escalation_working_days`` (包头 §7.1.1: "如争
  议超过3个工作日，由监理方委托第三方审计机构确定"). A dispute is open while the disputed
  version is the month's latest (the vendor has not answered with a new version). When a
  dispute follows straight on from a dispute of the previous version, the clock keeps running
  from the first one, so re-issuing unchanged figures cannot keep a disagreement from the
  auditor. Once more than N working days have passed (``working_days_between(dispute day,
  today) > N``, the dispute day not counted), the daily task escalates it to the auditor party.
  A contract that sets no such term (焦作: disputes are settled by negotiation, §十三.1), or has
  no auditor party, is never escalated.
* **The auditor's decision closes it** ("确定"): *uphold_vendor* — the vendor's figures stand;
  the auditor's determination is recorded as a sign-off in place of the disputing party's
  confirmation (``action=determine``, ``on_behalf_of``), and the version continues to
  sign-off (or is signed when nobody else is pending). *uphold_dispute* — the dispute stands;
  the version stays disputed for good and the vendor issues a corrected version.
* **Signatures are the parties' own.** The version's PDF is rendered when it is generated
  (``billing.statement_pdf_render`` after commit); each sign-off that puts a party's name to
  it — the submission, a confirmation, the auditor's ruling for the vendor — needs, besides the
  re-authentication, the passphrase of the signer's organisation's signing key
  (``reauth.signing_key_open``, before the transaction: a wrong one is audited, 403) and
  appends that signature to the PDF inside the same transaction, as its last step
  (``billing.reports.signing.statement_document_sign``). No PDF yet → refused ("统计表 PDF
  正在生成，请稍后再签认"), nothing changed; the PDF cannot take the signature → the whole
  sign-off rolls back. The auditor's ruling is signed with the *auditor's* key into the
  disputing party's field: the disputing party's own key is never used without its passphrase.
* **Signed** when every sign-off party has confirmed (or been determined for). The version is
  then immutable (model guards too), its department bills are created (largest remainder,
  ``billing.allocation``), and ``billing.signals.statement_signed`` is sent inside the signing
  transaction (its receivers record the document jobs).
* **Corrections** of a signed statement are a new version that ``supersedes`` it, with a
  reason. The signed version stays valid until the correction is itself signed; only then is
  it marked ``superseded`` (settlement always counts exactly one signed version per month).
* **Due date** = the N-th working day of the next month, N the contract's term
  ``statement_due_working_day`` (包头 5.1.5 "乙方应于每月前5个工作日内…提交"); computed on
  weekends only and flagged provisional when that year's calendar is missing. A contract that
  sets no due day (焦作) has none: its statements are never late. A month's lateness is decided
  by its first submission (later versions answer disputes).
* **Signals for the deliverable rule** (包头 附件3 二(二)): every vendor submission sends
  ``billing.signals.statement_submitted`` (with the due day and the month's lateness), and a
  dispute that turns out right — the vendor answers it with changed figures, or the auditor
  upholds it — sends ``statement_found_wrong`` for the wrong version; both after commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Exists, Min, OuterRef, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from billing import notifications, pricing
from billing.allocation import split_statement
from billing.models import (
    TRANSITIONS,
    DepartmentBill,
    DisputeComment,
    DisputeEscalation,
    DocumentKind,
    EscalationDecision,
    InventoryCorrection,
    InventoryCorrectionStatus,
    SignoffAction,
    Statement,
    StatementDocument,
    StatementLine,
    StatementSignoff,
    StatementStatus,
)
from billing.reports import signing as documents
from billing.selectors import signoff_places
from billing.services.engine import (
    ComputedLine,
    ComputedStatement,
    StatementStream,
    StatementSummary,
    compute_statement,
    month_billing_bounds,
)
from billing.services.reauth import (
    OpenedKey,
    Reauth,
    SigningSecret,
    reauth_verify,
    signing_key_open,
)
from billing.signals import (
    statement_found_wrong,
    statement_signed,
    statement_signoff_recorded,
    statement_submitted,
    statement_version_ready,
)
from govcloud.access import party_role_of, require_staff
from govcloud.audit import audit_log, snapshot
from govcloud.dates import business_date, month_label, previous_month, shift_month
from govcloud.exceptions import ActionForbidden, ApplicationError, InvalidTransition
from govcloud.models import Contract, ContractParty, ContractStatus, PartyRole, User
from govcloud.pdf.signing import SigningError
from govcloud.workdays import CalendarYearMissing, nth_working_day_of_month, working_days_between
from govcloud.workflow import ActionRules, check_transition

__all__ = [
    "ComputedLine",
    "ComputedStatement",
    "DocumentNotReady",
    "Reauth",
    "SigningFailed",
    "SigningSecret",
    "compute_statement",
    "statement_available_actions",
    "statement_check_due",
    "statement_comment",
    "statement_confirm",
    "statement_decide_escalation",
    "statement_dispute",
    "statement_due_date",
    "statement_escalate_overdue_disputes",
    "statement_generate",
    "statement_may_generate",
    "statement_reissue_for_correction",
    "statement_submit",
    "statement_supersede",
]

AUDIT_FIELDS = (
    "status",
    "version",
    "subtotal",
    "total",
    "vat",
    "submitted_at",
    "disputed_at",
    "dispute_opened_at",
    "signed_at",
    "superseded_at",
)
_LABELS = dict(StatementStatus.choices)
#: Lines written per round trip (one COPY on PostgreSQL, one INSERT … VALUES executemany
#: elsewhere): all a generation holds of its lines at a time.
_LINE_BATCH = 5000
#: A line's columns in the order the generation writes them (``_line_row``).
_LINE_FIELDS = (
    "statement_id",
    "position",
    "department_id",
    "department_name",
    "system_id",
    "system_name",
    "catalog_item_id",
    "item_code",
    "item_name",
    "unit",
    "resource_id",
    "quantity",
    "unit_price",
    "price_period",
    "divisor",
    "service_days",
    "amount",
    "segment_start",
    "segment_end",
)


# ---------------------------------------------------------------------------------- helpers


def statement_due_date(contract: Contract, year: int, month: int) -> tuple[date | None, bool]:
    """(due date, provisional): the N-th working day of the month after ``year``-``month``,
    N the contract's ``statement_due_working_day``; (None, False) where it sets none."""
    working_day = contract.statement_due_working_day
    if working_day is None:
        return None, False
    following = shift_month(date(year, month, 1), 1)
    try:
        return nth_working_day_of_month(following.year, following.month, working_day), False
    except CalendarYearMissing:
        due = nth_working_day_of_month(
            following.year, following.month, working_day, provisional=True
        )
        return due, True


def submitted_late(due: date | None, at: datetime) -> bool:
    """Whether a submission at ``at`` comes after the due day (never, without one)."""
    return due is not None and business_date(at) > due


def _set_status(statement: Statement, target: str) -> None:
    check_transition(TRANSITIONS, current=statement.status, target=target, labels=_LABELS)
    statement.status = target


def _audit(
    actor: Any, action: str, statement: Statement, before: dict[str, Any] | None, **extra: Any
) -> None:
    after = snapshot(statement, AUDIT_FIELDS)
    after.update(extra)
    audit_log(
        actor=actor,
        action=action,
        obj=statement,
        before=before,
        after=after,
        contract=statement.contract,
    )


def _lock(statement: Statement) -> tuple[Statement, dict[str, Any]]:
    locked = (
        Statement.objects.select_for_update(of=("self",))
        .select_related("contract", "supersedes")
        .get(pk=statement.pk)
    )
    return locked, snapshot(locked, AUDIT_FIELDS)


def signoff_parties(contract: Contract) -> list[ContractParty]:
    """The parties whose confirmation signs a statement, in sign-off order (vendor included)."""
    parties = contract.signoff_parties
    if not parties:
        raise ApplicationError(_("合同未配置统计表签认方。"))
    return parties


def _vendor_party(contract: Contract) -> ContractParty:
    """The vendor that signs statements (the consortium lead when there are several)."""
    for party in signoff_parties(contract):
        if party.role == PartyRole.VENDOR:
            return party
    raise ApplicationError(_("合同的签认方中没有乙方。"))


def _require_vendor(actor: Any, contract: Contract) -> ContractParty:
    require_staff(actor)
    party = _vendor_party(contract)
    if party.organization_id != actor.organization_id:
        raise ActionForbidden(_("只有本合同签认统计表的乙方可以办理此操作。"))
    return party


def _require_other_signer(actor: Any, contract: Contract) -> ContractParty:
    require_staff(actor)
    for party in signoff_parties(contract):
        if party.organization_id == actor.organization_id and party.role != PartyRole.VENDOR:
            return party
    raise ActionForbidden(_("您的单位不是本合同统计表的签认方。"))


def _auditor_party(contract: Contract) -> ContractParty | None:
    parties = contract.parties_with_role(PartyRole.AUDITOR)
    return parties[0] if parties else None


def _require_auditor(actor: Any, contract: Contract) -> ContractParty:
    require_staff(actor)
    auditor = _auditor_party(contract)
    if auditor is None or auditor.organization_id != actor.organization_id:
        raise ActionForbidden(_("只有本合同的第三方审计单位可以出具争议结论。"))
    return auditor


def _pending(statement: Statement) -> list[ContractParty]:
    """The sign-off parties whose place is not filled yet, in sign-off order."""
    signoffs = statement.signoffs.only("party_id", "on_behalf_of_id", "action")
    done, _disputed = signoff_places(signoffs)
    return [p for p in signoff_parties(statement.contract) if p.pk not in done]


def _month_versions(contract: Contract, year: int, month: int) -> QuerySet[Statement]:
    return Statement.objects.filter(contract=contract, year=year, month=month)


def _line_row(statement_id: int, position: int, line: ComputedLine) -> tuple[Any, ...]:
    """A line's values in ``_LINE_FIELDS`` order."""
    return (
        statement_id,
        position,
        line.department_id,
        line.department,
        line.system_id,
        line.system,
        line.item_id,
        line.item_code,
        line.item_name,
        line.unit,
        line.resource_id,
        line.quantity,
        line.unit_price,
        line.price_period,
        line.divisor,
        line.service_days,
        line.amount,
        line.segment_start,
        line.segment_end,
    )


def _fill(statement: Statement, summary: StatementSummary) -> None:
    """A draft's figures from the engine's summary (the lines are ``_write_lines``)."""
    statement.discount = summary.discount
    statement.discount_applies_to = summary.discount_applies_to
    statement.vat_rate = summary.vat_rate
    statement.subtotal = summary.subtotal
    statement.total = summary.total
    statement.vat = summary.vat


_FIGURES = ("discount", "discount_applies_to", "vat_rate", "subtotal", "total", "vat")


def _save_figures(statement: Statement, summary: StatementSummary) -> None:
    """A new version's figures, once its lines are written."""
    _fill(statement, summary)
    statement.full_clean(validate_unique=False)
    statement.save(update_fields=list(_FIGURES))


def _line_columns() -> list[str] | None:
    """The table columns of ``_LINE_FIELDS``, or None when the model has other columns too
    (then only the ORM knows how to fill them)."""
    columns = {
        f.attname: f.column for f in StatementLine._meta.concrete_fields if not f.primary_key
    }
    if set(columns) != set(_LINE_FIELDS):
        return None
    return [columns[name] for name in _LINE_FIELDS]


def _write_lines(statement: Statement, lines: Iterable[ComputedLine]) -> int:
    """Save a draft's lines, numbered from 1, as they come from the engine, ``_LINE_BATCH``
    at a time; returns how many.

    The ORM's ``bulk_create`` prepares every value of every object in Python, which costs
    several times the engine at 200,000 lines, so the rows go straight to the table: a COPY
    per batch on PostgreSQL, ``executemany`` of one INSERT elsewhere, with values adapted by
    the backend exactly as the fields would (datetimes and decimals; the rest are ints and
    strings). The caller holds the draft's lock; lines are written only to a draft, as the
    model's own guard (``StatementLineQuerySet``) requires.
    """
    if statement.status != StatementStatus.DRAFT:
        raise InvalidTransition(_("统计表已提交或已签认，明细不能再修改。"))
    columns = _line_columns()
    batch: list[tuple[Any, ...]] = []
    flush = _batch_writer(columns)
    position = 0
    for position, line in enumerate(lines, start=1):
        batch.append(_line_row(statement.pk, position, line))
        if len(batch) >= _LINE_BATCH:
            flush(batch)
            batch.clear()
    if batch:
        flush(batch)
    return position


def _batch_writer(columns: list[str] | None) -> Callable[[list[tuple[Any, ...]]], None]:
    if columns is None:  # a column this module does not know: let the ORM fill it

        def orm(batch: list[tuple[Any, ...]]) -> None:
            StatementLine.objects.bulk_create(
                StatementLine(**dict(zip(_LINE_FIELDS, row, strict=True))) for row in batch
            )

        return orm
    qn = connection.ops.quote_name
    table = qn(StatementLine._meta.db_table)
    names = ", ".join(qn(c) for c in columns)
    if connection.vendor == "postgresql":
        copy_sql = f"COPY {table} ({names}) FROM STDIN"

        def copy(batch: list[tuple[Any, ...]]) -> None:
            # One COPY per batch: the engine's server-side cursors read on this connection
            # between batches, which they could not do while a COPY is in progress.
            with connection.cursor() as cursor, cursor.copy(copy_sql) as stream:
                for row in batch:
                    stream.write_row(row)

        return copy
    # Names from the model's meta, quoted; the values are parameters.
    placeholders = ", ".join(["%s"] * len(columns))
    insert_sql = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"  # noqa: S608
    ops = connection.ops
    at = {name: index for index, name in enumerate(_LINE_FIELDS)}
    moments = (at["segment_start"], at["segment_end"])
    decimals = (
        (at["unit_price"], StatementLine._meta.get_field("unit_price")),
        (at["service_days"], StatementLine._meta.get_field("service_days")),
        (at["amount"], StatementLine._meta.get_field("amount")),
    )
    # A month's lines share a handful of segment bounds: each is adapted once.
    adapted: dict[datetime, Any] = {}

    def moment(value: datetime) -> Any:
        result = adapted.get(value)
        if result is None:
            result = adapted[value] = ops.adapt_datetimefield_value(value)
        return result

    def insert(batch: list[tuple[Any, ...]]) -> None:
        rows = []
        for row in batch:
            values = list(row)
            for index in moments:
                values[index] = moment(values[index])
            for index, field in decimals:
                values[index] = ops.adapt_decimalfield_value(
                    values[index], field.max_digits, field.decimal_places
                )
            rows.append(values)
        with connection.cursor() as cursor:
            cursor.executemany(insert_sql, rows)

    return insert


def _check_month(contract: Contract, year: int, month: int, now: datetime) -> None:
    """The month must be over and overlap the contract's billing window."""
    try:
        _first, last = pricing.month_bounds(year, month)
    except ValueError:
        raise ApplicationError(_("统计月份无效。")) from None
    lower, upper = month_billing_bounds(contract, year, month)
    if upper <= lower:
        raise ApplicationError(_("该月份不在合同计费期内。"))
    if now < pricing.local_midnight(last + timedelta(days=1)):
        raise ApplicationError(_("该月份尚未结束，不能出具统计表。"))


def _after_commit(fn: Callable[..., Any], *args: Any) -> None:
    transaction.on_commit(lambda: fn(*args))


# ---------------------------------------------------------------------- the version's PDF


class DocumentNotReady(InvalidTransition):
    """The version's PDF is not rendered yet: nobody can sign it; nothing was changed."""


class SigningFailed(ApplicationError):
    """The PDF could not take the signature; the sign-off was rolled back."""

    status_code = 409


def _render_after_commit(statement: Statement) -> None:
    """Have the version's PDF rendered once the generating transaction commits: the document
    receivers (``billing.reports.receivers``) record the render job inside this transaction,
    and it is enqueued after commit (``govcloud.jobs``)."""
    statement_version_ready.send(sender=Statement, statement=statement)


def _not_ready() -> DocumentNotReady:
    return DocumentNotReady(_("统计表 PDF 正在生成，请稍后再签认。"))


def _require_document(statement: Statement) -> None:
    """Refuse before anything else is asked for when the PDF is not there yet."""
    rendered = StatementDocument.objects.filter(
        statement=statement, kind=DocumentKind.STATEMENT
    ).exclude(file="")
    if not rendered.exists():
        raise _not_ready()


def _precheck(action: str, actor: User, statement: Statement) -> None:
    """The action's rules and the PDF, read without a lock, before the signing key is opened
    (the locked check in the transaction is the gate)."""
    fresh = Statement.objects.select_related("contract").get(pk=statement.pk)
    STATEMENT_ACTIONS.require(action, actor, fresh)
    _require_document(fresh)


def _sign_document(
    statement: Statement, signoff: StatementSignoff, opened: OpenedKey, document: Any
) -> None:
    """Append the sign-off's signature to the locked PDF: the transaction's last step."""
    if opened.organization_id != signoff.party.organization_id:
        raise ActionForbidden(_("签名密钥不属于签认方单位。"))
    try:
        documents.statement_document_sign(
            document=document, statement=statement, signoff=signoff, signer=opened.signer
        )
    except (SigningError, ValueError) as exc:
        raise SigningFailed(
            _("无法在统计表 PDF 上加盖签名（%(e)s），本次签认未生效。") % {"e": exc}
        ) from exc


# ------------------------------------------------------------------ what may be done now


def _has_newer_version(statement: Statement) -> bool:
    return (
        _month_versions(statement.contract, statement.year, statement.month)
        .filter(version__gt=statement.version)
        .exists()
    )


def _not_regenerable(statement: Statement) -> InvalidTransition:
    messages: dict[str, str] = {
        StatementStatus.SUBMITTED: _("该月统计表已提交，正在签认中。"),
        StatementStatus.ESCALATED: _("该月统计表的争议已提交审计，请等待审计结论。"),
        StatementStatus.SIGNED: _("该月统计表已签认，如需更正请出具更正版本。"),
    }
    return InvalidTransition(
        messages.get(statement.status, _("该月统计表当前不能重新生成。")),
        extra={"status": statement.status},
    )


def _require_awaiting_signoff(statement: Statement) -> None:
    if statement.status != StatementStatus.SUBMITTED:
        raise InvalidTransition(
            _("统计表当前状态为「%(s)s」，不能签认或提出异议。") % {"s": _LABELS[statement.status]},
            extra={"status": statement.status},
        )


def _check_regenerate(user: Any, statement: Statement) -> None:
    """The vendor recomputes a draft in place from the (corrected) inventory."""
    _require_vendor(user, statement.contract)
    if statement.status != StatementStatus.DRAFT:
        raise _not_regenerable(statement)


def _check_new_version(user: Any, statement: Statement) -> None:
    """The vendor answers a dispute of the month's latest version with a new version."""
    _require_vendor(user, statement.contract)
    if statement.status != StatementStatus.DISPUTED:
        raise _not_regenerable(statement)
    if _has_newer_version(statement):
        raise InvalidTransition(_("该月已有更新的版本。"), extra={"status": statement.status})


def _check_submit(user: Any, statement: Statement) -> None:
    _require_vendor(user, statement.contract)
    check_transition(
        TRANSITIONS, current=statement.status, target=StatementStatus.SUBMITTED, labels=_LABELS
    )


def _check_confirm(user: Any, statement: Statement) -> None:
    """The other sign-off parties confirm in their sign-off order."""
    party = _require_other_signer(user, statement.contract)
    _require_awaiting_signoff(statement)
    pending = _pending(statement)
    if party not in pending:
        raise InvalidTransition(_("本单位已签认该版本。"))
    if pending[0] != party:
        raise InvalidTransition(
            _("请等待「%(org)s」先行签认。") % {"org": pending[0].organization.name}
        )


def _check_dispute(user: Any, statement: Statement) -> None:
    """Any other sign-off party that has not confirmed yet, whatever its place in the order."""
    party = _require_other_signer(user, statement.contract)
    _require_awaiting_signoff(statement)
    if party not in _pending(statement):
        raise InvalidTransition(_("本单位已签认该版本，不能再提出异议。"))


def _check_comment(user: Any, statement: Statement) -> None:
    """Any party of the contract, on a version that is neither a draft nor signed."""
    require_staff(user)
    if party_role_of(user, statement.contract) is None:
        raise ActionForbidden(_("您的单位不是本合同的当事方。"))
    if statement.status == StatementStatus.DRAFT or statement.is_frozen:
        raise InvalidTransition(_("草稿和已签认的统计表不能留言。"))


def _check_decide(user: Any, statement: Statement) -> None:
    """The contract's auditor, on an escalated dispute."""
    _require_auditor(user, statement.contract)
    if statement.status != StatementStatus.ESCALATED:
        raise InvalidTransition(_("该统计表没有待审计的争议。"), extra={"status": statement.status})


def _check_supersede(user: Any, statement: Statement) -> None:
    """The vendor corrects the month's signed version (one correction at a time)."""
    _require_vendor(user, statement.contract)
    if statement.status != StatementStatus.SIGNED:
        raise InvalidTransition(
            _("只有已签认的统计表可以出具更正版本。"), extra={"status": statement.status}
        )
    if _has_newer_version(statement):
        raise InvalidTransition(_("该月已有更正版本在办理中。"))


STATEMENT_ACTIONS = ActionRules(
    {
        "regenerate": _check_regenerate,
        "new_version": _check_new_version,
        "submit": _check_submit,
        "confirm": _check_confirm,
        "dispute": _check_dispute,
        "comment": _check_comment,
        "decide": _check_decide,
        "supersede": _check_supersede,
    }
)


def statement_available_actions(*, user: Any, obj: Statement) -> frozenset[str]:
    """What ``user`` may do on this statement version now: the services' own checks.

    Names: ``regenerate``, ``new_version``, ``submit``, ``confirm``, ``dispute``, ``comment``,
    ``decide``, ``supersede``. Reads ``obj.contract.parties`` (prefetch them on pages).
    """
    return STATEMENT_ACTIONS.available(user, obj)


def statement_may_generate(*, user: Any, contract: Contract) -> bool:
    """Whether ``user`` generates the contract's statements (its signing vendor's staff)."""
    try:
        _require_vendor(user, contract)
    except ApplicationError:
        return False
    return True


# ------------------------------------------------------------------------------ generation


def _new_version(
    *,
    actor: User | None,
    contract: Contract,
    year: int,
    month: int,
    version: int,
    now: datetime,
    previous: Statement | None,
    supersedes: Statement | None = None,
    reason: str = "",
) -> Statement:
    """A new draft version with the engine's lines. The month's due date (and lateness) is
    decided once, by version 1; later versions and corrections carry it over.

    The lines are streamed from the engine into the table (the version is saved first, with
    its figures once they are all written): memory stays bounded whatever the inventory.
    """
    stream = StatementStream(contract, year, month)
    if previous is not None:
        due, provisional, late = previous.due_date, previous.due_provisional, previous.is_late
    else:
        (due, provisional), late = statement_due_date(contract, year, month), False
    statement = Statement(
        contract=contract,
        year=year,
        month=month,
        version=version,
        status=StatementStatus.DRAFT,
        supersedes=supersedes,
        supersede_reason=reason,
        due_date=due,
        due_provisional=provisional,
        is_late=late,
        generated_at=now,
        generated_by=actor,
        # Until every line is written (below): the contract's terms, no amount yet.
        discount=contract.discount_factor,
        discount_applies_to=stream.scope,
        vat_rate=contract.vat_rate,
        subtotal=Decimal(0),
        total=Decimal(0),
        vat=Decimal(0),
    )
    statement.full_clean()
    statement.save()
    _write_lines(statement, stream)
    _save_figures(statement, stream.summary())
    _cite_corrections(statement)
    _render_after_commit(statement)
    return statement


@transaction.atomic
def statement_generate(*, actor: User, contract: Contract, year: int, month: int) -> Statement:
    """The vendor computes the month's statement from the inventory.

    No statement yet → version 1 (draft). The latest version a draft → recomputed in place.
    The latest version disputed (and not before the auditor) → a new version, the disputed
    one kept as it is. Anything else (awaiting sign-off, escalated, signed) is refused; a
    signed statement is corrected with ``statement_supersede``.
    """
    contract = Contract.objects.select_for_update(of=("self",)).get(pk=contract.pk)
    _require_vendor(actor, contract)
    now = timezone.now()
    _check_month(contract, year, month, now)
    latest = (
        _month_versions(contract, year, month)
        .select_for_update(of=("self",))
        .order_by("-version")
        .first()
    )

    if latest is None:
        statement = _new_version(
            actor=actor,
            contract=contract,
            year=year,
            month=month,
            version=1,
            now=now,
            previous=None,
        )
        _audit(actor, "statement.generate", statement, None, lines=statement.lines.count())
        return statement

    latest.contract = contract  # the locked row, parties read once
    STATEMENT_ACTIONS.require(
        "new_version" if latest.status == StatementStatus.DISPUTED else "regenerate", actor, latest
    )
    if latest.status == StatementStatus.DRAFT:
        return _regenerate_draft(actor=actor, draft=latest, now=now)

    statement = _new_version(
        actor=actor,
        contract=contract,
        year=year,
        month=month,
        version=latest.version + 1,
        now=now,
        previous=latest,
        supersedes=latest.supersedes,
        reason=latest.supersede_reason,
    )
    corrected = _figures_changed(latest, statement)
    _audit(
        actor,
        "statement.generate",
        statement,
        None,
        answers_dispute_of=latest.pk,
        corrected=corrected,
        lines=statement.lines.count(),
    )
    ruled = latest.escalations.filter(decision=EscalationDecision.UPHOLD_DISPUTE).exists()
    if corrected and not ruled:  # the auditor's ruling already said so
        _after_commit(_send_found_wrong, latest, _dispute_reason(latest, statement))
    return statement


def _regenerate_draft(
    *, actor: Any, draft: Statement, now: datetime, **audit_extra: Any
) -> Statement:
    """Recompute a draft in place from the inventory (the caller holds its lock)."""
    before = snapshot(draft, AUDIT_FIELDS)
    stream = StatementStream(draft.contract, draft.year, draft.month)
    draft.lines.all().delete()
    count = _write_lines(draft, stream)
    _fill(draft, stream.summary())
    draft.generated_at = now
    # A recompute after a jointly confirmed inventory correction is nobody's generation.
    draft.generated_by = (
        actor if isinstance(actor, User) and "correction" not in audit_extra else None
    )
    draft.full_clean()
    draft.save(
        update_fields=[
            "discount",
            "discount_applies_to",
            "vat_rate",
            "subtotal",
            "total",
            "vat",
            "generated_at",
            "generated_by",
        ]
    )
    _cite_corrections(draft)
    documents.statement_document_discard(draft)
    _render_after_commit(draft)
    _audit(actor, "statement.regenerate", draft, before, lines=count, **audit_extra)
    return draft


# ------------------------------------------------------------------- inventory corrections


def _cite_corrections(statement: Statement) -> None:
    """Cite on a new or recomputed version the applied inventory corrections of its month that
    no earlier version of the month cites (``billing.services.corrections``)."""
    period = statement.period
    applied = [
        c.pk
        for c in InventoryCorrection.objects.filter(
            contract_id=statement.contract_id, status=InventoryCorrectionStatus.APPLIED
        ).only("pk", "months")
        if period in (c.months or [])
    ]
    if not applied:
        return
    earlier = set(
        InventoryCorrection.objects.filter(
            statements__contract_id=statement.contract_id,
            statements__year=statement.year,
            statements__month=statement.month,
            statements__version__lt=statement.version,
        ).values_list("pk", flat=True)
    )
    wanted = [pk for pk in applied if pk not in earlier]
    if wanted:
        statement.inventory_corrections.add(*wanted)


@dataclass(frozen=True)
class ReissueOutcome:
    """What an applied inventory correction did to the statements of the months it changes."""

    #: New or recomputed versions (they cite the correction).
    reissued: list[Statement]
    #: Months whose latest version awaits sign-off or the auditor: untouched (a party disputes
    #: it, the vendor's next version cites the correction).
    pending: list[Statement]


def statement_reissue_for_correction(
    *, actor: Any, correction: InventoryCorrection
) -> ReissueOutcome:
    """After an inventory correction was applied (inside its transaction): for every month it
    changes that has a statement, the month's latest version decides —

    * a draft is recomputed in place;
    * a disputed version is answered with a new version (as the vendor's ``statement_generate``
      would; the disputed one stays as it is);
    * a signed version gets a correction version that supersedes it, with the reason
      "资源清单更正 GZ-…" — the signed version is untouched and stays the month's valid one
      until the correction version is itself signed (``_sign_if_complete``);
    * a version awaiting sign-off or escalated to the auditor is left alone: only a sign-off
      party may dispute it, so it is reported as pending (the parties are told).

    Every version written cites the correction (``Statement.inventory_corrections``). The
    vendor is not required: the correction was confirmed by every party the terms name.
    """
    contract = Contract.objects.select_for_update(of=("self",)).get(pk=correction.contract_id)
    now = timezone.now()
    reissued: list[Statement] = []
    pending: list[Statement] = []
    reason = _("资源清单更正 %(n)s：%(r)s") % {"n": correction.number, "r": correction.reason}
    for label in correction.months:
        year, month = (int(part) for part in label.split("-"))
        latest = (
            _month_versions(contract, year, month)
            .select_for_update(of=("self",))
            .order_by("-version")
            .first()
        )
        if latest is None:
            continue  # the month's first version will be computed from the corrected inventory
        latest.contract = contract
        if latest.status == StatementStatus.DRAFT:
            reissued.append(
                _regenerate_draft(actor=actor, draft=latest, now=now, correction=correction.pk)
            )
            continue
        if latest.status == StatementStatus.DISPUTED:
            supersedes, why = latest.supersedes, latest.supersede_reason
            action = "statement.generate"
        elif latest.status == StatementStatus.SIGNED:
            supersedes, why = latest, reason
            action = "statement.supersede"
        else:  # submitted or escalated: a party's act decides, not ours
            pending.append(latest)
            continue
        statement = _new_version(
            actor=None,  # the parties' joint confirmation produced it (the audit says who)
            contract=contract,
            year=year,
            month=month,
            version=latest.version + 1,
            now=now,
            previous=latest if latest.status == StatementStatus.DISPUTED else None,
            supersedes=supersedes,
            reason=why,
        )
        statement.inventory_corrections.add(correction)  # cited even if an earlier one was
        _audit(
            actor,
            action,
            statement,
            None,
            correction=correction.pk,
            replaces=latest.pk,
            lines=statement.lines.count(),
        )
        reissued.append(statement)
    return ReissueOutcome(reissued=reissued, pending=pending)


_FINGERPRINT = (
    "resource_id",
    "catalog_item_id",
    "quantity",
    "unit_price",
    "service_days",
    "amount",
)


def _figures_changed(old: Statement, new: Statement) -> bool:
    """Whether a new version changes the disputed one's figures (a correction) rather than
    re-issuing them unchanged."""
    if (old.subtotal, old.total) != (new.subtotal, new.total):
        return True

    def lines(statement: Statement) -> list[tuple[Any, ...]]:
        return sorted(statement.lines.values_list(*_FINGERPRINT), key=repr)

    return lines(old) != lines(new)


def _dispute_reason(disputed: Statement, correction: Statement) -> str:
    dispute = (
        disputed.signoffs.filter(action=SignoffAction.DISPUTE)
        .select_related("party__organization")
        .order_by("-at", "-id")
        .first()
    )
    who = dispute.party.organization.name if dispute else _("签认方")
    comment = dispute.comment if dispute else ""
    return _("%(who)s对第%(v)s版提出异议，乙方出具更正版本（第%(n)s版）：%(c)s") % {
        "who": who,
        "v": disputed.version,
        "n": correction.version,
        "c": comment,
    }


@transaction.atomic
def statement_supersede(*, actor: User, signed_statement: Statement, reason: str) -> Statement:
    """The vendor corrects a signed statement: a new draft version that supersedes it.

    The signed version is untouched (and stays the valid one) until the correction is signed;
    then it becomes ``superseded``.
    """
    signed, _before = _lock(signed_statement)
    # Who first (403), then the reason (400), then the state (409), as the API documents.
    _require_vendor(actor, signed.contract)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("请填写更正原因。"), extra={"field": "reason"})
    STATEMENT_ACTIONS.require("supersede", actor, signed)
    correction = _new_version(
        actor=actor,
        contract=signed.contract,
        year=signed.year,
        month=signed.month,
        version=signed.version + 1,
        now=timezone.now(),
        previous=None,
        supersedes=signed,
        reason=reason,
    )
    _audit(actor, "statement.supersede", correction, None, supersedes=signed.pk, reason=reason)
    return correction


# ------------------------------------------------------------------------------ sign-off


def _record_signoff(
    *,
    statement: Statement,
    party: ContractParty,
    actor: User,
    action: str,
    method: str,
    now: datetime,
    comment: str = "",
    on_behalf_of: ContractParty | None = None,
) -> StatementSignoff:
    signoff = StatementSignoff(
        statement=statement,
        party=party,
        on_behalf_of=on_behalf_of,
        user=actor,
        action=action,
        comment=comment,
        at=now,
        reauth_method=method,
    )
    signoff.full_clean()
    signoff.save()
    if action != SignoffAction.DISPUTE:
        _send_signoff_recorded(statement, signoff)  # in the transaction, before "signed"
    return signoff


def _send_signoff_recorded(statement: Statement, signoff: StatementSignoff) -> None:
    statement_signoff_recorded.send(sender=StatementSignoff, statement=statement, signoff=signoff)


def _send_signed(statement: Statement) -> None:
    statement_signed.send(sender=Statement, statement=statement)
    notifications.notify_signed(statement)


def _send_submitted(statement: Statement, first_submission: bool) -> None:
    """``statement_submitted``: the due day and the month's lateness (decided by the first
    submission; a later version answering a dispute carries it over)."""
    statement_submitted.send(
        sender=Statement,
        statement=statement,
        due=statement.due_date,
        late=statement.is_late,
        first_submission=first_submission,
    )


def _send_found_wrong(statement: Statement, reason: str) -> None:
    statement_found_wrong.send(sender=Statement, statement=statement, reason=reason)


def _create_department_bills(statement: Statement, now: datetime) -> list[DepartmentBill]:
    groups = list(
        statement.lines.values("department_id", "department_name")
        .annotate(subtotal=Sum("amount"), lines=Count("id"), first=Min("position"))
        .order_by("first")
    )
    shares = split_statement(
        [g["subtotal"] for g in groups],
        discount=statement.subtotal_factor,
        total=statement.total,
        vat=statement.vat,
        vat_rate=statement.vat_rate,
    )
    bills = [
        DepartmentBill(
            statement=statement,
            department_id=g["department_id"],
            department_name=g["department_name"],
            subtotal=g["subtotal"],
            total=share.total,
            vat=share.vat,
            lines_count=g["lines"],
            created_at=now,
        )
        for g, share in zip(groups, shares, strict=True)
    ]
    return DepartmentBill.objects.bulk_create(bills)


def _sign_if_complete(actor: Any, statement: Statement, now: datetime) -> bool:
    """Sign the version when no sign-off party is pending (caller holds the lock)."""
    if _pending(statement):
        return False
    before = snapshot(statement, AUDIT_FIELDS)
    if statement.supersedes_id is not None:
        # The correction replaces the signed version now, not before: until this moment the
        # old one was the valid statement of the month. Frees the one-signed-per-month slot.
        old = Statement.objects.select_for_update(of=("self",)).get(pk=statement.supersedes_id)
        old_before = snapshot(old, AUDIT_FIELDS)
        _set_status(old, StatementStatus.SUPERSEDED)
        old.superseded_at = now
        old.save(update_fields=["status", "superseded_at"])
        _audit(actor, "statement.superseded", old, old_before, by=statement.pk)
    _set_status(statement, StatementStatus.SIGNED)
    statement.signed_at = now
    statement.save(update_fields=["status", "signed_at"])
    bills = _create_department_bills(statement, now)
    _audit(actor, "statement.sign", statement, before, department_bills=len(bills))
    _send_signed(statement)  # document jobs and notices commit with the signature
    return True


def _submit(*, actor: User, statement: Statement, method: str, opened: OpenedKey) -> Statement:
    statement, before = _lock(statement)
    STATEMENT_ACTIONS.require("submit", actor, statement)
    document = documents.statement_document_for_signing(statement)
    if document is None or document.signed_fields:
        raise _not_ready()  # (a signed document: a draft's PDF is always unsigned)
    party = _vendor_party(statement.contract)
    _set_status(statement, StatementStatus.SUBMITTED)
    now = timezone.now()
    statement.submitted_at = now
    statement.submitted_by = actor
    update = ["status", "submitted_at", "submitted_by"]
    first_submission = (
        statement.supersedes_id is None
        and not _month_versions(statement.contract, statement.year, statement.month)
        .filter(submitted_at__isnull=False)
        .exclude(pk=statement.pk)
        .exists()
    )
    if first_submission:
        statement.is_late = submitted_late(statement.due_date, now)
        update.append("is_late")
    statement.save(update_fields=update)
    signoff = _record_signoff(
        statement=statement,
        party=party,
        actor=actor,
        action=SignoffAction.CONFIRM,
        method=method,
        now=now,
    )
    _audit(actor, "statement.submit", statement, before, reauth=method, signed_with=opened.key)
    _after_commit(_send_submitted, statement, first_submission)
    if not _sign_if_complete(actor, statement, now):
        notifications.notify_submitted(statement)
    _sign_document(statement, signoff, opened, document)
    return statement


@sensitive_variables("signing_passphrase")
def statement_submit(
    *,
    actor: User,
    statement: Statement,
    reauth: Reauth,
    signing_passphrase: SigningSecret | str | None,
) -> Statement:
    """The vendor submits a draft; the submission is the vendor's own confirmation, signed
    into the PDF with the vendor's key (``signing_passphrase`` opens it, never stored)."""
    method = reauth_verify(actor=actor, reauth=reauth, action="statement.submit")
    _precheck("submit", actor, statement)
    opened = signing_key_open(actor=actor, secret=signing_passphrase, action="statement.submit")
    with transaction.atomic():
        return _submit(actor=actor, statement=statement, method=method, opened=opened)


def _confirm(
    *, actor: User, statement: Statement, method: str, comment: str, opened: OpenedKey
) -> Statement:
    statement, before = _lock(statement)
    STATEMENT_ACTIONS.require("confirm", actor, statement)
    document = documents.statement_document_for_signing(statement)
    if document is None:
        raise _not_ready()
    party = _require_other_signer(actor, statement.contract)
    now = timezone.now()
    signoff = _record_signoff(
        statement=statement,
        party=party,
        actor=actor,
        action=SignoffAction.CONFIRM,
        method=method,
        now=now,
        comment=(comment or "").strip(),
    )
    _audit(
        actor,
        "statement.confirm",
        statement,
        before,
        party=party.pk,
        reauth=method,
        signed_with=opened.key,
    )
    _sign_if_complete(actor, statement, now)
    _sign_document(statement, signoff, opened, document)
    return statement


@sensitive_variables("signing_passphrase")
def statement_confirm(
    *,
    actor: User,
    statement: Statement,
    reauth: Reauth,
    signing_passphrase: SigningSecret | str | None,
    comment: str = "",
) -> Statement:
    """A sign-off party (other than the vendor) confirms, in sign-off order, signing the PDF
    with its organisation's key; the last confirmation signs the statement."""
    method = reauth_verify(actor=actor, reauth=reauth, action="statement.confirm")
    _precheck("confirm", actor, statement)
    opened = signing_key_open(actor=actor, secret=signing_passphrase, action="statement.confirm")
    with transaction.atomic():
        return _confirm(
            actor=actor, statement=statement, method=method, comment=comment, opened=opened
        )


def _dispute_clock_start(statement: Statement, now: datetime) -> datetime:
    """When the month's disagreement began: a dispute that follows straight on from an
    unanswered-by-agreement dispute of the previous version keeps that one's clock."""
    if statement.escalations.exists():
        return now  # an earlier dispute of this version was already decided by the auditor
    previous = (
        _month_versions(statement.contract, statement.year, statement.month)
        .filter(version=statement.version - 1, status=StatementStatus.DISPUTED)
        .exclude(Exists(DisputeEscalation.objects.filter(statement=OuterRef("pk"))))
        .first()
    )
    if previous is not None and previous.dispute_opened_at is not None:
        return previous.dispute_opened_at
    return now


def _dispute(
    *,
    actor: User,
    statement: Statement,
    method: str,
    comment: str,
    line_ids: Sequence[int],
) -> Statement:
    statement, before = _lock(statement)
    STATEMENT_ACTIONS.require("dispute", actor, statement)
    party = _require_other_signer(actor, statement.contract)
    wanted = set(line_ids)
    lines = list(statement.lines.filter(pk__in=wanted)) if wanted else []
    if len(lines) != len(wanted):
        raise ApplicationError(_("所选明细不属于该统计表。"), extra={"field": "line_ids"})
    now = timezone.now()
    _set_status(statement, StatementStatus.DISPUTED)
    statement.disputed_at = now
    statement.dispute_opened_at = _dispute_clock_start(statement, now)
    statement.save(update_fields=["status", "disputed_at", "dispute_opened_at"])
    signoff = _record_signoff(
        statement=statement,
        party=party,
        actor=actor,
        action=SignoffAction.DISPUTE,
        method=method,
        now=now,
        comment=comment,
    )
    for line in lines or [None]:
        DisputeComment.objects.create(
            statement=statement, line=line, signoff=signoff, author=actor, text=comment, at=now
        )
    _audit(
        actor,
        "statement.dispute",
        statement,
        before,
        party=party.pk,
        lines=sorted(wanted),
        comment=comment,
        reauth=method,
    )
    notifications.notify_disputed(statement, comment)
    return statement


def statement_dispute(
    *,
    actor: User,
    statement: Statement,
    reauth: Reauth,
    comment: str,
    line_ids: Sequence[int] = (),
) -> Statement:
    """A sign-off party that has not confirmed yet disputes (with a comment, optionally on
    lines); the version goes back to the vendor, who answers with a new version."""
    comment = (comment or "").strip()
    if not comment:
        raise ApplicationError(_("请填写异议意见。"), extra={"field": "comment"})
    method = reauth_verify(actor=actor, reauth=reauth, action="statement.dispute")
    with transaction.atomic():
        return _dispute(
            actor=actor, statement=statement, method=method, comment=comment, line_ids=line_ids
        )


@transaction.atomic
def statement_comment(
    *, actor: User, statement: Statement, text: str, line_id: int | None = None
) -> DisputeComment:
    """Any party of the contract adds to a statement's discussion thread (not on drafts,
    not once signed)."""
    statement, _before = _lock(statement)
    STATEMENT_ACTIONS.require("comment", actor, statement)
    text = (text or "").strip()
    if not text:
        raise ApplicationError(_("留言内容不能为空。"), extra={"field": "text"})
    line = None
    if line_id is not None:
        line = statement.lines.filter(pk=line_id).first()
        if line is None:
            raise ApplicationError(_("所选明细不属于该统计表。"), extra={"field": "line_id"})
    comment = DisputeComment.objects.create(
        statement=statement, line=line, author=actor, text=text, at=timezone.now()
    )
    audit_log(
        actor=actor,
        action="statement.comment",
        obj=statement,
        after={"comment": comment.pk, "line": line_id, "text": text},
        contract=statement.contract,
    )
    return comment


# ---------------------------------------------------------------------------- escalation


def _dispute_age_in_working_days(opened_at: datetime, today: date) -> int:
    start = business_date(opened_at)
    try:
        return working_days_between(start, today)
    except CalendarYearMissing:
        return working_days_between(start, today, provisional=True)


def _open_disputes() -> QuerySet[Statement]:
    newer = Statement.objects.filter(
        contract=OuterRef("contract"),
        year=OuterRef("year"),
        month=OuterRef("month"),
        version__gt=OuterRef("version"),
    )
    return (
        Statement.objects.filter(
            status=StatementStatus.DISPUTED,
            dispute_opened_at__isnull=False,
            contract__dispute_escalation_working_days__isnull=False,
        )
        .exclude(Exists(newer))
        .exclude(escalations__decision=EscalationDecision.UPHOLD_DISPUTE)
        .select_related("contract")
        .order_by("dispute_opened_at", "pk")
    )


def statement_escalate_overdue_disputes(*, now: datetime | None = None) -> list[int]:
    """Escalate every dispute open more than the contract's ``dispute_escalation_working_days``
    to its auditor (contracts without the term are never escalated).

    Idempotent (the daily task may run twice). Returns the ids of the escalated statements.
    """
    now = now or timezone.now()
    today = business_date(now)
    escalated: list[int] = []
    for candidate in _open_disputes():
        opened_at = candidate.dispute_opened_at
        if opened_at is None:  # excluded by ``_open_disputes``
            raise RuntimeError(f"统计表 {candidate.pk} 处于异议状态，但没有异议开始时间。")
        limit = candidate.contract.dispute_escalation_working_days
        if limit is None or _auditor_party(candidate.contract) is None:
            continue  # disputes settled by negotiation: no auditor (焦作 §十三.1)
        age = _dispute_age_in_working_days(opened_at, today)
        if age <= limit:
            continue
        if _escalate(candidate, now):
            escalated.append(candidate.pk)
    return escalated


@transaction.atomic
def _escalate(candidate: Statement, now: datetime) -> bool:
    statement, before = _lock(candidate)
    if statement.status != StatementStatus.DISPUTED:
        return False  # answered or escalated meanwhile
    dispute = statement.signoffs.filter(action=SignoffAction.DISPUTE).order_by("-at", "-id").first()
    if dispute is None or DisputeEscalation.objects.filter(dispute=dispute).exists():
        return False
    opened_at = statement.dispute_opened_at
    if opened_at is None:  # a dispute always records when it was opened
        raise RuntimeError(f"统计表 {statement.pk} 处于异议状态，但没有异议开始时间。")
    _set_status(statement, StatementStatus.ESCALATED)
    statement.save(update_fields=["status"])
    escalation = DisputeEscalation.objects.create(
        statement=statement,
        dispute=dispute,
        disputing_party=dispute.party,
        opened_at=opened_at,
        escalated_at=now,
    )
    _audit(
        "系统（争议超期）",
        "statement.escalate",
        statement,
        before,
        escalation=escalation.pk,
        working_days=statement.contract.dispute_escalation_working_days,
    )
    notifications.notify_escalated(statement)
    return True


def _decide(
    *,
    actor: User,
    statement: Statement,
    decision: str,
    comment: str,
    method: str,
    opened: OpenedKey | None,
) -> Statement:
    statement, before = _lock(statement)
    STATEMENT_ACTIONS.require("decide", actor, statement)
    document = None
    if decision == EscalationDecision.UPHOLD_VENDOR:
        document = documents.statement_document_for_signing(statement)
        if document is None or opened is None:
            raise _not_ready()
    auditor = _require_auditor(actor, statement.contract)
    escalation = statement.escalations.select_for_update(of=("self",)).get(decision="")
    now = timezone.now()
    escalation.decision = decision
    escalation.decided_by = actor
    escalation.decided_at = now
    escalation.comment = comment
    escalation.full_clean()
    escalation.save(update_fields=["decision", "decided_by", "decided_at", "comment"])
    if decision == EscalationDecision.UPHOLD_VENDOR:
        _set_status(statement, StatementStatus.SUBMITTED)
        statement.dispute_opened_at = None
        statement.save(update_fields=["status", "dispute_opened_at"])
        determination = _record_signoff(
            statement=statement,
            party=auditor,
            actor=actor,
            action=SignoffAction.DETERMINE,
            method=method,
            now=now,
            comment=comment,
            on_behalf_of=escalation.disputing_party,
        )
    else:
        _set_status(statement, StatementStatus.DISPUTED)
        statement.dispute_opened_at = None
        statement.save(update_fields=["status", "dispute_opened_at"])
        _after_commit(
            _send_found_wrong,
            statement,
            _("审计结论支持异议（%(p)s 第%(v)s版）：%(c)s")
            % {"p": statement.period, "v": statement.version, "c": comment},
        )
    _audit(
        actor,
        "statement.decide_escalation",
        statement,
        before,
        escalation=escalation.pk,
        decision=decision,
        comment=comment,
        reauth=method,
        signed_with=opened.key if opened else None,
    )
    if decision == EscalationDecision.UPHOLD_VENDOR:
        _sign_if_complete(actor, statement, now)
    notifications.notify_decided(statement, str(EscalationDecision(decision).label))
    if opened is not None and document is not None:
        _sign_document(statement, determination, opened, document)
    return statement


@sensitive_variables("signing_passphrase")
def statement_decide_escalation(
    *,
    actor: User,
    statement: Statement,
    decision: str,
    comment: str,
    reauth: Reauth,
    signing_passphrase: SigningSecret | str | None = None,
) -> Statement:
    """The auditor decides an escalated dispute; the decision closes it.

    ``uphold_vendor``: the vendor's figures stand and the auditor's determination takes the
    disputing party's place in the sign-off (signed at once when nobody else is pending); the
    PDF gets the *auditor's* signature (``signing_passphrase``: the auditor's key) in the
    disputing party's field — the disputing party never signed, and its key is not used.
    ``uphold_dispute``: the dispute stands; the vendor must issue a corrected version (nothing
    is signed, no passphrase needed).
    """
    if decision not in EscalationDecision.values:
        raise ApplicationError(_("审计结论无效。"), extra={"field": "decision"})
    comment = (comment or "").strip()
    if not comment:
        raise ApplicationError(_("请填写审计意见。"), extra={"field": "comment"})
    method = reauth_verify(actor=actor, reauth=reauth, action="statement.decide_escalation")
    opened = None
    if decision == EscalationDecision.UPHOLD_VENDOR:
        _precheck("decide", actor, statement)
        opened = signing_key_open(
            actor=actor, secret=signing_passphrase, action="statement.decide_escalation"
        )
    with transaction.atomic():
        return _decide(
            actor=actor,
            statement=statement,
            decision=decision,
            comment=comment,
            method=method,
            opened=opened,
        )


# ----------------------------------------------------------------------- due and late


@dataclass(frozen=True)
class DueCheck:
    """What ``statement_check_due`` did on one run."""

    reminded: list[str]
    late: list[str]


def statement_check_due(*, now: datetime | None = None) -> DueCheck:
    """Remind vendors of statements due today; flag and announce statements past due.

    Looks at the month before today's for every active contract whose billing window covers
    it. Idempotent: the outbox sends each notice once, flags are only ever set.
    """
    now = now or timezone.now()
    today = business_date(now)
    last_month = previous_month(today)
    year, month = last_month.year, last_month.month
    reminded: list[str] = []
    late: list[str] = []
    contracts = (
        Contract.objects.exclude(status=ContractStatus.DRAFT)
        .select_related("successor")  # where each one's billing ends (month_billing_bounds)
        .prefetch_related("parties__organization")
    )
    for contract in contracts:
        lower, upper = month_billing_bounds(contract, year, month)
        if upper <= lower:
            continue
        versions = _month_versions(contract, year, month)
        if versions.filter(submitted_at__isnull=False).exists():
            continue
        due, _provisional = statement_due_date(contract, year, month)
        if due is None:
            continue  # the contract sets no due day: nothing is ever late
        period = month_label(last_month)
        key = f"{contract.pk}:{period}"
        if today == due:
            with transaction.atomic():
                notifications.notify_due_today(key, contract, period, due.isoformat())
            reminded.append(f"{contract.code} {period}")
        elif today > due:
            with transaction.atomic():
                flagged = versions.filter(is_late=False, status=StatementStatus.DRAFT)
                for draft in flagged.select_for_update(of=("self",)):
                    draft.is_late = True
                    draft.save(update_fields=["is_late"])
                    _audit("系统（提交期限）", "statement.late", draft, None)
                notifications.notify_late(key, contract, period, due.isoformat())
            late.append(f"{contract.code} {period}")
    return DueCheck(reminded=reminded, late=late)
