"""The exit (退出): the staff-with-access register, and the data return and deletion records.

Readings of the contract texts this module rests on:

* **Staff register** (BT-2025 附件5 2(6)): the vendor keeps the 《接触甲方信息人员名单》 — its
  technical operations and supply-chain staff and anyone else with access to the bureau's data
  or operations — and each person signs a 《人员信息保密协议》 "并在甲方备案". Where the term
  ``staff_register_required`` is set, the vendor keeps the entries on the platform (with the
  signed undertaking as a file) and submits the register as a deliverable (kind
  ``staff_register``): the platform renders the register as it stands into a PDF, the
  submission's document; the bureau's acceptance of it is the 备案. A register submitted without
  the bureau having asked by a date is due the day it is submitted (never late); the bureau may
  ask for it by a date through the deliverables page, and the vendor's next submission answers
  that request. The undertaking is signed before the access starts (the text: the staff "需要
  …签订", a condition of the access), so ``undertaking_signed_on <= access_from``. An entry ends
  when its access is revoked (附件4 (4) "及时取消原云服务商对资源的电子访问权限"): the date is
  recorded, the entry stays. Any change to an entry after a submission makes it wait for the
  next submission (``register`` cleared). Department users never see the register.
* **Return and deletion records** (BT-2025 附件4; JZ-2026 五.11): per business system, the
  vendor records what it returned or deleted, how, when and in front of whom. A deletion needs
  the bureau's written authorisation or request (BT 附件4 3(3) "通过书面授权"; JZ 五.11 "根据甲方
  要求需删除的数据") and covers the backups (BT "删除数据及所有备份"; JZ "包括相关备份文件");
  storage media are cleared or physically destroyed (BT 附件4 3(4)), with at least one witness
  recorded, the text asking the process to be recorded and supervised ("记录介质清理过程，
  并提请管理方、监理方对过程进行监督"). A return lists what was handed over (附件4 2(1)
  "根据移交数据清单").
* **The vendor's certificate** (JZ 五.11 "将删除情况书面(加盖公章)报至甲方"): the record is
  rendered as a PDF certificate and signed with the *vendor's organisation key* (PAdES, the
  platform's stand-in for the company seal, as on the monthly statements), with the passphrase
  the signer types; the platform holds no key it could sign with by itself. Signing submits the
  record; an objection sends it back, and the vendor signs a new certificate (``round`` + 1).
* **Confirmation**: by the parties the terms name for ``data_deletion`` (BT-2025 附件4 3(4):
  管理方 and 监理方 — bureau and supervisor), through the joint confirmation (会签); where the
  terms name none (JZ-2026: the report goes "至甲方") the bureau alone confirms or objects with
  a reason. The same parties confirm a *return* record: the texts name no other confirming
  party for it, and it is the other half of the same exit.
* **Departments** hear about the records of their own systems (e-mail with the certificate) and
  may read those records (not drafts); nothing else of the exit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from billing.models import Resource
from govcloud.access import party_role_of
from govcloud.audit import audit_log, snapshot
from govcloud.dates import business_today
from govcloud.exceptions import ActionForbidden, ApplicationError, InvalidTransition
from govcloud.joint import joint_for, joint_open, joint_restart, required_roles, roles_text
from govcloud.models import (
    BusinessSystem,
    Contract,
    JointConfirmation,
    JointSubject,
    PartyRole,
    User,
)
from govcloud.outbox import Attachment
from govcloud.pdf.render import render_pdf
from govcloud.pdf.signing import (
    SigningError,
    SigningKeyMissing,
    SigningSecret,
    WrongSigningSecret,
    party_key,
    party_signer,
    prepare_signature_fields,
    sha256_hex,
    sign_pdf,
)
from govcloud.selectors import contract_ids_for_user
from govcloud.terms import cite, clause_of
from govcloud.workflow import ActionRules, check_transition
from sla import notifications
from sla.models import (
    DELETION_METHODS,
    EXIT_TRANSITIONS,
    RETURN_METHODS,
    Deliverable,
    DeliverableKind,
    DeliverableStatus,
    ExitKind,
    ExitMethod,
    ExitRecord,
    ExitStatus,
    ExitWitness,
    MediaMethod,
    StaffAccessEntry,
    StaffDuty,
    WitnessParty,
)
from sla.selectors import is_department_user, is_party_user
from sla.services.clocks import end_of_day
from sla.services.common import (
    full_clean,
    require_party,
    require_text,
    set_status,
    validate_upload,
    year_of_day,
)
from sla.services.deliverables import deliverable_submit, handover_plan_due

SUBJECT = JointSubject.DATA_DELETION
CERTIFICATE_FIELD = "vendor"
RECORD_FIELDS = (
    "status",
    "kind",
    "method",
    "media_method",
    "performed_on",
    "scope_data",
    "scope_backups",
    "scope_media",
    "authorisation_ref",
    "round",
    "certificate_sha256",
    "confirmed_at",
    "objection",
)
STAFF_FIELDS = (
    "person_name",
    "employer",
    "duty",
    "position",
    "access_from",
    "access_to",
    "undertaking_signed_on",
    "register",
)


class SigningKeyRefused(ApplicationError):
    """The passphrase does not open the vendor's signing key; nothing was changed."""

    status_code = 403


class SigningKeyUnavailable(ApplicationError):
    """No signing key is installed for the vendor (or it cannot be used)."""

    status_code = 409


class NoStaffRegister(ApplicationError):
    """The contract's terms ask for no staff register (a 400, like any refusal)."""


# ================================================================ what may be done now


def _may_move(obj: Any, target: str) -> None:
    field = obj._meta.get_field("status")
    check_transition(
        EXIT_TRANSITIONS,
        current=obj.status,
        target=target,
        labels={str(k): str(v) for k, v in field.choices},
    )


def require_staff_register(contract: Contract) -> None:
    """Refuse register work on a contract whose terms ask for none (JZ-2026)."""
    if not contract.staff_register_required:
        citation = cite(contract, "staff_register_required")
        raise NoStaffRegister(
            _("合同 %(code)s 未约定提交《接触甲方信息人员名单》%(c)s。")
            % {
                "code": contract.code,
                "c": _("（见合同%(c)s）") % {"c": citation.clause} if citation.clause else "",
            },
            extra={"term": "staff_register_required"},
        )


def _register_under_review(contract: Contract) -> Deliverable | None:
    return (
        Deliverable.objects.filter(
            contract=contract,
            kind=DeliverableKind.STAFF_REGISTER,
            status=DeliverableStatus.SUBMITTED,
        )
        .order_by("-pk")
        .first()
    )


def _staff_create(user: Any, contract: Contract) -> None:
    require_staff_register(contract)
    require_party(user, contract, PartyRole.VENDOR)


def _staff_submit(user: Any, contract: Contract) -> None:
    _staff_create(user, contract)
    if _register_under_review(contract) is not None:
        raise InvalidTransition(_("上一次提交的名单正在甲方审核中，审核后再提交。"))


def _record_create(user: Any, contract: Contract) -> None:
    require_party(user, contract, PartyRole.VENDOR)


def _handover_plan_create(user: Any, contract: Contract) -> None:
    require_party(user, contract, PartyRole.BUREAU)
    if handover_plan_due(contract) is None:
        raise InvalidTransition(_("本合同未约定提交交接计划的期限。"))
    if Deliverable.objects.filter(contract=contract, kind=DeliverableKind.HANDOVER_PLAN).exists():
        raise InvalidTransition(_("本合同的交接计划已登记。"))


#: What a party may start on a contract's exit page (``obj`` is the contract).
EXIT_CONTRACT_ACTIONS = ActionRules(
    {
        "staff_create": _staff_create,
        "staff_submit": _staff_submit,
        "record_create": _record_create,
        "handover_plan_create": _handover_plan_create,
    }
)


def exit_contract_actions(*, user: Any, contract: Contract) -> frozenset[str]:
    return EXIT_CONTRACT_ACTIONS.available(user, contract)


def _staff_edit(user: Any, entry: StaffAccessEntry) -> None:
    require_staff_register(entry.contract)
    require_party(user, entry.contract, PartyRole.VENDOR)
    if entry.access_to is not None:
        raise InvalidTransition(_("该人员的接触权限已取消，登记不能再修改。"))


def _staff_end(user: Any, entry: StaffAccessEntry) -> None:
    require_staff_register(entry.contract)
    require_party(user, entry.contract, PartyRole.VENDOR, PartyRole.BUREAU)
    if entry.access_to is not None:
        raise InvalidTransition(_("该人员的接触权限已取消。"))


STAFF_ACTIONS = ActionRules({"edit": _staff_edit, "end": _staff_end})


def staff_available_actions(*, user: Any, obj: StaffAccessEntry) -> frozenset[str]:
    return STAFF_ACTIONS.available(user, obj)


def _record_edit(user: Any, record: ExitRecord) -> None:
    require_party(user, record.contract, PartyRole.VENDOR)
    if record.status not in (ExitStatus.DRAFT, ExitStatus.OBJECTED):
        raise InvalidTransition(_("已签署待确认或已确认的记录不能修改。"))


def _record_sign(user: Any, record: ExitRecord) -> None:
    require_party(user, record.contract, PartyRole.VENDOR)
    _may_move(record, ExitStatus.SUBMITTED)


def _bureau_alone(user: Any, record: ExitRecord, target: str) -> None:
    joint = required_roles(record.contract, SUBJECT)
    if joint is not None:
        raise ActionForbidden(
            _("本记录须经%(roles)s共同确认，请在会签中确认或提出异议。")
            % {"roles": roles_text(joint)}
        )
    require_party(user, record.contract, PartyRole.BUREAU)
    _may_move(record, target)


def _record_confirm(user: Any, record: ExitRecord) -> None:
    _bureau_alone(user, record, ExitStatus.CONFIRMED)


def _record_object(user: Any, record: ExitRecord) -> None:
    _bureau_alone(user, record, ExitStatus.OBJECTED)


EXIT_RECORD_ACTIONS = ActionRules(
    {
        "edit": _record_edit,
        "sign": _record_sign,
        "confirm": _record_confirm,
        "object": _record_object,
    }
)


def exit_record_available_actions(*, user: Any, obj: ExitRecord) -> frozenset[str]:
    return EXIT_RECORD_ACTIONS.available(user, obj)


def confirming_roles(contract: Contract) -> list[str]:
    """Who confirms a record: the roles the terms name for ``data_deletion``, else the bureau."""
    return required_roles(contract, SUBJECT) or [str(PartyRole.BUREAU)]


# ================================================================ scoped reads


def staff_list_for_user(*, user: User) -> QuerySet[StaffAccessEntry]:
    """The register: the contract's parties (bureau, vendor, supervisor, auditor); never a
    department (the register names the vendor's staff, not the department's business)."""
    qs = StaffAccessEntry.objects.select_related("contract", "register", "created_by")
    if not is_party_user(user):
        return qs.none()
    if user.is_superuser:
        return qs
    return qs.filter(contract_id__in=contract_ids_for_user(user))


def exit_record_list_for_user(*, user: User) -> QuerySet[ExitRecord]:
    """Parties: every record of their contracts; a department: the records of its own systems
    once the vendor signed them (drafts are the vendor's working copies)."""
    qs = ExitRecord.objects.select_related(
        "contract", "system__department", "signed_by", "confirmed_by", "objected_by"
    )
    if is_party_user(user):
        return qs if user.is_superuser else qs.filter(contract_id__in=contract_ids_for_user(user))
    if is_department_user(user):
        return qs.filter(system__department_id=user.organization_id).exclude(
            status=ExitStatus.DRAFT
        )
    return qs.none()


def contract_systems(contract: Contract) -> QuerySet[BusinessSystem]:
    """The business systems of the contract: those with resources under it, or a record."""
    with_resources = Resource.objects.filter(contract=contract).values("system_id")
    with_records = ExitRecord.objects.filter(contract=contract).values("system_id")
    return (
        BusinessSystem.objects.filter(Q(pk__in=with_resources) | Q(pk__in=with_records))
        .select_related("department")
        .order_by("department__name", "name", "pk")
    )


def recordable_systems(contract: Contract) -> QuerySet[BusinessSystem]:
    """Systems a record may be made for: any of the departments under the contract's bureau."""
    bureau = contract.bureau
    return (
        BusinessSystem.objects.filter(department__parent_id=bureau.pk if bureau else None)
        .select_related("department")
        .order_by("department__name", "name", "pk")
    )


# ================================================================ the staff register


@dataclass(frozen=True)
class StaffEntryData:
    """What the vendor enters for one person (the undertaking file travels beside it)."""

    person_name: str
    employer: str
    duty: str
    access_scope: str
    access_from: date | None
    undertaking_signed_on: date | None
    position: str = ""


def _apply_staff(entry: StaffAccessEntry, data: StaffEntryData) -> None:
    entry.person_name = require_text(data.person_name, _("请填写姓名。"), "person_name")[:60]
    entry.employer = require_text(data.employer, _("请填写所属单位。"), "employer")[:200]
    if data.duty not in StaffDuty.values:
        raise ApplicationError(_("请选择岗位类别。"), extra={"field": "duty"})
    entry.duty = data.duty
    entry.position = (data.position or "").strip()[:120]
    entry.access_scope = require_text(data.access_scope, _("请填写接触范围。"), "access_scope")
    if data.access_from is None:
        raise ApplicationError(_("请填写接触起始日。"), extra={"field": "access_from"})
    if data.undertaking_signed_on is None:
        raise ApplicationError(
            _("请填写《人员信息保密协议》的签订日。"), extra={"field": "undertaking_signed_on"}
        )
    if data.undertaking_signed_on > business_today():
        raise ApplicationError(
            _("保密协议签订日不能晚于今天。"), extra={"field": "undertaking_signed_on"}
        )
    if data.undertaking_signed_on > data.access_from:
        raise ApplicationError(
            _("接触甲方信息前须先签订《人员信息保密协议》：签订日不能晚于接触起始日。"),
            extra={"field": "undertaking_signed_on"},
        )
    entry.access_from = data.access_from
    entry.undertaking_signed_on = data.undertaking_signed_on


def _lock_entry(entry: StaffAccessEntry) -> tuple[StaffAccessEntry, dict[str, Any]]:
    locked = (
        StaffAccessEntry.objects.select_for_update(of=("self",))
        .select_related("contract")
        .get(pk=entry.pk)
    )
    return locked, snapshot(locked, STAFF_FIELDS)


@transaction.atomic
def staff_entry_create(
    *,
    actor: User,
    contract: Contract,
    data: StaffEntryData,
    undertaking_file: UploadedFile | None,
) -> StaffAccessEntry:
    """The vendor adds a person with access, with the undertaking they signed."""
    EXIT_CONTRACT_ACTIONS.require("staff_create", actor, contract)
    entry = StaffAccessEntry(contract=contract, created_by=actor)
    _apply_staff(entry, data)
    validate_upload(undertaking_file, required=True, field="undertaking_file")
    entry.undertaking_file = undertaking_file
    full_clean(entry, exclude=["contract", "undertaking_file"])
    entry.save()
    audit_log(
        actor=actor,
        action="staff_access.create",
        obj=entry,
        after=snapshot(entry, STAFF_FIELDS),
        contract=contract,
    )
    return entry


@transaction.atomic
def staff_entry_update(
    *,
    actor: User,
    entry: StaffAccessEntry,
    data: StaffEntryData,
    undertaking_file: UploadedFile | None = None,
) -> StaffAccessEntry:
    """The vendor corrects an active entry; it waits for the next submission of the register."""
    entry, before = _lock_entry(entry)
    STAFF_ACTIONS.require("edit", actor, entry)
    _apply_staff(entry, data)
    validate_upload(undertaking_file, required=False, field="undertaking_file")
    if undertaking_file is not None:
        entry.undertaking_file = undertaking_file
    entry.register = None
    full_clean(entry, exclude=["contract", "undertaking_file"])
    entry.save()
    audit_log(
        actor=actor,
        action="staff_access.update",
        obj=entry,
        before=before,
        after=snapshot(entry, STAFF_FIELDS),
    )
    return entry


@transaction.atomic
def staff_entry_end(
    *, actor: User, entry: StaffAccessEntry, ended_on: date | None, reason: str = ""
) -> StaffAccessEntry:
    """The access was revoked on ``ended_on`` (附件4 (4)): the entry ends, and stays listed."""
    entry, before = _lock_entry(entry)
    STAFF_ACTIONS.require("end", actor, entry)
    if ended_on is None:
        raise ApplicationError(_("请填写权限取消日期。"), extra={"field": "ended_on"})
    if ended_on > business_today():
        raise ApplicationError(_("权限取消日期不能晚于今天。"), extra={"field": "ended_on"})
    if ended_on < entry.access_from:
        raise ApplicationError(
            _("权限取消日期不能早于接触起始日 %(d)s。") % {"d": entry.access_from.isoformat()},
            extra={"field": "ended_on"},
        )
    entry.access_to = ended_on
    entry.end_reason = (reason or "").strip()[:200]
    entry.ended_at, entry.ended_by = timezone.now(), actor
    entry.register = None
    entry.save()
    audit_log(
        actor=actor,
        action="staff_access.end",
        obj=entry,
        before=before,
        after={**snapshot(entry, STAFF_FIELDS), "reason": entry.end_reason},
    )
    role = party_role_of(actor, entry.contract)
    if role == PartyRole.BUREAU:
        notifications.send(
            key=f"staff:{entry.pk}:ended",
            contract=entry.contract,
            recipients=notifications.party_emails(entry.contract, PartyRole.VENDOR),
            subject=_("甲方登记取消接触权限：%(n)s") % {"n": entry.person_name},
            body=_("%(n)s（%(e)s）的接触权限自 %(d)s 起取消。%(r)s\n请及时取消其电子访问权限。")
            % {
                "n": entry.person_name,
                "e": entry.employer,
                "d": ended_on.isoformat(),
                "r": entry.end_reason,
            },
            url=notifications.link("sla_exit_staff_list", entry.contract_id),
        )
    return entry


def register_entries(contract: Contract) -> list[StaffAccessEntry]:
    return list(
        StaffAccessEntry.objects.filter(contract=contract)
        .select_related("register")
        .order_by("access_to", "person_name", "pk")
    )


def _register_deliverable(*, actor: User, contract: Contract) -> Deliverable:
    """The deliverable this submission answers: the bureau's open request (pending, or sent
    back), else a new one due today (a register nobody asked for by a date is never late)."""
    open_request = (
        Deliverable.objects.select_for_update(of=("self",))
        .filter(
            contract=contract,
            kind=DeliverableKind.STAFF_REGISTER,
            status__in=[DeliverableStatus.PENDING, DeliverableStatus.REJECTED],
        )
        .order_by("due_date", "pk")
        .first()
    )
    if open_request is not None:
        return open_request
    today = business_today()
    day = min(max(today, contract.service_start), contract.service_end)
    deliverable = Deliverable(
        contract=contract,
        service_year=year_of_day(contract, day),
        kind=DeliverableKind.STAFF_REGISTER,
        title=_("接触甲方信息人员名单（%(d)s）") % {"d": today.isoformat()},
        due_date=today,
        due_at=end_of_day(today),
        created_by=actor,
    )
    full_clean(deliverable, exclude=["contract"])
    deliverable.save()
    audit_log(
        actor=actor,
        action="deliverable.create",
        obj=deliverable,
        after={"kind": deliverable.kind, "due_date": today, "for": "staff_register"},
        contract=contract,
    )
    return deliverable


def register_pdf_bytes(contract: Contract, entries: Sequence[StaffAccessEntry]) -> bytes:
    today = business_today()
    return render_pdf(
        "reports/exit_staff_register.html",
        {
            "report_title": contract.name,
            "report_subtitle": _("接触甲方信息人员名单"),
            "contract": contract,
            "entries": entries,
            "today": today,
            "active_count": sum(1 for e in entries if e.is_active(today)),
            "term": cite(contract, "staff_register_required"),
            "vendor": _vendor_org(contract),
            "bureau": contract.bureau,
        },
    )


@transaction.atomic
def staff_register_submit(*, actor: User, contract: Contract, note: str = "") -> Deliverable:
    """The vendor submits the register as it stands (rendered to PDF) for the bureau to file."""
    Contract.objects.select_for_update().filter(pk=contract.pk).first()
    EXIT_CONTRACT_ACTIONS.require("staff_submit", actor, contract)
    entries = register_entries(contract)
    if not entries:
        raise ApplicationError(_("名单中还没有人员，请先登记。"))
    deliverable = _register_deliverable(actor=actor, contract=contract)
    pdf = register_pdf_bytes(contract, entries)
    name = f"staff-register-{contract.code}-{business_today():%Y%m%d}.pdf"
    deliverable_submit(
        actor=actor,
        deliverable=deliverable,
        document=SimpleUploadedFile(name, pdf, content_type="application/pdf"),
        note=note,
    )
    StaffAccessEntry.objects.filter(pk__in=[e.pk for e in entries]).update(register=deliverable)
    deliverable.refresh_from_db()
    audit_log(
        actor=actor,
        action="staff_access.register_submit",
        obj=deliverable,
        after={"entries": [e.pk for e in entries], "sha256": sha256_hex(pdf)},
        contract=contract,
    )
    return deliverable


def entry_filing(entry: StaffAccessEntry) -> tuple[str, str]:
    """(state, label) of an entry's 备案: waiting for submission, under review, filed, sent back."""
    register = entry.register
    if register is None:
        return "pending", _("待提交")
    if register.status == DeliverableStatus.ACCEPTED:
        return "accepted", _("已备案")
    if register.status == DeliverableStatus.REJECTED:
        return "rejected", _("名单被退回")
    return "submitted", _("待甲方备案")


# ================================================================ return and deletion records


@dataclass(frozen=True)
class ExitRecordData:
    """What the vendor records about one return or deletion."""

    kind: str
    method: str
    performed_on: date | None
    scope_data: bool
    scope_backups: bool
    scope_media: bool
    scope_note: str
    media_method: str = ""
    method_detail: str = ""
    authorisation_ref: str = ""
    witnesses: tuple[tuple[str, str], ...] = ()


def _clean_witnesses(witnesses: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    cleaned = []
    for party, name in witnesses:
        if party not in WitnessParty.values:
            raise ApplicationError(
                _("见证方“%(p)s”无效（可选：%(ok)s）。")
                % {"p": party, "ok": "、".join(str(label) for label in WitnessParty.labels)},
                extra={"field": "witnesses"},
            )
        name = (name or "").strip()
        if not name:
            raise ApplicationError(_("请填写见证人姓名。"), extra={"field": "witnesses"})
        cleaned.append((party, name[:60]))
    return cleaned


def _apply_record(record: ExitRecord, data: ExitRecordData) -> list[tuple[str, str]]:
    """Validate ``data`` onto ``record``; the witnesses to store."""
    if data.kind not in ExitKind.values:
        raise ApplicationError(_("请选择记录类型（返还或删除）。"), extra={"field": "kind"})
    allowed = DELETION_METHODS if data.kind == ExitKind.DELETION else RETURN_METHODS
    if data.method not in allowed:
        raise ApplicationError(
            _("%(k)s的方式应为：%(m)s。")
            % {
                "k": ExitKind(data.kind).label,
                "m": "、".join(str(ExitMethod(m).label) for m in sorted(allowed)),
            },
            extra={"field": "method"},
        )
    detail = (data.method_detail or "").strip()
    if data.method == ExitMethod.OTHER and not detail:
        raise ApplicationError(
            _("方式为“其他”时请说明具体方式。"), extra={"field": "method_detail"}
        )
    if data.performed_on is None:
        raise ApplicationError(_("请填写实施日期。"), extra={"field": "performed_on"})
    if data.performed_on > business_today():
        raise ApplicationError(_("实施日期不能晚于今天。"), extra={"field": "performed_on"})
    contract = record.contract
    if data.performed_on < contract.service_start:
        raise ApplicationError(
            _("实施日期不能早于合同服务期开始日 %(d)s。")
            % {"d": contract.service_start.isoformat()},
            extra={"field": "performed_on"},
        )
    if not (data.scope_data or data.scope_backups or data.scope_media):
        raise ApplicationError(
            _("请选择范围：业务数据、备份数据或存储介质。"), extra={"field": "scope_data"}
        )
    if data.kind == ExitKind.DELETION and not (data.scope_data and data.scope_backups):
        raise ApplicationError(
            _("删除须彻底，包括业务数据及其全部备份。"), extra={"field": "scope_backups"}
        )
    media_method = data.media_method or ""
    if data.scope_media and media_method not in (MediaMethod.SANITIZE, MediaMethod.DESTROY):
        raise ApplicationError(
            _("涉及存储介质时，请选择介质清理或物理销毁。"), extra={"field": "media_method"}
        )
    if not data.scope_media:
        media_method = ""
    scope_note = require_text(
        data.scope_note,
        _("请填写移交数据清单或删除范围。")
        if data.kind == ExitKind.DELETION
        else _("请填写移交数据清单（含历史数据、归档数据及文档资料）。"),
        "scope_note",
    )
    authorisation = (data.authorisation_ref or "").strip()
    if data.kind == ExitKind.DELETION and not authorisation:
        raise ApplicationError(
            _("删除数据须依据甲方的书面授权或要求，请填写其文号或日期。"),
            extra={"field": "authorisation_ref"},
        )
    witnesses = _clean_witnesses(data.witnesses)
    if data.scope_media and not witnesses:
        raise ApplicationError(
            _("存储介质的清理或销毁过程须有监督，请填写见证人。"), extra={"field": "witnesses"}
        )
    record.kind = data.kind
    record.method = data.method
    record.method_detail = detail
    record.media_method = media_method
    record.performed_on = data.performed_on
    record.scope_data, record.scope_backups = data.scope_data, data.scope_backups
    record.scope_media = data.scope_media
    record.scope_note = scope_note
    record.authorisation_ref = authorisation[:200]
    return witnesses


def _system_of(contract: Contract, system: BusinessSystem | int | None) -> BusinessSystem:
    pk = system.pk if isinstance(system, BusinessSystem) else system
    found = recordable_systems(contract).filter(pk=pk).first() if pk else None
    if found is None:
        raise ApplicationError(_("请选择本合同使用单位的业务系统。"), extra={"field": "system"})
    return found


def _store_witnesses(record: ExitRecord, witnesses: list[tuple[str, str]]) -> None:
    record.witnesses.all().delete()
    ExitWitness.objects.bulk_create(
        ExitWitness(record=record, party=party, name=name) for party, name in witnesses
    )


def _record_snapshot(record: ExitRecord) -> dict[str, Any]:
    return {
        **snapshot(record, RECORD_FIELDS),
        "system": record.system_id,
        "witnesses": [f"{w.party}:{w.name}" for w in record.witnesses.all()],
    }


@transaction.atomic
def exit_record_create(
    *,
    actor: User,
    contract: Contract,
    system: BusinessSystem | int | None,
    data: ExitRecordData,
) -> ExitRecord:
    """The vendor records a return or deletion of one system's data (a draft until signed)."""
    EXIT_CONTRACT_ACTIONS.require("record_create", actor, contract)
    record = ExitRecord(contract=contract, system=_system_of(contract, system), created_by=actor)
    witnesses = _apply_record(record, data)
    full_clean(record, exclude=["contract", "system", "certificate"])
    record.save()
    _store_witnesses(record, witnesses)
    audit_log(
        actor=actor,
        action="exit_record.create",
        obj=record,
        after=_record_snapshot(record),
        contract=contract,
    )
    return record


def _lock_record(record: ExitRecord) -> tuple[ExitRecord, dict[str, Any]]:
    locked = (
        ExitRecord.objects.select_for_update(of=("self",))
        .select_related("contract", "system__department")
        .get(pk=record.pk)
    )
    return locked, _record_snapshot(locked)


@transaction.atomic
def exit_record_update(*, actor: User, record: ExitRecord, data: ExitRecordData) -> ExitRecord:
    """The vendor corrects a draft, or a record objected to (which becomes a draft again)."""
    record, before = _lock_record(record)
    EXIT_RECORD_ACTIONS.require("edit", actor, record)
    witnesses = _apply_record(record, data)
    if record.status == ExitStatus.OBJECTED:
        set_status(record, EXIT_TRANSITIONS, ExitStatus.DRAFT)
    full_clean(record, exclude=["contract", "system", "certificate"])
    record.save()
    _store_witnesses(record, witnesses)
    audit_log(
        actor=actor,
        action="exit_record.update",
        obj=record,
        before=before,
        after=_record_snapshot(record),
    )
    return record


def _vendor_org(contract: Contract) -> Any:
    return next((p.organization for p in contract.parties_with_role(PartyRole.VENDOR)), None)


@sensitive_variables("secret")
def _open_vendor_key(actor: User, secret: SigningSecret | str | None) -> Any:
    """The vendor's key, opened with what the signer typed (before the service's transaction,
    so the refusal's audit row stays)."""
    if not isinstance(secret, SigningSecret):
        secret = SigningSecret(secret)
    if actor.organization_id is None:
        raise SigningKeyUnavailable(_("您的账号不属于任何单位，不能签名。"))
    key = party_key(actor.organization_id)
    try:
        return party_signer(key).open(secret)
    except WrongSigningSecret:
        with transaction.atomic():
            audit_log(
                actor=actor,
                action="exit_record.signing_key_refused",
                after={"key": key, "given": bool(secret)},
            )
        raise SigningKeyRefused(
            _("签名密钥口令错误：请输入本单位签名密钥的口令。"),
            extra={"field": "signing_passphrase"},
        ) from None
    except SigningKeyMissing:
        raise SigningKeyUnavailable(
            _("本单位的签名密钥尚未安装，暂不能签署；请联系本单位的证书管理员。")
        ) from None
    except SigningError:
        raise SigningKeyUnavailable(_("本单位的签名密钥无法使用，暂不能签署。")) from None


def certificate_pdf_bytes(record: ExitRecord, *, signed_at: Any) -> bytes:
    """The vendor's certificate of the record (unsigned)."""
    contract = record.contract
    return render_pdf(
        "reports/exit_certificate.html",
        {
            "report_title": contract.name,
            "report_subtitle": _("%(k)s证明") % {"k": record.get_kind_display()},
            "contract": contract,
            "record": record,
            "system": record.system,
            "witnesses": list(record.witnesses.all()),
            "vendor": _vendor_org(contract),
            "bureau": contract.bureau,
            "signed_at": timezone.localtime(signed_at),
            "confirming": roles_text(confirming_roles(contract)),
            "joint_term": cite(contract, "joint_confirmations"),
        },
    )


def _notify_signed(record: ExitRecord) -> None:
    contract = record.contract
    recipients = notifications.party_emails(contract, *confirming_roles(contract))
    recipients += notifications.organization_emails([record.system.department])
    notifications.send(
        key=f"exit:{record.pk}:signed:{record.round}",
        contract=contract,
        recipients=recipients,
        subject=_("乙方签署%(k)s证明：%(s)s")
        % {"k": record.get_kind_display(), "s": record.system.name},
        body=_(
            "业务系统：%(d)s · %(s)s\n%(k)s方式：%(m)s；实施日期：%(on)s；范围：%(scope)s。\n"
            "乙方已签署证明（见附件），待%(who)s确认。"
        )
        % {
            "d": record.system.department.display_name,
            "s": record.system.name,
            "k": record.get_kind_display(),
            "m": record.get_method_display(),
            "on": record.performed_on.isoformat(),
            "scope": "、".join(record.scope_labels()),
            "who": roles_text(confirming_roles(contract)),
        },
        url=notifications.link("sla_exit_record_detail", record.pk),
        attachments=[
            Attachment(
                name=f"{record.get_kind_display()}证明-{record.system.name}-{record.pk}.pdf",
                path=record.certificate.name,
            )
        ],
    )


def _sign(*, actor: User, record: ExitRecord, signer: Any) -> ExitRecord:
    record, before = _lock_record(record)
    EXIT_RECORD_ACTIONS.require("sign", actor, record)
    _apply_record(record, _data_of(record))  # what is signed passes today's rules
    now = timezone.now()
    vendor = _vendor_org(record.contract)
    pdf = prepare_signature_fields(
        certificate_pdf_bytes(record, signed_at=now), [CERTIFICATE_FIELD]
    )
    try:
        signed = sign_pdf(
            pdf,
            signer=signer,
            field_name=CERTIFICATE_FIELD,
            reason=_("%(k)s证明") % {"k": record.get_kind_display()},
            location=record.contract.code,
            name=vendor.name if vendor else actor.get_full_name() or actor.username,
            certify=True,
        )
    except SigningError as exc:
        raise SigningKeyUnavailable(
            _("无法在证明 PDF 上加盖签名（%(e)s），本次签署未生效。") % {"e": exc}
        ) from exc
    set_status(record, EXIT_TRANSITIONS, ExitStatus.SUBMITTED)
    record.round += 1
    record.certificate.save(
        f"exit-{record.pk}-r{record.round}.pdf", ContentFile(signed), save=False
    )
    record.certificate_sha256 = sha256_hex(signed)
    record.signed_at, record.signed_by = now, actor
    record.confirmed_at, record.confirmed_by = None, None
    record.save()
    audit_log(
        actor=actor,
        action="exit_record.sign",
        obj=record,
        before=before,
        after=_record_snapshot(record),
    )
    confirmation = joint_open(
        actor=actor,
        contract=record.contract,
        subject=SUBJECT,
        obj=record,
        title=_("%(k)s记录：%(s)s") % {"k": record.get_kind_display(), "s": record.system.name},
    )
    if confirmation is not None and record.round > 1:
        joint_restart(actor=actor, confirmation=confirmation, note=_("乙方重新签署证明"))
    _notify_signed(record)
    return record


def _data_of(record: ExitRecord) -> ExitRecordData:
    return ExitRecordData(
        kind=record.kind,
        method=record.method,
        performed_on=record.performed_on,
        scope_data=record.scope_data,
        scope_backups=record.scope_backups,
        scope_media=record.scope_media,
        scope_note=record.scope_note,
        media_method=record.media_method,
        method_detail=record.method_detail,
        authorisation_ref=record.authorisation_ref,
        witnesses=tuple((w.party, w.name) for w in record.witnesses.all()),
    )


@sensitive_variables("signing_passphrase")
def exit_record_sign(
    *, actor: User, record: ExitRecord, signing_passphrase: SigningSecret | str | None
) -> ExitRecord:
    """The vendor signs its certificate of the record with its organisation's key: the record
    goes to the confirming parties (and the department hears of it, certificate attached)."""
    EXIT_RECORD_ACTIONS.require("sign", actor, record)
    signer = _open_vendor_key(actor, signing_passphrase)
    with transaction.atomic():
        return _sign(actor=actor, record=record, signer=signer)


def _notify_decided(record: ExitRecord, *, confirmed: bool, reason: str = "") -> None:
    contract = record.contract
    recipients = notifications.party_emails(contract, PartyRole.VENDOR)
    recipients += notifications.organization_emails([record.system.department])
    what = {"k": record.get_kind_display(), "s": record.system.name}
    if confirmed:
        subject = _("%(k)s记录已确认：%(s)s") % what
        body = _("%(k)s记录（%(on)s，%(m)s）已经%(who)s确认。") % {
            **what,
            "on": record.performed_on.isoformat(),
            "m": record.get_method_display(),
            "who": roles_text(confirming_roles(contract)),
        }
    else:
        subject = _("%(k)s记录有异议：%(s)s") % what
        body = _("异议：%(r)s\n请乙方核实后修改记录并重新签署证明。") % {"r": reason}
    notifications.send(
        key=f"exit:{record.pk}:{'confirmed' if confirmed else 'objected'}:{record.round}",
        contract=contract,
        recipients=recipients,
        subject=subject,
        body=body,
        url=notifications.link("sla_exit_record_detail", record.pk),
    )


def _mark_confirmed(
    record: ExitRecord,
    before: dict[str, Any],
    *,
    by: User | None,
    at: Any,
    via: JointConfirmation | None,
) -> ExitRecord:
    set_status(record, EXIT_TRANSITIONS, ExitStatus.CONFIRMED)
    record.confirmed_by, record.confirmed_at = by, at
    record.save()
    audit_log(
        actor=by or "会签",
        action="exit_record.confirm",
        obj=record,
        before=before,
        after={**_record_snapshot(record), "joint_confirmation": via.pk if via else None},
    )
    _notify_decided(record, confirmed=True)
    return record


def _mark_objected(
    record: ExitRecord,
    before: dict[str, Any],
    *,
    by: User,
    reason: str,
    via: JointConfirmation | None,
) -> ExitRecord:
    set_status(record, EXIT_TRANSITIONS, ExitStatus.OBJECTED)
    record.objection, record.objected_by, record.objected_at = reason, by, timezone.now()
    record.save()
    audit_log(
        actor=by,
        action="exit_record.object",
        obj=record,
        before=before,
        after={**_record_snapshot(record), "joint_confirmation": via.pk if via else None},
    )
    _notify_decided(record, confirmed=False, reason=reason)
    return record


@transaction.atomic
def exit_record_confirm(*, actor: User, record: ExitRecord) -> ExitRecord:
    """The bureau confirms the record, where the terms name no joint confirmation (JZ 五.11)."""
    record, before = _lock_record(record)
    EXIT_RECORD_ACTIONS.require("confirm", actor, record)
    return _mark_confirmed(record, before, by=actor, at=timezone.now(), via=None)


@transaction.atomic
def exit_record_object(*, actor: User, record: ExitRecord, reason: str) -> ExitRecord:
    """The bureau objects, with its reason (where it confirms alone); the vendor revises."""
    record, before = _lock_record(record)
    EXIT_RECORD_ACTIONS.require("object", actor, record)
    reason = require_text(reason, _("提出异议须填写理由。"), "reason")
    return _mark_objected(record, before, by=actor, reason=reason, via=None)


def _is_exit(confirmation: JointConfirmation) -> bool:
    return confirmation.subject == SUBJECT and confirmation.content_type.model_class() is ExitRecord


def on_deletion_confirmed(*, confirmation: JointConfirmation) -> None:
    """Every named party confirmed (``joint_confirmed``, inside its transaction)."""
    if not _is_exit(confirmation):
        return
    record, before = _lock_record(ExitRecord(pk=confirmation.object_id))
    last = confirmation.entries.order_by("-at", "-pk").first()
    _mark_confirmed(
        record,
        before,
        by=last.user if last else None,
        at=confirmation.confirmed_at,
        via=confirmation,
    )


def on_deletion_objected(*, confirmation: JointConfirmation, reason: str, actor: User) -> None:
    """A named party objected (``joint_objected``): back to the vendor."""
    if not _is_exit(confirmation):
        return
    record, before = _lock_record(ExitRecord(pk=confirmation.object_id))
    _mark_objected(record, before, by=actor, reason=reason, via=confirmation)


def record_confirmation(record: ExitRecord) -> JointConfirmation | None:
    """The record's joint confirmation (BT), if one was opened."""
    return joint_for(record, SUBJECT)


# ================================================================ the exit page


@dataclass(frozen=True)
class SystemExit:
    """One business system on the exit page: its latest return and deletion records."""

    system: BusinessSystem
    returned: ExitRecord | None
    deleted: ExitRecord | None
    records: list[ExitRecord]


def system_rows(
    contract: Contract, records: Iterable[ExitRecord], systems: Iterable[BusinessSystem]
) -> list[SystemExit]:
    by_system: dict[int, list[ExitRecord]] = {}
    for record in sorted(records, key=lambda r: (r.performed_on, r.pk), reverse=True):
        by_system.setdefault(record.system_id, []).append(record)
    rows = []
    for system in systems:
        mine = by_system.get(system.pk, [])
        rows.append(
            SystemExit(
                system=system,
                returned=next((r for r in mine if r.kind == ExitKind.RETURN), None),
                deleted=next((r for r in mine if r.kind == ExitKind.DELETION), None),
                records=mine,
            )
        )
    return rows


def handover_deliverables(contract: Contract) -> dict[str, Any]:
    """The handover plan (and its due date from the term) and the handover reports."""
    rows = list(
        Deliverable.objects.filter(
            contract=contract,
            kind__in=[DeliverableKind.HANDOVER_PLAN, DeliverableKind.HANDOVER_REPORT],
        ).order_by("due_date", "pk")
    )
    return {
        "plan": next((d for d in rows if d.kind == DeliverableKind.HANDOVER_PLAN), None),
        "plan_due": handover_plan_due(contract),
        "reports": [d for d in rows if d.kind == DeliverableKind.HANDOVER_REPORT],
        "clause": clause_of(contract, "handover_plan_days_before_end"),
    }


def latest_register(contract: Contract) -> Deliverable | None:
    return (
        Deliverable.objects.filter(contract=contract, kind=DeliverableKind.STAFF_REGISTER)
        .order_by("-pk")
        .first()
    )
