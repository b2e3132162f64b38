"""Which months of utilization data count: the joint confirmation of each contract-month.

BT-2025 附件2 7.3 asks for "经三方确认无误的多云管理平台数据" (bureau, vendor, supervisor: the
term ``joint_confirmations["utilization_data"]``). A push opens the confirmation of every month
it touches, and restarts it when the month had already been (partly) confirmed — the parties
confirmed other numbers. ``confirmed_months`` is what the 20 % rule and the right-sizing read; a
contract whose terms ask no joint confirmation (JZ-2026) counts every month (None).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from govcloud.joint import confirmed_ids, joint_for, joint_open, joint_restart, required_roles
from govcloud.models import Contract, JointConfirmation, JointSubject
from sla.models import UtilizationMonth

SUBJECT = JointSubject.UTILIZATION_DATA


def utilization_months_touched(*, actor: Any, months: Iterable[tuple[int, date]]) -> None:
    """Open (or restart) the confirmation of each ``(contract_id, first day of month)`` pushed.

    Called inside the push's transaction.
    """
    for contract_id, month in sorted(set(months)):
        contract = Contract.objects.get(pk=contract_id)
        if required_roles(contract, SUBJECT) is None:
            continue
        record, _created = UtilizationMonth.objects.get_or_create(contract=contract, month=month)
        confirmation = joint_open(
            actor=actor,
            contract=contract,
            subject=SUBJECT,
            obj=record,
            title=_("%(code)s %(m)s 资源使用率数据")
            % {"code": contract.code, "m": f"{month:%Y-%m}"},
        )
        if confirmation is not None:
            joint_restart(actor=actor, confirmation=confirmation, note=_("乙方推送了新的数据"))


def confirmed_months(contract: Contract) -> set[date] | None:
    """The months whose data the named parties confirmed; None where every month counts."""
    if required_roles(contract, SUBJECT) is None:
        return None
    records = UtilizationMonth.objects.filter(contract=contract)
    ids = confirmed_ids(UtilizationMonth, SUBJECT, list(records.values_list("pk", flat=True)))
    return {m.month for m in records if m.pk in ids}


def month_confirmations(
    contract: Contract,
) -> list[tuple[UtilizationMonth, JointConfirmation | None]]:
    """Each month with data under a joint confirmation, with its confirmation (for the page)."""
    if required_roles(contract, SUBJECT) is None:
        return []
    return [
        (record, joint_for(record, SUBJECT))
        for record in UtilizationMonth.objects.filter(contract=contract).order_by("month")
    ]


def month_confirmation(contract: Contract, month: date) -> JointConfirmation | None:
    record = UtilizationMonth.objects.filter(contract=contract, month=month).first()
    return joint_for(record, SUBJECT) if record else None
