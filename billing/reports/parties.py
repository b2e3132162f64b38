"""Who signs a statement's PDF, in which field, in which order.

Two orders matter and they differ (包头: bureau 1, vendor 2, supervisor 3):

* **Fields** are created in the contract's sign-off order (``ContractParty.signoff_order``), one
  per required party, named ``sig-<signoff_order>-<role>`` (``sig-1-bureau``, ``sig-2-vendor``,
  ``sig-3-supervisor``): stable, readable in any PDF reader's signature panel, and unique because
  a contract's sign-off orders are.
* **Signatures** are appended in the order the sign-offs happened, which the workflow fixes: the
  vendor's submission first (it is the vendor's confirmation), then the other parties in sign-off
  order (``billing.services.statements``). The sign-off table printed in the PDF lists the
  parties in that signing order, so it reads like the signature panel.

An auditor's determination (``action=determine``) takes the disputing party's place: it is signed
with the *auditor's* key into the disputing party's field, so the field shows whose confirmation
the ruling stands in for and the certificate shows who ruled.
"""

from __future__ import annotations

from dataclasses import dataclass

from govcloud.models import Contract, ContractParty, PartyRole

__all__ = ["PartyInfo", "field_name", "signing_order", "signoff_parties"]

ROLE_LABELS = {
    PartyRole.BUREAU: "甲方",
    PartyRole.VENDOR: "乙方",
    PartyRole.SUPERVISOR: "监理",
    PartyRole.AUDITOR: "审计",
}


@dataclass(frozen=True)
class PartyInfo:
    """A sign-off party as the documents need it (plain data: the benchmark builds these too)."""

    party_id: int
    organization_id: int
    organization: str
    role: str
    signoff_order: int

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def field_name(self) -> str:
        return field_name(self.signoff_order, self.role)


def field_name(signoff_order: int, role: str) -> str:
    return f"sig-{signoff_order}-{role}"


def _info(party: ContractParty) -> PartyInfo:
    assert party.signoff_order is not None  # noqa: S101 — only sign-off parties get here
    return PartyInfo(
        party_id=party.pk,
        organization_id=party.organization_id,
        organization=party.organization.name,
        role=party.role,
        signoff_order=party.signoff_order,
    )


def signoff_parties(contract: Contract) -> list[PartyInfo]:
    """Required parties in the contract's sign-off order (the order of the fields)."""
    parties = contract.parties.select_related("organization").exclude(signoff_order=None)
    return [_info(p) for p in sorted(parties, key=lambda p: p.signoff_order)]


def signing_order(parties: list[PartyInfo]) -> list[PartyInfo]:
    """The order the workflow has them sign: the vendor (submission) first, then the rest."""
    return sorted(parties, key=lambda p: (p.role != PartyRole.VENDOR, p.signoff_order))
