"""Billing's menu entries and home-page cards (registered from ``BillingConfig.ready``).

The three administrators (三员分立) see none of it: no menu entry, no card, and the selectors
give them nothing.
"""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing import selectors
from billing.models import Statement, StatementStatus
from billing.services.engine import month_billing_bounds
from billing.services.statements import statement_due_date
from govcloud import home, navigation
from govcloud.dates import month_label, previous_month
from govcloud.models import ContractParty, OrganizationKind, PartyRole, User
from govcloud.selectors import contract_ids_for_user

_NEXT_STEP = {
    None: gettext_lazy("待生成"),
    StatementStatus.DRAFT: gettext_lazy("待提交"),
    StatementStatus.DISPUTED: gettext_lazy("有异议，待出具新版本"),
    StatementStatus.ESCALATED: gettext_lazy("争议审计中"),
    StatementStatus.SUBMITTED: gettext_lazy("已提交，待签认"),
    StatementStatus.SIGNED: gettext_lazy("已签认"),
    StatementStatus.SUPERSEDED: gettext_lazy("已签认"),
}


def _vendor_card(user: User) -> home.Card:
    """Last month's statement of each contract the vendor signs: to generate, to submit."""
    last_month = previous_month()
    year, month, period = last_month.year, last_month.month, month_label(last_month)
    # One query (the card's query budget): the contracts whose statements the user's
    # organisation signs as the vendor.
    parties = ContractParty.objects.filter(
        organization_id=user.organization_id,
        role=PartyRole.VENDOR,
        signoff_order__isnull=False,
        contract_id__in=contract_ids_for_user(user),
    ).select_related("contract__successor")
    contracts = []
    for party in parties:
        lower, upper = month_billing_bounds(party.contract, year, month)
        if lower < upper:  # the month is inside the contract's billing window
            contracts.append(party.contract)
    latest: dict[int, Statement] = {}
    for statement in Statement.objects.filter(
        contract__in=contracts, year=year, month=month
    ).order_by("version"):
        latest[statement.contract_id] = statement
    statements = reverse("statement_list")
    actions = []
    open_count = 0
    for contract in contracts:
        statement = latest.get(contract.pk)
        status = statement.status if statement else None
        if status in (None, StatementStatus.DRAFT, StatementStatus.DISPUTED):
            open_count += 1
        url = (
            reverse("statement_detail", kwargs={"pk": statement.pk})
            if statement
            else f"{statements}?contract={contract.pk}"
        )
        actions.append(
            home.Action(
                f"{contract.code} {period} {_NEXT_STEP[status]}",
                url,
                primary=status in (None, StatementStatus.DRAFT, StatementStatus.DISPUTED),
            )
        )
    if contracts:
        # Each contract's own due day (its term ``statement_due_working_day``), or none.
        dues = []
        for contract in contracts:
            due, provisional = statement_due_date(contract, year, month)
            if due is None:
                dues.append(_("%(c)s 合同未约定提交期限") % {"c": contract.code})
            else:
                dues.append(
                    _("%(c)s 须在 %(d)s（次月第%(n)s个工作日%(p)s）前提交")
                    % {
                        "c": contract.code,
                        "d": due.isoformat(),
                        "n": contract.statement_due_working_day,
                        "p": _("，暂定") if provisional else "",
                    }
                )
        text = _("上月（%(p)s）统计表：%(dues)s。") % {"p": period, "dues": "；".join(dues)}
    else:
        text = _("上月（%(p)s）不在所签合同的计费期内，无需出具统计表。") % {"p": period}
    # Earlier months still waiting for the vendor: drafts, and disputes not yet answered.
    waiting = (
        Statement.objects.filter(contract__in=[p.contract_id for p in parties])
        .annotate(answered=selectors.answered_by_newer_version())
        .aggregate(
            drafts=Count("pk", filter=Q(status=StatementStatus.DRAFT)),
            disputed=Count("pk", filter=Q(status=StatementStatus.DISPUTED, answered=False)),
        )
    )
    if waiting["drafts"]:
        actions.append(
            home.Action(
                _("待提交的草稿"),
                f"{statements}?status={StatementStatus.DRAFT}",
                count=waiting["drafts"],
            )
        )
    if waiting["disputed"]:
        actions.append(
            home.Action(
                _("有异议待出具新版本"),
                f"{statements}?status={StatementStatus.DISPUTED}&unanswered=1",
                count=waiting["disputed"],
            )
        )
    pending = open_count or waiting["drafts"] or waiting["disputed"]
    title = _("本月统计表待生成/待提交") if pending else _("月度服务资源统计表")
    actions.append(home.Action(_("全部统计表"), statements))
    return home.Card(title, text, actions, order=25)


def _signer_card(user: User) -> home.Card:
    awaiting = selectors.statements_awaiting(user=user)
    statements = reverse("statement_list")
    url = (
        reverse("statement_detail", kwargs={"pk": awaiting[0].pk})
        if len(awaiting) == 1
        else f"{statements}?awaiting=me"
    )
    return home.Card(
        _("待确认的统计表"),
        _("乙方提交的月度服务资源统计表，按签认顺序轮到本单位确认；有异议可退回乙方。"),
        [
            home.Action(_("待确认"), url, count=len(awaiting), primary=True),
            home.Action(_("全部统计表"), statements),
            home.Action(_("使用单位账单"), reverse("bill_list")),
        ],
        order=25,
    )


def _auditor_card(user: User) -> home.Card:
    escalated = (
        selectors.statement_list_for_user(user=user)
        .filter(status=StatementStatus.ESCALATED)
        .count()
    )
    statements = reverse("statement_list")
    return home.Card(
        _("统计表争议"),
        _("争议超过合同约定工作日数的统计表提交审计单位确定；也可只读查看全部统计表与账单。"),
        [
            home.Action(
                _("待审计的争议"),
                f"{statements}?status={StatementStatus.ESCALATED}",
                count=escalated,
                primary=True,
            ),
            home.Action(_("全部统计表"), statements),
        ],
        order=25,
    )


def _department_card(user: User) -> home.Card:
    count = selectors.bill_list_for_user(user=user).count()
    return home.Card(
        _("本单位账单"),
        _("月度统计表签认后，本单位的账单（明细、按业务系统小计、应付金额及增值税）在此查看。"),
        [home.Action(_("本单位账单"), reverse("bill_list"), count=count, primary=True)],
        order=30,
    )


def billing_cards(user: User) -> list[home.Card]:
    if not selectors.sees_bills(user) or user.organization_id is None:
        return []
    kind = user.kind
    if kind == OrganizationKind.DEPARTMENT:
        return [_department_card(user)]
    if kind == OrganizationKind.VENDOR:
        return [_vendor_card(user)]
    if kind in (OrganizationKind.BUREAU, OrganizationKind.SUPERVISOR):
        return [_signer_card(user)]
    if kind == OrganizationKind.AUDITOR:
        return [_auditor_card(user)]
    return []


def register_home() -> None:
    for item in (
        navigation.NavItem(gettext_lazy("月度统计表"), "statement_list", selectors.sees_statements),
        navigation.NavItem(gettext_lazy("账单"), "bill_list", selectors.sees_bills),
    ):
        navigation.register(item, before="contract_list")
    home.register(billing_cards)
