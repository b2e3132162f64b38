"""The documents of a statement version: the signed statement PDF, bills, settlement summary.

**Statement PDF** — the life of one ``StatementDocument`` (kind ``statement``):

1. **Rendered when the version is generated** (and again when a draft is recomputed): the
   service enqueues ``billing.statement_pdf_render`` after commit (Celery; eager in development
   and tests), which renders the PDF (``statement_pdf``) and rewrites it once with one empty
   signature field per required party, in the contract's sign-off order
   (``billing.reports.parties``), each a visible widget over that party's seal box in the
   printed sign-off table, reading "待签认". Recomputing a draft drops its document first, and
   a render that finds the draft recomputed meanwhile drops its file (``generated_at``
   changed), so the stored PDF is always the version's current content. A second worker racing
   to render loses on the unique constraint and drops its file.
2. **Signed synchronously inside each sign-off** (``statement_document_sign``, called by
   ``billing.services.statements`` under the statement's lock, as the sign-off's last step):
   the signer typed the passphrase of their organisation's key, the service opened the key in
   memory (``govcloud.pdf.signing.party_signer``), and that one PAdES signature is appended as an
   incremental update into the party's field, together with the party's seal as the field's
   appearance (organisation, signer, "已签认" and the signing time in +0800, in red, in the
   bundled font; an auditor's ruling shows the auditor's organisation) — the vendor's
   submission into the vendor's field (certifying the document: DocMDP form filling and signing
   only), each confirmation into the confirming party's, an auditor's determination
   (``uphold_vendor``) with the *auditor's* key into the disputing party's field. If the PDF
   is not rendered yet the sign-off is refused ("统计表 PDF 正在生成，请稍后再签认") and
   nothing changes; if signing fails, the whole sign-off rolls back. No task can sign: the
   server holds no secret that opens a party's key.
3. When every required field is signed, ``sha256`` is stored; once the statement itself is
   signed, ``billing.statement_pdf_email`` e-mails the signed PDF to the parties (``emails``;
   exactly once per recipient).

Each signature revision is written as a new file (``...-s<n>.pdf``) and the document row points
to it in the same transaction; the previous file is deleted after commit. A refused sign-off
leaves the previous, consistent file in place.

**Department bills and settlement summaries** are rendered after the statement is signed and
are not signed: they are derived from the signed statement (whose PDF carries the parties'
signatures) and carry a SHA-256 fingerprint recorded by the platform (verification page). The
platform holds no signing key of its own.

Called by the Celery tasks in ``billing.tasks`` (ids in, re-fetched here) and by the sign-off
services; every task function is idempotent and safe to run concurrently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import (
    DocumentKind,
    SignoffAction,
    Statement,
    StatementDocument,
    StatementSignoff,
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
from govcloud.models import PartyRole
from govcloud.pdf.signing import prepare_signature_fields, sha256_hex, sign_pdf

__all__ = [
    "SignatureStep",
    "department_bill_documents",
    "settlement_document",
    "signature_step",
    "statement_document_discard",
    "statement_document_for_signing",
    "statement_document_render",
    "statement_document_sign",
    "statement_signed_pdf_email",
    "statements_needing_render",
]

logger = logging.getLogger(__name__)

#: A version whose department bills exist and whose signed PDF goes out.
COMPLETE_STATUSES = (StatementStatus.SIGNED, StatementStatus.SUPERSEDED)
#: Versions still open to sign-off: their PDF must be there before anyone signs.
SIGNABLE_STATUSES = (
    StatementStatus.DRAFT,
    StatementStatus.SUBMITTED,
    StatementStatus.ESCALATED,
)


@dataclass(frozen=True)
class SignatureStep:
    """One signature to apply: which field, shown how."""

    field_name: str
    location: str
    signer_name: str
    reason: str
    #: The organisation on the seal: the signer's (an auditor's ruling shows the auditor's).
    organization: str = ""


# ------------------------------------------------------------------------------- the plan


def signature_step(
    statement: Statement, signoff: StatementSignoff, parties: list[PartyInfo]
) -> SignatureStep | None:
    """The signature a sign-off calls for (``None``: the sign-off fills no field)."""
    determined = signoff.action == SignoffAction.DETERMINE
    if signoff.action not in (SignoffAction.CONFIRM, SignoffAction.DETERMINE):
        return None
    by_party = {p.party_id: p for p in parties}
    target = by_party.get(signoff.on_behalf_of_id if determined else signoff.party_id)
    if target is None:
        return None
    period = f"{statement.period}（第{statement.version}版）"
    if determined:
        reason = (
            f"审计确定月度服务资源统计表 {period}，代{target.role_label}"
            f"（{target.organization}）确认"
        )
    elif signoff.party.role == PartyRole.VENDOR:
        reason = f"提交月度服务资源统计表 {period}"
    else:
        reason = f"确认月度服务资源统计表 {period}"
    return SignatureStep(
        field_name=target.field_name,
        location=signoff.party.organization.name,
        signer_name=str(signoff.user),
        reason=reason,
        organization=(
            f"{signoff.party.organization.name}（审计确定，代{target.role_label}）"
            if determined
            else signoff.party.organization.name
        ),
    )


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


def _statement_filename(statement: Statement, signatures: int) -> str:
    code, period, version = statement.contract.code, statement.period, statement.version
    return f"statement-{code}-{period}-v{version}-s{signatures}.pdf"


def statement_document_render(*, statement_id: int) -> StatementDocument | None:
    """Render the version's PDF with its empty signature fields, once (idempotent).

    ``None`` when the statement does not exist, or when the draft was recomputed while this
    render ran (the render enqueued by that recomputation stores the current content).
    """
    existing = StatementDocument.objects.filter(
        statement_id=statement_id, kind=DocumentKind.STATEMENT
    ).first()
    if existing is not None:
        return existing
    statement = Statement.objects.select_related("contract").filter(pk=statement_id).first()
    if statement is None:
        return None
    rendered_from = statement.generated_at
    parties = signoff_parties(statement.contract)
    pdf = prepare_signature_fields(
        statement_pdf_bytes(statement),
        [p.field_name for p in parties],
        require_seal_boxes=True,
    )
    document = StatementDocument(
        statement=statement, kind=DocumentKind.STATEMENT, rendered_at=timezone.now()
    )
    with transaction.atomic():
        # The draft's recomputation locks the statement too: either it ran before (and we see
        # the new ``generated_at``) or it runs after and drops what we store now.
        current = (
            Statement.objects.select_for_update(of=("self",))
            .filter(pk=statement_id)
            .values_list("generated_at", flat=True)
            .first()
        )
        if current != rendered_from:
            logger.info("Statement %s was recomputed while rendering; dropped", statement_id)
            return None
        return _store_new(document, pdf, _statement_filename(statement, 0))


def statement_document_discard(statement: Statement) -> None:
    """Drop a draft's PDF (its content is about to change); the file goes after commit.

    Only an unsigned document of a draft: anything signed is evidence and stays.
    """
    for document in StatementDocument.objects.filter(
        statement=statement, kind=DocumentKind.STATEMENT, signatures=0
    ):
        name, storage = document.file.name, document.file.storage
        document.delete()
        if name:
            _delete_file_later(storage, name)


def statement_document_for_signing(statement: Statement) -> StatementDocument | None:
    """The version's PDF, locked for a signature (``None``: not rendered yet). Call inside the
    sign-off's transaction."""
    return (
        StatementDocument.objects.select_for_update(of=("self",))
        .filter(statement=statement, kind=DocumentKind.STATEMENT)
        .exclude(file="")
        .first()
    )


def statement_document_sign(
    *, document: StatementDocument, statement: Statement, signoff: StatementSignoff, signer: Any
) -> StatementDocument:
    """Append the signature of ``signoff`` into its party's field with ``signer`` (a pyHanko
    ``Signer`` the service opened with the signer's secret).

    Runs inside the sign-off's transaction with ``document`` locked
    (``statement_document_for_signing``); raises ``govcloud.pdf.signing.SigningError`` or
    ``ValueError`` when the PDF cannot take the signature (the caller rolls the sign-off back).
    The new file is deleted again if anything here fails; the old one after commit.
    """
    parties = signoff_parties(statement.contract)
    step = signature_step(statement, signoff, parties)
    if step is None:
        raise ValueError(f"Sign-off {signoff.pk} has no signature field of its own")
    signed = list(document.signed_fields)
    if step.field_name in signed:
        raise ValueError(f"Field {step.field_name} is already signed")
    pdf = sign_pdf(
        _read(document),
        signer=signer,
        field_name=step.field_name,
        reason=step.reason,
        location=step.location,
        name=step.signer_name,
        certify=not signed,
        organization=step.organization or step.location,
    )
    signed.append(step.field_name)
    old_name = document.file.name
    document.file.save(_statement_filename(statement, len(signed)), ContentFile(pdf), save=False)
    try:
        document.signed_fields = signed
        document.signatures = len(signed)
        if {p.field_name for p in parties} <= set(signed):
            document.sha256 = sha256_hex(pdf)
        document.save(update_fields=["file", "signed_fields", "signatures", "sha256", "updated_at"])
    except Exception:
        document.file.storage.delete(document.file.name)
        raise
    _delete_file_later(document.file.storage, old_name)
    return document


def statement_signed_pdf_email(*, statement_id: int) -> int:
    """E-mail the fully signed PDF of a signed version to the parties (once); rows queued."""
    document = (
        StatementDocument.objects.select_related("statement__contract")
        .filter(statement_id=statement_id, kind=DocumentKind.STATEMENT)
        .first()
    )
    if document is None or document.statement.status not in COMPLETE_STATUSES:
        return 0
    required = {p.field_name for p in signoff_parties(document.statement.contract)}
    if not required or not required <= set(document.signed_fields):
        logger.warning(
            "Statement %s is signed but its PDF carries %d of %d signatures; not e-mailed",
            statement_id,
            len(document.signed_fields),
            len(required),
        )
        return 0
    with transaction.atomic():
        return emails.statement_signed_pdf_email(document.statement, document)


def statements_needing_render() -> list[int]:
    """Versions open to sign-off without a PDF (a render task was lost): what a resume run
    renders. Signatures are never caught up: only the signer can apply theirs."""
    return sorted(
        Statement.objects.filter(status__in=SIGNABLE_STATUSES)
        .exclude(documents__kind=DocumentKind.STATEMENT)
        .values_list("pk", flat=True)
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
