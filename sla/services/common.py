"""Helpers every SLA service uses: which party the actor is on the contract, service years,
uploads, transitions. Who may do business and which party a user plays come from
``govcloud.access``; the business date from ``govcloud.dates``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Protocol, TypeVar

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.db.models.options import Options
from django.utils import timezone
from django.utils.translation import gettext as _

from govcloud.access import party_role_of, require_staff
from govcloud.dates import business_date, business_today
from govcloud.exceptions import ActionForbidden, ApplicationError
from govcloud.models import Contract, OrganizationKind, PartyRole, User
from govcloud.terms import cite, clause_of
from govcloud.workflow import check_transition
from sla import periods

_M = TypeVar("_M", bound=models.Model)


class StatusRecord(Protocol):
    """A model instance with a ``status`` choices field (what ``set_status`` moves)."""

    status: str
    _meta: ClassVar[Options[Any]]


MAX_UPLOAD_BYTES = 20 * 1024 * 1024
ALLOWED_SUFFIXES = (
    ".pdf",
    ".doc",
    ".docx",
    ".xls",
    ".xlsx",
    ".ppt",
    ".pptx",
    ".png",
    ".jpg",
    ".jpeg",
    ".txt",
    ".zip",
    ".ofd",
)


def require_party(actor: User, contract: Contract, *roles: str) -> str:
    """The actor's party role when it is one of ``roles``; ActionForbidden otherwise."""
    require_staff(actor)
    role = party_role_of(actor, contract)
    if role not in roles:
        raise ActionForbidden(
            _("只有本合同的%(roles)s可以执行此操作。")
            % {"roles": "、".join(str(PartyRole(r).label) for r in roles)}
        )
    return role


def require_department(actor: User, contract: Contract) -> None:
    """A department user of a department under the contract's bureau."""
    require_staff(actor)
    org = actor.organization
    bureau = contract.bureau
    if (
        org is None
        or org.kind != OrganizationKind.DEPARTMENT
        or bureau is None
        or org.parent_id != bureau.pk
    ):
        raise ActionForbidden(_("只有本合同的使用单位可以执行此操作。"))


class NoScorecard(ApplicationError):
    """The contract's terms include no SLA annex: nothing of the scorecard applies (a 400)."""


def has_scorecard(contract: Contract) -> bool:
    """Whether the contract's terms include an SLA annex (``Contract.scorecard``, DESIGN §4a)."""
    return bool(contract.scorecard)


def no_scorecard_message(contract: Contract) -> str:
    """Why nothing of the scorecard applies, citing the contract's clause."""
    citation = cite(contract, "scorecard")
    where = _("（见合同%(c)s）") % {"c": citation.clause} if citation.clause else ""
    return _("合同 %(code)s 没有服务水平协议%(where)s：不进行服务水平考核，不扣分、不扣款。") % {
        "code": contract.code,
        "where": where,
    }


def require_scorecard(contract: Contract) -> None:
    """Refuse scorecard work on a contract whose terms include no SLA annex."""
    if not has_scorecard(contract):
        raise NoScorecard(
            no_scorecard_message(contract),
            extra={"term": "scorecard", "clause": clause_of(contract, "scorecard")},
        )


def utilization_rule(contract: Contract) -> tuple[Decimal, Decimal] | None:
    """The contract's utilization rule (threshold %, charge % of the annual fee), if it has one.

    Both terms are needed (BT-2025 附件2 7.3: below 30 % → 20 %); either missing, or no SLA
    annex at all, means no rule.
    """
    threshold, charge = contract.utilization_threshold_pct, contract.utilization_charge_pct
    if not has_scorecard(contract) or threshold is None or charge is None:
        return None
    return _plain(Decimal(threshold)), _plain(Decimal(charge))


def _plain(value: Decimal) -> Decimal:
    """20.00 → 20 (shown as "20%", never "2E+1")."""
    return Decimal(format(value.normalize(), "f"))


def maintenance_rule_text(contract: Contract) -> str:
    """What makes a maintenance planned under the contract's terms, in words."""
    parts = []
    hours = contract.maintenance_notice_hours
    if hours is not None:
        parts.append(_("提前%(h)s小时通知甲方") % {"h": hours})
    approvers = contract.maintenance_approvers
    if approvers:
        parts.append(
            _("经%(who)s同意") % {"who": "、".join(str(PartyRole(r).label) for r in approvers)}
        )
    if not parts:
        return _("事先报告的计划内维护")
    return _("%(rule)s的计划内维护") % {"rule": "并".join(parts)}


def has_supervisor(contract: Contract) -> bool:
    return any(p.role == PartyRole.SUPERVISOR for p in contract.parties.all())


def confirming_roles(contract: Contract) -> list[str]:
    """Who confirms SLA events: the bureau, and the supervisor where the contract has one."""
    roles = [PartyRole.BUREAU.value]
    if has_supervisor(contract):
        roles.append(PartyRole.SUPERVISOR.value)
    return roles


def contract_years(contract: Contract) -> list[periods.ServiceYear]:
    return periods.service_years(contract.service_start, contract.service_end)


def year_of_day(contract: Contract, day: date, *, field: str = "") -> int:
    """The service year (its label) containing ``day``; refused outside the service period."""
    year = periods.service_year_of(contract.service_start, contract.service_end, day)
    if year is None:
        raise ApplicationError(
            _("%(day)s 不在合同服务期（%(start)s 至 %(end)s）内。")
            % {
                "day": day.isoformat(),
                "start": contract.service_start.isoformat(),
                "end": contract.service_end.isoformat(),
            },
            extra={"field": field} if field else None,
        )
    return year.label


def year_of_moment(contract: Contract, moment: datetime, *, field: str = "") -> int:
    return year_of_day(contract, business_date(moment), field=field)


def service_year(contract: Contract, label: int) -> periods.ServiceYear:
    """The service year named ``label``; ApplicationError when the contract has none such."""
    year = periods.service_year_by_label(contract.service_start, contract.service_end, label)
    if year is None:
        raise ApplicationError(
            _("合同 %(code)s 没有 %(year)s 服务年度。") % {"code": contract.code, "year": label},
            extra={"field": "service_year"},
        )
    return year


def current_year_label(contract: Contract, today: date | None = None) -> int:
    """The service year of today; before the start the first, after the end the last."""
    years = contract_years(contract)
    today = today or business_today()
    for year in years:
        if today in year:
            return year.label
    return years[0].label if today < years[0].start else years[-1].label


def require_text(value: str | None, message: str, field: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ApplicationError(message, extra={"field": field})
    return text


def require_aware(moment: datetime | None, message: str, field: str) -> datetime:
    if moment is None or timezone.is_naive(moment):
        raise ApplicationError(message, extra={"field": field})
    return moment


def validate_upload(upload: UploadedFile | None, *, required: bool, field: str) -> None:
    if upload is None:
        if required:
            raise ApplicationError(_("请上传文件。"), extra={"field": field})
        return
    name = upload.name or "file"
    if upload.size is None:
        raise RuntimeError(f"Uploaded file {name!r} has no size (Django always sets one).")
    if upload.size > MAX_UPLOAD_BYTES:
        raise ApplicationError(_("文件 %(n)s 超过 20 MB。") % {"n": name}, extra={"field": field})
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        raise ApplicationError(
            _("文件 %(n)s 的类型不允许上传。") % {"n": name}, extra={"field": field}
        )


def set_status(obj: StatusRecord, transitions: Mapping[str, Set[str]], target: str) -> None:
    field = obj._meta.get_field("status")
    if not isinstance(field, models.Field):
        raise RuntimeError(f"{type(obj).__name__}.status is not a concrete model field.")
    check_transition(
        transitions,
        current=obj.status,
        target=target,
        labels={str(k): str(v) for k, v in field.choices or ()},
    )
    obj.status = target


def full_clean(obj: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """``full_clean`` with the first message as an ApplicationError (nothing is saved)."""
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            field, errors = next(iter(exc.message_dict.items()))
            extra: dict[str, Any] = {"fields": exc.message_dict}
            if field != "__all__":
                extra["field"] = field
            raise ApplicationError(errors[0], extra=extra) from exc
        raise ApplicationError("；".join(exc.messages)) from exc


def lock(model: type[_M], pk: Any) -> _M:
    return model._default_manager.select_for_update(of=("self",)).get(pk=pk)
