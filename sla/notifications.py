"""Who hears about SLA events, and what the e-mail says (all through the outbox)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.urls import reverse

from govcloud.models import Contract, Organization, Role, User
from govcloud.outbox import Attachment, outbox_enqueue


def organization_emails(organizations: Iterable[Organization]) -> list[str]:
    """Staff of the organisations, plus the organisations' own notification addresses."""
    orgs = list(organizations)
    users = User.objects.filter(
        organization_id__in=[o.pk for o in orgs], is_active=True, role=Role.STAFF
    )
    emails = [e for e in users.values_list("email", flat=True) if e]
    emails += [o.email for o in orgs if o.email]
    return emails


def party_emails(contract: Contract, *roles: str) -> list[str]:
    orgs = [
        p.organization for p in contract.parties.select_related("organization") if p.role in roles
    ]
    return organization_emails(orgs)


def link(url_name: str, *args: object) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse(url_name, args=args)


def send(
    *,
    key: str,
    contract: Contract,
    recipients: Iterable[str],
    subject: str,
    body: str,
    url: str = "",
    attachments: Iterable[Attachment] = (),
) -> None:
    """Queue one e-mail per recipient (exactly once per ``key``), after the caller's commit;
    ``attachments`` are stored files (paths relative to MEDIA_ROOT), e.g. a signed PDF."""
    footer = f"\n\n查看详情：{url}" if url else ""
    outbox_enqueue(
        key=f"sla:{key}",
        recipients=list(recipients),
        subject=f"【政务云】{subject}",
        body=f"{body}\n\n合同：{contract.code} {contract.name}{footer}\n"
        "\n—— 本邮件由政务云服务管理平台自动发送，请勿直接回复。",
        contract=contract,
        attachments=attachments,
    )
