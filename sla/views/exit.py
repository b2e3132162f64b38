"""Portal pages of the exit (退出与交接): the contract's exit page, the staff-with-access register,
and the data return and deletion records of its business systems.

The exit page and the register are the parties' (department users get 404); a department reads
the signed records of its own systems (the e-mail it receives links there).
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from govcloud.access import role_on_contract
from govcloud.dates import business_today
from govcloud.joint import roles_text
from govcloud.models import Contract
from govcloud.pdf.signing import SigningSecret
from govcloud.web import page_of, run_service, serve_file
from sla import selectors
from sla.forms import DateInput, PortalForm
from sla.models import (
    DeliverableKind,
    ExitKind,
    ExitMethod,
    ExitRecord,
    MediaMethod,
    StaffAccessEntry,
    StaffDuty,
    WitnessParty,
)
from sla.services import exit as services
from sla.services.deliverables import handover_plan_ensure
from sla.views.common import require_record_action

# ---------------------------------------------------------------- forms


def _date(label: Any, *, required: bool = True, help_text: Any = "") -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DateInput(), help_text=help_text)


class StaffEntryForm(PortalForm):
    person_name = forms.CharField(label=gettext_lazy("姓名"), max_length=60)
    employer = forms.CharField(
        label=gettext_lazy("所属单位"),
        max_length=200,
        help_text=gettext_lazy("乙方或其供应链单位的名称。"),
    )
    duty = forms.ChoiceField(label=gettext_lazy("岗位类别"), choices=StaffDuty.choices)
    position = forms.CharField(label=gettext_lazy("岗位/职责"), max_length=120, required=False)
    access_scope = forms.CharField(
        label=gettext_lazy("接触范围"),
        widget=forms.Textarea,
        help_text=gettext_lazy("可接触的数据、系统或业务运行信息，及访问方式。"),
    )
    access_from = _date(gettext_lazy("接触起始日"))
    undertaking_signed_on = _date(
        gettext_lazy("《人员信息保密协议》签订日"),
        help_text=gettext_lazy("须在接触甲方信息之前签订。"),
    )
    undertaking_file = forms.FileField(label=gettext_lazy("《人员信息保密协议》（签字扫描件）"))

    def data_object(self) -> services.StaffEntryData:
        data = self.cleaned_data
        return services.StaffEntryData(
            person_name=data["person_name"],
            employer=data["employer"],
            duty=data["duty"],
            position=data["position"],
            access_scope=data["access_scope"],
            access_from=data["access_from"],
            undertaking_signed_on=data["undertaking_signed_on"],
        )


class StaffEndForm(PortalForm):
    ended_on = _date(gettext_lazy("权限取消日期"))
    reason = forms.CharField(label=gettext_lazy("原因"), max_length=200, required=False)


class NoteForm(PortalForm):
    note = forms.CharField(label=gettext_lazy("说明"), required=False, widget=forms.Textarea)


_PARTY_WORDS = {
    **{str(v): v for v in WitnessParty.values},
    "甲方": WitnessParty.BUREAU,
    "管理方": WitnessParty.BUREAU,
    "乙方": WitnessParty.VENDOR,
    "监理": WitnessParty.SUPERVISOR,
    "监理方": WitnessParty.SUPERVISOR,
    "审计": WitnessParty.AUDITOR,
    "审计方": WitnessParty.AUDITOR,
    "使用单位": WitnessParty.DEPARTMENT,
    **{str(label): value for value, label in WitnessParty.choices},
}


def parse_witnesses(text: str) -> list[tuple[str, str]]:
    """One witness a line: "监理方 李四", "甲方：张三" or "supervisor: 李四"."""
    witnesses = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = re.split(r"[\s:：]+", line, maxsplit=1)
        party = _PARTY_WORDS.get(parts[0])
        if party is None or len(parts) < 2 or not parts[1].strip():
            raise forms.ValidationError(
                _(
                    "第%(n)s行“%(l)s”：请写成“见证方 姓名”，"
                    "见证方为甲方、乙方、监理方、审计方或使用单位。"
                )
                % {"n": number, "l": line}
            )
        witnesses.append((str(party), parts[1].strip()))
    return witnesses


class ExitRecordForm(PortalForm):
    system = forms.ModelChoiceField(label=gettext_lazy("业务系统"), queryset=None)
    kind = forms.ChoiceField(label=gettext_lazy("类型"), choices=ExitKind.choices)
    method = forms.ChoiceField(label=gettext_lazy("方式"), choices=ExitMethod.choices)
    method_detail = forms.CharField(
        label=gettext_lazy("方式说明"), required=False, widget=forms.Textarea
    )
    performed_on = _date(gettext_lazy("实施日期"))
    scope_data = forms.BooleanField(label=gettext_lazy("业务数据"), required=False)
    scope_backups = forms.BooleanField(label=gettext_lazy("备份数据"), required=False)
    scope_media = forms.BooleanField(label=gettext_lazy("存储介质"), required=False)
    media_method = forms.ChoiceField(
        label=gettext_lazy("存储介质处置"), choices=MediaMethod.choices, required=False
    )
    scope_note = forms.CharField(
        label=gettext_lazy("移交数据清单 / 删除范围"),
        widget=forms.Textarea,
        help_text=gettext_lazy(
            "返还：按移交数据清单列明数据文件、程序代码、技术资料、运行日志及历史、归档数据；"
            "删除：列明删除的数据及其备份。"
        ),
    )
    authorisation_ref = forms.CharField(
        label=gettext_lazy("甲方书面授权（删除时必填）"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("删除所依据的甲方书面授权或要求的文号、日期。"),
    )
    witnesses = forms.CharField(
        label=gettext_lazy("见证人"),
        required=False,
        widget=forms.Textarea,
        help_text=gettext_lazy("每行一位：见证方 姓名，如“监理方 李四”。涉及存储介质时必填。"),
    )

    def __init__(self, *args: Any, contract: Contract, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["system"]
        field.queryset = services.recordable_systems(contract)
        field.label_from_instance = lambda s: f"{s.department.display_name} · {s.name}"

    def clean_witnesses(self) -> list[tuple[str, str]]:
        return parse_witnesses(self.cleaned_data.get("witnesses", ""))

    def data_object(self) -> services.ExitRecordData:
        data = self.cleaned_data
        return services.ExitRecordData(
            kind=data["kind"],
            method=data["method"],
            performed_on=data["performed_on"],
            scope_data=data["scope_data"],
            scope_backups=data["scope_backups"],
            scope_media=data["scope_media"],
            scope_note=data["scope_note"],
            media_method=data["media_method"],
            method_detail=data["method_detail"],
            authorisation_ref=data["authorisation_ref"],
            witnesses=tuple(data["witnesses"]),
        )

    @staticmethod
    def initial_of(record: ExitRecord) -> dict[str, Any]:
        return {
            "system": record.system_id,
            "kind": record.kind,
            "method": record.method,
            "method_detail": record.method_detail,
            "performed_on": record.performed_on,
            "scope_data": record.scope_data,
            "scope_backups": record.scope_backups,
            "scope_media": record.scope_media,
            "media_method": record.media_method,
            "scope_note": record.scope_note,
            "authorisation_ref": record.authorisation_ref,
            "witnesses": "\n".join(
                f"{w.get_party_display()} {w.name}" for w in record.witnesses.all()
            ),
        }


class SignForm(PortalForm):
    signing_passphrase = forms.CharField(
        label=gettext_lazy("本单位签名密钥口令"),
        widget=forms.PasswordInput(render_value=False),
        strip=False,
    )


class ObjectForm(PortalForm):
    reason = forms.CharField(label=gettext_lazy("异议理由"), widget=forms.Textarea)


# ---------------------------------------------------------------- the exit page


@login_required
@require_GET
def exit_overview(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    systems = services.contract_systems(contract)
    department = request.GET.get("department", "")
    if department.isdigit():
        systems = systems.filter(department_id=int(department))
    page = page_of(request, systems)
    records = services.exit_record_list_for_user(user=request.user).filter(
        contract=contract, system__in=[s.pk for s in page.object_list]
    )
    entries = list(services.staff_list_for_user(user=request.user).filter(contract=contract))
    today = business_today()
    return render(
        request,
        "sla/exit_overview.html",
        {
            "contract": contract,
            "page": page,
            "rows": services.system_rows(contract, records, page.object_list),
            "departments": sorted(
                {s.department for s in services.contract_systems(contract)},
                key=lambda d: (d.name, d.pk),
            ),
            "department": department,
            "handover": services.handover_deliverables(contract),
            "register": services.latest_register(contract),
            "active_staff": sum(1 for e in entries if e.is_active(today)),
            "ended_staff": sum(1 for e in entries if not e.is_active(today)),
            "confirming": roles_text(services.confirming_roles(contract)),
            "actions": services.exit_contract_actions(user=request.user, contract=contract),
            "role": role_on_contract(request.user, contract),
            "report_kind": DeliverableKind.HANDOVER_REPORT,
        },
    )


@login_required
@require_POST
def handover_plan_create(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    to = reverse("sla_exit", args=[contract.pk])

    def create() -> Any:
        services.EXIT_CONTRACT_ACTIONS.require("handover_plan_create", request.user, contract)
        return handover_plan_ensure(contract=contract, actor=request.user)

    run_service(request, create, _("交接计划已登记，已通知乙方。"), to=to)
    return redirect(to)


# ---------------------------------------------------------------- the staff register


def _entry(request: HttpRequest, pk: int) -> StaffAccessEntry:
    return selectors.get_for_user(services.staff_list_for_user(user=request.user), pk)


@login_required
@require_GET
def staff_list(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    today = business_today()
    qs = services.staff_list_for_user(user=request.user).filter(contract=contract)
    state = request.GET.get("state", "")
    if state == "active":
        qs = qs.exclude(access_to__lt=today)
    elif state == "ended":
        qs = qs.filter(access_to__lt=today)
    page = page_of(request, qs.order_by("access_to", "person_name", "pk"))
    rows = [
        {
            "entry": e,
            "active": e.is_active(today),
            "filing": services.entry_filing(e),
            "actions": services.staff_available_actions(user=request.user, obj=e),
        }
        for e in page.object_list
    ]
    return render(
        request,
        "sla/exit_staff_list.html",
        {
            "contract": contract,
            "page": page,
            "rows": rows,
            "state": state,
            "register": services.latest_register(contract),
            "actions": services.exit_contract_actions(user=request.user, contract=contract),
            "end_form": StaffEndForm(),
            "note_form": NoteForm(),
            "role": role_on_contract(request.user, contract),
        },
    )


def _form_page(
    request: HttpRequest, contract: Contract, form: Any, title: str, back: str, help: str = ""
) -> HttpResponse:
    return render(
        request,
        "sla/record_form.html",
        {
            "contract": contract,
            "form": form,
            "title": title,
            "back": back,
            "help": help,
            "multipart": True,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def staff_create(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    require_record_action(services.EXIT_CONTRACT_ACTIONS, "staff_create", request.user, contract)
    form = StaffEntryForm(request.POST or None, request.FILES or None)
    back = reverse("sla_exit_staff_list", args=[contract.pk])
    if request.method == "POST" and form.is_valid():
        ok, response = run_service(
            request,
            lambda: services.staff_entry_create(
                actor=request.user,
                contract=contract,
                data=form.data_object(),
                undertaking_file=form.cleaned_data["undertaking_file"],
            ),
            _("已登记，提交名单后由甲方备案。"),
            to=back,
            form=form,
        )
        if ok:
            return response
    return _form_page(request, contract, form, _("登记接触甲方信息人员"), back)


@login_required
@require_http_methods(["GET", "POST"])
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _entry(request, pk)
    require_record_action(services.STAFF_ACTIONS, "edit", request.user, entry)
    initial = {f: getattr(entry, f) for f in services.STAFF_FIELDS if f != "register"}
    initial["access_scope"] = entry.access_scope
    form = StaffEntryForm(request.POST or None, request.FILES or None, initial=initial)
    form.fields["undertaking_file"].required = False
    form.fields["undertaking_file"].help_text = _("不更换请留空。")
    back = reverse("sla_exit_staff_list", args=[entry.contract_id])
    if request.method == "POST" and form.is_valid():
        ok, response = run_service(
            request,
            lambda: services.staff_entry_update(
                actor=request.user,
                entry=entry,
                data=form.data_object(),
                undertaking_file=form.cleaned_data.get("undertaking_file"),
            ),
            _("已修改，请重新提交名单备案。"),
            to=back,
            form=form,
        )
        if ok:
            return response
    return _form_page(request, entry.contract, form, _("修改登记：%(n)s") % {"n": entry}, back)


@login_required
@require_POST
def staff_end(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _entry(request, pk)
    to = reverse("sla_exit_staff_list", args=[entry.contract_id])
    form = StaffEndForm(request.POST)
    if form.is_valid():
        run_service(
            request,
            lambda: services.staff_entry_end(
                actor=request.user,
                entry=entry,
                ended_on=form.cleaned_data["ended_on"],
                reason=form.cleaned_data["reason"],
            ),
            _("已登记取消接触权限。"),
            to=to,
        )
    else:
        messages.error(request, _("请填写权限取消日期。"))
    return redirect(to)


@login_required
@require_GET
def staff_file(request: HttpRequest, pk: int) -> HttpResponse:
    return serve_file(_entry(request, pk).undertaking_file)


@login_required
@require_POST
def staff_submit(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    ok, response = run_service(
        request,
        lambda: services.staff_register_submit(actor=request.user, contract=contract, note=note),
        _("名单已提交，待甲方审核备案。"),
        to=lambda deliverable: reverse("sla_deliverable_detail", args=[deliverable.pk]),
    )
    return response if ok else redirect("sla_exit_staff_list", contract.pk)


# ---------------------------------------------------------------- return and deletion records


def _record(request: HttpRequest, pk: int) -> ExitRecord:
    return selectors.get_for_user(
        services.exit_record_list_for_user(user=request.user).prefetch_related("witnesses"), pk
    )


@login_required
@require_http_methods(["GET", "POST"])
def record_create(request: HttpRequest, contract_pk: int) -> HttpResponse:
    contract = selectors.party_contract_get(user=request.user, pk=contract_pk)
    require_record_action(services.EXIT_CONTRACT_ACTIONS, "record_create", request.user, contract)
    initial = {
        key: request.GET[key] for key in ("system", "kind") if request.GET.get(key, "").isalnum()
    }
    form = ExitRecordForm(request.POST or None, contract=contract, initial=initial)
    back = reverse("sla_exit", args=[contract.pk])
    if request.method == "POST" and form.is_valid():
        ok, response = run_service(
            request,
            lambda: services.exit_record_create(
                actor=request.user,
                contract=contract,
                system=form.cleaned_data["system"],
                data=form.data_object(),
            ),
            _("记录已保存为草稿；核对无误后请签署证明。"),
            to=lambda record: reverse("sla_exit_record_detail", args=[record.pk]),
            form=form,
        )
        if ok:
            return response
    return _form_page(
        request,
        contract,
        form,
        _("登记数据返还或删除"),
        back,
        help=_("删除须依据甲方书面授权，包括全部备份；涉及存储介质须清理或物理销毁并有见证人。"),
    )


def _detail_page(
    request: HttpRequest,
    record: ExitRecord,
    *,
    sign_form: SignForm | None = None,
    object_form: ObjectForm | None = None,
) -> HttpResponse:
    contract = record.contract
    return render(
        request,
        "sla/exit_record_detail.html",
        {
            "contract": contract,
            "record": record,
            "witnesses": list(record.witnesses.all()),
            "confirmation": services.record_confirmation(record),
            "confirming": roles_text(services.confirming_roles(contract)),
            "actions": services.exit_record_available_actions(user=request.user, obj=record),
            "sign_form": sign_form or SignForm(),
            "object_form": object_form or ObjectForm(),
            "role": role_on_contract(request.user, contract),
        },
    )


@login_required
@require_GET
def record_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _record(request, pk))


@login_required
@require_http_methods(["GET", "POST"])
def record_edit(request: HttpRequest, pk: int) -> HttpResponse:
    record = _record(request, pk)
    require_record_action(services.EXIT_RECORD_ACTIONS, "edit", request.user, record)
    form = ExitRecordForm(
        request.POST or None, contract=record.contract, initial=ExitRecordForm.initial_of(record)
    )
    form.fields["system"].disabled = True
    back = reverse("sla_exit_record_detail", args=[record.pk])
    if request.method == "POST" and form.is_valid():
        ok, response = run_service(
            request,
            lambda: services.exit_record_update(
                actor=request.user, record=record, data=form.data_object()
            ),
            _("记录已修改；请重新签署证明。"),
            to=back,
            form=form,
        )
        if ok:
            return response
    return _form_page(request, record.contract, form, _("修改记录 #%(n)s") % {"n": record.pk}, back)


@login_required
@require_POST
def record_sign(request: HttpRequest, pk: int) -> HttpResponse:
    record = _record(request, pk)
    form = SignForm(request.POST)
    if form.is_valid():
        secret = SigningSecret(form.cleaned_data["signing_passphrase"])
        ok, response = run_service(
            request,
            lambda: services.exit_record_sign(
                actor=request.user, record=record, signing_passphrase=secret
            ),
            _("证明已签署，已通知确认方和使用单位。"),
            to=reverse("sla_exit_record_detail", args=[record.pk]),
            form=form,
        )
        if ok:
            return response
    return _detail_page(request, record, sign_form=form)


@login_required
@require_POST
def record_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    record = _record(request, pk)
    to = reverse("sla_exit_record_detail", args=[record.pk])
    run_service(
        request,
        lambda: services.exit_record_confirm(actor=request.user, record=record),
        _("已确认。"),
        to=to,
    )
    return redirect(to)


@login_required
@require_POST
def record_object(request: HttpRequest, pk: int) -> HttpResponse:
    record = _record(request, pk)
    form = ObjectForm(request.POST)
    if form.is_valid():
        ok, response = run_service(
            request,
            lambda: services.exit_record_object(
                actor=request.user, record=record, reason=form.cleaned_data["reason"]
            ),
            _("已提出异议，已通知乙方。"),
            to=reverse("sla_exit_record_detail", args=[record.pk]),
            form=form,
        )
        if ok:
            return response
    return _detail_page(request, record, object_form=form)


@login_required
@require_GET
def record_certificate(request: HttpRequest, pk: int) -> HttpResponse:
    record = _record(request, pk)
    return serve_file(
        record.certificate,
        f"exit-certificate-{record.pk}-r{record.round}.pdf",
        missing=_("乙方尚未签署证明。"),
        inline=True,
    )
