"""Which issued document an uploaded PDF is, for the verification page — scoped to the user.

A match is looked up by the SHA-256 of the bytes (``StatementDocument.sha256``: recorded for a
statement once its last signature is applied, for a bill or settlement summary when rendered).
Only documents of contracts the user may see count (``contract_ids_for_user``), and department
users only match their own department's bills: for anything else the page says "no match", the
same answer as for a file we never issued, so existence never leaks across tenants.
"""

from __future__ import annotations

from dataclasses import dataclass

from billing.models import DepartmentBill, DocumentKind, StatementDocument
from govcloud.models import OrganizationKind, User
from govcloud.selectors import contract_ids_for_user

__all__ = ["IssuedDocument", "issued_document_for_user"]


@dataclass(frozen=True)
class IssuedDocument:
    document: StatementDocument
    portal_path: str


def issued_document_for_user(*, user: User, sha256: str) -> IssuedDocument | None:
    if not sha256 or not user.is_authenticated:
        return None
    documents = StatementDocument.objects.filter(sha256=sha256).select_related(
        "statement__contract", "department"
    )
    if not user.is_superuser:
        documents = documents.filter(statement__contract_id__in=contract_ids_for_user(user))
        organization = user.organization
        if organization is None:
            return None
        if organization.kind == OrganizationKind.DEPARTMENT:
            documents = documents.filter(
                kind=DocumentKind.DEPARTMENT_BILL, department_id=organization.pk
            )
    document = documents.order_by("-pk").first()
    if document is None:
        return None
    path = f"/billing/statements/{document.statement_id}/"
    if document.kind == DocumentKind.DEPARTMENT_BILL:
        bill = DepartmentBill.objects.filter(
            statement_id=document.statement_id, department_id=document.department_id
        ).first()
        if bill is not None:
            path = f"/billing/bills/{bill.pk}/"
    return IssuedDocument(document=document, portal_path=path)
