"""What the SLA portal pages share beyond ``govcloud.web``: the service year of a request,
the 403 of a create page (from ``contract_sla_actions``) or of an edit page (from the record's
``ActionRules``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _

from govcloud.access import role_on_contract
from govcloud.exceptions import ApplicationError
from govcloud.models import Contract
from govcloud.workflow import ActionRules
from sla import periods
from sla.services import actions
from sla.services.common import contract_years, current_year_label

__all__ = [
    "require_contract_action",
    "require_record_action",
    "role_on_contract",
    "status_filter",
    "year_of_request",
    "years_context",
]


def year_of_request(request: HttpRequest, contract: Contract) -> periods.ServiceYear:
    """The service year chosen with ``?year=`` (default: the current one)."""
    years = contract_years(contract)
    raw = request.GET.get("year") or request.POST.get("year") or ""
    if raw.isdigit():
        for year in years:
            if year.label == int(raw):
                return year
    label = current_year_label(contract)
    return next(y for y in years if y.label == label)


def years_context(contract: Contract, year: periods.ServiceYear) -> dict[str, Any]:
    return {"contract": contract, "year": year, "years": contract_years(contract)}


def require_contract_action(user: Any, contract: Contract, action: str) -> frozenset[str]:
    """403 unless ``user`` may do ``action`` on ``contract`` (create pages); what it may do."""
    available = actions.contract_sla_actions(user=user, contract=contract)
    if action not in available:
        raise PermissionDenied(_("您的单位在本合同中不能办理此事项。"))
    return available


def require_record_action(rules: ActionRules, action: str, user: Any, obj: Any) -> None:
    """403 with the rule's reason unless ``user`` may do ``action`` on ``obj`` now (edit pages).

    The same check the service runs before it acts, so a page is never offered for a change
    the service would refuse (wrong party or wrong state alike)."""
    try:
        rules.require(action, user, obj)
    except ApplicationError as exc:
        raise PermissionDenied(exc.message) from exc


def status_filter(request: HttpRequest, queryset: Any, choices: Any) -> tuple[Any, str]:
    """``?status=`` applied when it is one of ``choices``."""
    status = request.GET.get("status", "")
    if status in dict(choices):
        return queryset.filter(status=status), status
    return queryset, ""
