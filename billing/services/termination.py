"""Early termination of a contract with the notice its terms require (issue 12 item 7).

``contract_terminate(actor=…, contract=…, notice_given_on=…, terminates_on=…, reason=…)`` — the
bureau records a termination that has taken effect:

* ``terminates_on`` is the **last day of service** (like ``service_end``): billing runs to its
  24:00, and every resource still online is closed at that instant (00:00 of the next day);
  the contract's statements bill nothing after it (``govcloud.lifecycle.billing_last_day``);
* it is at least ``termination_notice_days`` after the written notice (BT 15.4.3 "一方应在
  终止合同前60天向另一方发出书面通知"; JZ 十.1 "应提前30日向乙方提出书面通知"): reading "N
  days before the termination" as terminates_on ≥ notice_given_on + N. A contract without the
  term only needs the notice on or before the termination date;
* it is recorded once the termination has taken effect (``terminates_on`` before today): the
  written notice itself is the letter, the platform records its effect, so no resource can be
  delivered on a contract the platform already treats as terminated; and it is early —
  before the service end (an expiry is the ordinary end, not a termination);
* refused, nothing changed, where resources were delivered or changed on the contract after
  the termination instant, or a signed statement covers a month after it (signed is final);
* the contract is terminated (``govcloud.lifecycle``), audited, and the other parties are
  told by e-mail, with the clause.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from billing.models import Resource
from billing.pricing import local_midnight
from billing.services.succession import (
    close_at,
    later_records,
    notify_parties,
    resources_active_at,
    signed_months_from,
)
from govcloud import lifecycle
from govcloud.audit import audit_log
from govcloud.dates import business_today
from govcloud.exceptions import ApplicationError
from govcloud.models import Contract, PartyRole, User
from govcloud.terms import cite, clause_of

__all__ = ["TerminationPreview", "contract_terminate", "termination_preview"]

_ONE_DAY = timedelta(days=1)


@dataclass
class TerminationPreview:
    contract: Contract
    notice_given_on: date
    terminates_on: date
    at: datetime
    earliest: date | None
    resources: list[Resource] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def earliest_termination(contract: Contract, notice_given_on: date) -> date:
    """The earliest termination date a notice given on ``notice_given_on`` allows."""
    return notice_given_on + timedelta(days=contract.termination_notice_days or 0)


def termination_preview(
    *, contract: Contract, notice_given_on: date, terminates_on: date, reason: str = ""
) -> TerminationPreview:
    """What ``contract_terminate`` would close, and every reason it would refuse."""
    at = local_midnight(terminates_on + _ONE_DAY)
    earliest = earliest_termination(contract, notice_given_on)
    preview = TerminationPreview(
        contract=contract,
        notice_given_on=notice_given_on,
        terminates_on=terminates_on,
        at=at,
        earliest=earliest,
    )
    problems = preview.problems
    today = business_today()
    if notice_given_on > today:
        problems.append(_("书面通知日不得晚于今天。"))
    if terminates_on < earliest:
        days = contract.termination_notice_days
        clause = clause_of(contract, "termination_notice_days")
        problems.append(
            _("终止日 %(t)s 距书面通知日 %(n)s 不足 %(d)s 日%(cite)s：最早可于 %(e)s 终止。")
            % {
                "t": terminates_on.isoformat(),
                "n": notice_given_on.isoformat(),
                "d": days or 0,
                "cite": _("（合同第 %(c)s 条）") % {"c": clause} if clause else "",
                "e": earliest.isoformat(),
            }
        )
    if terminates_on >= today:
        problems.append(
            _("终止日 %(t)s 尚未过去：终止生效（终止日24:00）后再登记，届时在用资源随之关闭。")
            % {"t": terminates_on.isoformat()}
        )
    if terminates_on >= contract.service_end:
        problems.append(
            _("终止日须早于服务期结束日 %(e)s（期满为正常结束，不是提前终止）。")
            % {"e": contract.service_end.isoformat()}
        )
    if terminates_on < contract.billing_from:
        problems.append(
            _("终止日不得早于计费起始日 %(d)s。") % {"d": contract.billing_from.isoformat()}
        )
    if not (reason or "").strip():
        problems.append(_("请填写终止原因。"))
    later = later_records(contract, at)
    if later:
        problems.append(
            _("终止之后仍有资源交付或变更（资源 %(ids)s），请先更正。")
            % {"ids": "、".join(f"#{pk}" for pk in later)}
        )
    signed = signed_months_from(contract, at)
    if signed:
        problems.append(
            _(
                "已签认的 %(m)s 月度服务资源统计表涵盖终止之后的服务；已签认的统计表不能更改，"
                "请乙方先出具更正版本。"
            )
            % {"m": "、".join(signed)}
        )
    preview.resources = list(
        resources_active_at(contract, at).select_related("catalog_item").order_by("pk")
    )
    return preview


@transaction.atomic
def contract_terminate(
    *,
    actor: User,
    contract: Contract,
    notice_given_on: date,
    terminates_on: date,
    reason: str,
) -> Contract:
    """Record the early termination of ``contract`` (see the module docstring)."""
    contract = Contract.objects.select_for_update().prefetch_related("parties").get(pk=contract.pk)
    lifecycle.LIFECYCLE_ACTIONS.require("terminate", actor, contract)
    preview = termination_preview(
        contract=contract,
        notice_given_on=notice_given_on,
        terminates_on=terminates_on,
        reason=reason,
    )
    if not preview.ok:
        raise ApplicationError(
            _("不能登记提前终止：%(p)s") % {"p": "；".join(preview.problems)},
            extra={"problems": preview.problems},
        )
    resources = list(
        Resource.objects.select_for_update().filter(pk__in=[r.pk for r in preview.resources])
    )
    moved = close_at(resources, preview.at)
    before = {"status": contract.status, "terminates_on": None, "termination_notice_on": None}
    contract.termination_notice_on = notice_given_on
    contract.terminates_on = terminates_on
    contract.termination_reason = reason.strip()
    contract.full_clean(validate_unique=False)
    contract.save(
        update_fields=[
            "termination_notice_on",
            "terminates_on",
            "termination_reason",
            "updated_at",
        ]
    )
    audit_log(
        actor=actor,
        action="contract.terminate",
        obj=contract,
        before=before,
        after={
            "termination_notice_on": notice_given_on.isoformat(),
            "terminates_on": terminates_on.isoformat(),
            "reason": contract.termination_reason,
            "resources_closed": moved,
        },
    )
    lifecycle.contract_refresh_state(contract=contract, actor=actor)
    citation = cite(contract, "termination_notice_days")
    clause = (
        _("（合同第 %(c)s 条：“%(q)s”）") % {"c": citation.clause, "q": citation.quote}
        if citation.clause
        else ""
    )
    notify_parties(
        key=f"contract-terminate:{contract.pk}",
        contracts=[contract],
        roles=[r for r in PartyRole.values if r != PartyRole.BUREAU],
        subject=_("合同 %(c)s 提前终止（最后服务日 %(t)s）")
        % {"c": contract.code, "t": terminates_on.isoformat()},
        body="\n".join(
            [
                f"{contract.code} {contract.name}",
                _("甲方已登记本合同提前终止：书面通知日 %(n)s，最后服务日 %(t)s%(clause)s。")
                % {
                    "n": notice_given_on.isoformat(),
                    "t": terminates_on.isoformat(),
                    "clause": clause,
                },
                _("终止原因：%(r)s") % {"r": contract.termination_reason},
                _(
                    "计费至 %(t)s 24:00；届时在用的 %(k)s 项资源已于该时刻关闭，此后不再出具月度"
                    "服务资源统计表，也不再受理资源申请。请按合同约定开展退出服务工作。"
                )
                % {"t": terminates_on.isoformat(), "k": len(moved)},
            ]
        ),
    )
    return contract
