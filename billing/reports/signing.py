"""The documents of a statement version: the signed statement PDF, bills, settlement summary.

Called by the Celery tasks in ``billing.tasks`` (ids in, re-fetched here); every function is
idempotent and safe to run concurrently.

**Statement PDF** (``statement_document_sign``), the life of one ``StatementDocument``
(kind ``statement``):

1. At the first sign-off event of a version (the vendor's submission) the PDF is rendered
   (``statement_pdf``) and rewritten once with one empty signature field per required party, in
   the contract's sign-off order (``billing.reports.parties``). Rendered once, never again: the
   statement row is immutable from submission on, and the document shows nothing that happens
   later (the sign-off table prints "待签认" for the parties still to confirm — their signatures
   are the record). A second worker racing to render loses on the unique constraint and drops
   its file.
2. Every recorded sign-off — the submission, each confirmation, an auditor's determination — is
   one PAdES signature, appended as an incremental update into that party's field, **in the
   order the sign-offs happened** (``StatementSignoff.at``, ``id``). Each run applies *all*
   recorded sign-offs whose field is not yet in ``signed_fields``, oldest first, under
   ``select_for_update`` of the document row: a task that runs late, twice, or alongside another
   never signs out of order or twice. The first signature (the vendor's, as issuer) certifies the
   document (DocMDP: form filling and signing only), so PDF readers enforce it too.
3. When every required field is signed, ``sha256`` is stored, and — once the statement itself is
   signed — the signed PDF is e-mailed to the parties (``emails``; exactly once per recipient).
   The ``statement_signed`` receiver runs the same task, so the e-mail goes out whichever of the
   two gets there last.

Keys: ``signer_for(party_key(organization))``. When a key is missing and ``settings.DEBUG`` is
on (a fresh development machine), the development CA and keys for the contract's parties are
created on the spot (``create_dev_ca``). Otherwise the run stops at that signature with an error
in the log; the signatures before it are kept, ``signatures``/``signed_fields`` say exactly how
far the document got, and the task can be run again once the key is installed
(``billing.statement_pdf_resume``).

Each signature revision is written as a new file (``...-s<n>.pdf``) and the document row points
to it in the same transaction; the previous file is deleted after commit. A failed run leaves the
previous, consistent file in place.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from billing.models import (
    DocumentKind,
    SignoffAction,
    Statement,
    StatementDocument,
    StatementStatus,
)
from billing.periods import period_of_month
from billing.reports import emails
from billing.reports.parties import PartyInfo, signoff_parties
from billing.reports.statement_pdf import (
    department_bill_pdf_bytes,
    settlement_pdf_bytes,
    statement_pdf_bytes,
)
from billing.services.settlement import contract_settlement_periods
from govcloud.dates import business_now
from govcloud.models import Contract, PartyRole
from govcloud.pdf.signing import (
    SigningError,
    SigningKeyMissing,
    create_dev_ca,
    p12_passphrase,
    party_key,
    prepare_signature_fields,
    sha256_hex,
    sign_pdf,
    signer_for,
)

__all__ = [
    "SignatureStep",
    "SigningOutcome",
    "department_bill_documents",
    "settlement_document",
    "signature_steps",
    "statement_document_ensure",
    "statement_document_sign",
    "statements_needing_signatures",
]

logger = logging.getLogger(__name__)

#: Sign-offs that put a party's name to the version (disputes do not).
SIGNING_ACTIONS = (SignoffAction.CONFIRM, SignoffAction.DETERMINE)
#: A version whose department bills exist and whose signed PDF goes out.
COMPLETE_STATUSES = (StatementStatus.SIGNED, StatementStatus.SUPERSEDED)


class SigningUnavailable(Exception):
    """No key (or no passphrase) to sign with; not transient, so not retried."""


@dataclass(frozen=True)
class SignatureStep:
    """One signature to apply: which field, with whose key, shown how."""

    signoff_id: int
    field_name: str
    organization_id: int
    location: str
    signer_name: str
    reason: str


@dataclass
class SigningOutcome:
    """What one run of ``statement_document_sign`` found and did."""

    statement_id: int
    document_id: int | None = None
    applied: list[str] = field(default_factory=list)
    signed_fields: list[str] = field(default_factory=list)
    complete: bool = False
    emailed: int = 0
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------------------- the plan


def signature_steps(statement: Statement, parties: Sequence[PartyInfo]) -> list[SignatureStep]:
    """The signatures the recorded sign-offs call for, in the order they happened."""
    by_party = {p.party_id: p for p in parties}
    steps: list[SignatureStep] = []
    seen: set[str] = set()
    signoffs = (
        statement.signoffs.filter(action__in=SIGNING_ACTIONS)
        .select_related("party__organization", "user")
        .order_by("at", "id")
    )
    period = f"{statement.period}（第{statement.version}版）"
    for signoff in signoffs:
        determined = signoff.action == SignoffAction.DETERMINE
        target = by_party.get(signoff.on_behalf_of_id if determined else signoff.party_id)
        if target is None or target.field_name in seen:
            logger.warning(
                "Statement %s: sign-off %s has no signature field of its own; skipped",
                statement.pk,
                signoff.pk,
            )
            continue
        seen.add(target.field_name)
        if determined:
            reason = (
                f"审计确定月度服务资源统计表 {period}，代{target.role_label}"
                f"（{target.organization}）确认"
            )
        elif signoff.party.role == PartyRole.VENDOR:
            reason = f"提交月度服务资源统计表 {period}"
        else:
            reason = f"确认月度服务资源统计表 {period}"
        steps.append(
            SignatureStep(
                signoff_id=signoff.pk,
                field_name=target.field_name,
                organization_id=signoff.party.organization_id,
                location=signoff.party.organization.name,
                signer_name=str(signoff.user),
                reason=reason,
            )
        )
    return steps


# ------------------------------------------------------------------------------- storage


def _read(document: StatementDocument) -> bytes:
    with document.file.storage.open(document.file.name, "rb") as handle:
        return handle.read()


def _delete_file_later(storage: Any, name: str) -> None:
    transaction.on_commit(lambda: storage.delete(name))


def _store_new(document: StatementDocument, pdf: bytes, filename: str) -> StatementDocument:
    """Save a new document row with its file; if another worker stored the same document
    first (unique constraint), drop ours and return theirs."""
    document.file.save(filename, ContentFile(pdf), save=False)
    try:
        with transaction.atomic():
            document.save()
    except IntegrityError:
        document.file.storage.delete(document.file.name)
        return StatementDocument.objects.get(
            statement_id=document.statement_id,
            kind=document.kind,
            department_id=document.department_id,
        )
    return document


# ------------------------------------------------------------------------------- statement


def statement_document_ensure(*, statement_id: int) -> StatementDocument | None:
    """The statement PDF with its empty signature fields, rendered at the first sign-off.

    ``None`` while nobody has signed the version (a draft has no document) or when the
    statement does not exist.
    """
    existing = StatementDocument.objects.filter(
        statement_id=statement_id, kind=DocumentKind.STATEMENT
    ).first()
    if existing is not None:
        return existing
    statement = Statement.objects.select_related("contract").filter(pk=statement_id).first()
    if statement is None or not statement.signoffs.filter(action__in=SIGNING_ACTIONS).exists():
        return None
    parties = signoff_parties(statement.contract)
    pdf = prepare_signature_fields(statement_pdf_bytes(statement), [p.field_name for p in parties])
    document = StatementDocument(
        statement=statement, kind=DocumentKind.STATEMENT, rendered_at=timezone.now()
    )
    return _store_new(document, pdf, _statement_filename(statement, 0))


def _statement_filename(statement: Statement, signatures: int) -> str:
    code, period, version = statement.contract.code, statement.period, statement.version
    return f"statement-{code}-{period}-v{version}-s{signatures}.pdf"


def _signer(contract: Contract, organization_id: int) -> Any:
    key = party_key(organization_id)
    try:
        return signer_for(key)
    except SigningKeyMissing as exc:
        if not settings.DEBUG:
            raise SigningUnavailable(str(exc)) from exc
    except ImproperlyConfigured as exc:
        raise SigningUnavailable(str(exc)) from exc
    # A fresh development machine: issue the development CA and the parties' keys now.
    parties = [
        (party_key(p.organization_id), p.organization.name)
        for p in contract.parties.select_related("organization").order_by("pk")
    ]
    written = create_dev_ca(Path(settings.SIGNING_DIR), parties, passphrase=p12_passphrase())
    logger.warning(
        "DEBUG: created development signing keys in %s: %s",
        settings.SIGNING_DIR,
        ", ".join(p.name for p in written) or "none",
    )
    try:
        return signer_for(key)
    except SigningKeyMissing as exc:
        raise SigningUnavailable(str(exc)) from exc


def statement_document_sign(*, statement_id: int) -> SigningOutcome:
    """Render if needed, then apply every recorded sign-off's signature not yet applied, in
    order; e-mail the signed PDF once the statement is signed and every field is signed."""
    outcome = SigningOutcome(statement_id=statement_id)
    document = statement_document_ensure(statement_id=statement_id)
    if document is None:
        return outcome
    outcome.document_id = document.pk
    new_name = ""
    try:
        with transaction.atomic():
            document = (
                StatementDocument.objects.select_for_update(of=("self",))
                .select_related("statement__contract")
                .get(pk=document.pk)
            )
            statement = document.statement
            parties = signoff_parties(statement.contract)
            required = {p.field_name for p in parties}
            signed = list(document.signed_fields)
            todo = [s for s in signature_steps(statement, parties) if s.field_name not in signed]
            if todo:
                pdf = _read(document)
                for step in todo:
                    try:
                        pdf = sign_pdf(
                            pdf,
                            signer=_signer(statement.contract, step.organization_id),
                            field_name=step.field_name,
                            reason=step.reason,
                            location=step.location,
                            name=step.signer_name,
                            certify=not signed,
                        )
                    except (SigningUnavailable, SigningError, ValueError) as exc:
                        outcome.error = f"{type(exc).__name__}: {exc}"
                        logger.error(
                            "Statement %s (%s %s v%s): cannot apply the signature of %s "
                            "into field %s: %s. The PDF stays at %d of %d signature(s); "
                            "run billing.statement_pdf_sign again once this is fixed.",
                            statement.pk,
                            statement.contract.code,
                            statement.period,
                            statement.version,
                            step.location,
                            step.field_name,
                            outcome.error,
                            len(signed),
                            len(required),
                        )
                        break
                    signed.append(step.field_name)
                    outcome.applied.append(step.field_name)
                if outcome.applied:
                    old_name = document.file.name
                    document.file.save(
                        _statement_filename(statement, len(signed)), ContentFile(pdf), save=False
                    )
                    new_name = document.file.name
                    document.signed_fields = signed
                    document.signatures = len(signed)
                    if required <= set(signed):
                        document.sha256 = sha256_hex(pdf)
                    document.save(
                        update_fields=[
                            "file",
                            "signed_fields",
                            "signatures",
                            "sha256",
                            "updated_at",
                        ]
                    )
                    _delete_file_later(document.file.storage, old_name)
            outcome.signed_fields = list(document.signed_fields)
            outcome.complete = bool(required) and required <= set(document.signed_fields)
            if outcome.complete and statement.status in COMPLETE_STATUSES:
                outcome.emailed = emails.statement_signed_pdf_email(statement, document)
    except Exception:
        if new_name:
            document.file.storage.delete(new_name)
        raise
    return outcome


def statements_needing_signatures() -> list[int]:
    """Versions someone signed off whose PDF is missing or has fewer signatures than recorded
    sign-offs (a key was missing, a task was lost): what a resume run signs."""
    candidates = Statement.objects.annotate(
        recorded=Count("signoffs", filter=Q(signoffs__action__in=SIGNING_ACTIONS))
    ).filter(recorded__gt=0)
    signatures = dict(
        StatementDocument.objects.filter(
            kind=DocumentKind.STATEMENT, statement__in=candidates
        ).values_list("statement_id", "signatures")
    )
    return sorted(
        pk
        for pk, recorded in candidates.values_list("pk", "recorded")
        if signatures.get(pk, -1) < recorded
    )


# ------------------------------------------------------------------------ department bills


def department_bill_documents(*, statement_id: int) -> list[StatementDocument]:
    """Render each department's bill of a signed statement (once) and e-mail it (once)."""
    statement = Statement.objects.select_related("contract").filter(pk=statement_id).first()
    if statement is None or statement.status not in COMPLETE_STATUSES:
        return []
    documents = []
    for bill in statement.department_bills.select_related("department", "statement__contract"):
        document = StatementDocument.objects.filter(
            statement=statement, kind=DocumentKind.DEPARTMENT_BILL, department=bill.department
        ).first()
        if document is None:
            pdf = department_bill_pdf_bytes(bill)
            document = _store_new(
                StatementDocument(
                    statement=statement,
                    kind=DocumentKind.DEPARTMENT_BILL,
                    department=bill.department,
                    sha256=sha256_hex(pdf),
                    rendered_at=timezone.now(),
                ),
                pdf,
                f"bill-{statement.contract.code}-{statement.period}-d{bill.department_id}.pdf",
            )
        with transaction.atomic():
            emails.department_bill_email(bill, document)
        documents.append(document)
    return documents


# ---------------------------------------------------------------------------- settlement


def settlement_document(*, statement_id: int, force: bool = False) -> StatementDocument | None:
    """The settlement summary of the period that settles this signed statement's month, as of
    now; kept with the statement (one per statement, re-rendered only with ``force``).

    A settlement summary changes with every deduction and payment, so it is a dated snapshot,
    not a signed document: each signed month leaves the summary as it stood then.
    """
    statement = Statement.objects.select_related("contract").filter(pk=statement_id).first()
    if statement is None or statement.status not in COMPLETE_STATUSES:
        return None
    existing = StatementDocument.objects.filter(
        statement=statement, kind=DocumentKind.SETTLEMENT
    ).first()
    if existing is not None and not force:
        return existing
    contract = statement.contract
    period = period_of_month(
        contract_settlement_periods(contract),
        statement.year,
        statement.month,
        service_end=contract.service_end,
    )
    if period is None:
        return None
    pdf = settlement_pdf_bytes(contract, period.key)
    filename = f"settlement-{contract.code}-p{period.index}-{business_now():%Y%m%d%H%M%S}.pdf"
    if existing is None:
        return _store_new(
            StatementDocument(
                statement=statement,
                kind=DocumentKind.SETTLEMENT,
                sha256=sha256_hex(pdf),
                rendered_at=timezone.now(),
            ),
            pdf,
            filename,
        )
    with transaction.atomic():
        document = StatementDocument.objects.select_for_update(of=("self",)).get(pk=existing.pk)
        old_name = document.file.name
        document.file.save(filename, ContentFile(pdf), save=False)
        document.sha256 = sha256_hex(pdf)
        document.rendered_at = timezone.now()
        document.save(update_fields=["file", "sha256", "rendered_at", "updated_at"])
        _delete_file_later(document.file.storage, old_name)
    return document
