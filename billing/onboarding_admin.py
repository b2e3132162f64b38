"""Onboarding a contract without a developer (DESIGN §4a), in the admin: the system admin.

Two pages, linked from the contract list (``govcloud.admin.register_contract_list_tool``: the
core does not know billing):

* "从已有合同复制条款" — a contract of the admin's bureau lends its terms, clauses, parties and
  installments to a new contract with its own code, name, service period and catalog CSV;
* "上传合同文件夹（zip）" — ``contract.toml`` and its catalog CSV, validated exactly like
  ``manage.py load_contract``.

Each is previewed first: the load runs in full and is rolled back, and the page shows the terms,
the catalog and every problem (file, key, message). Confirming loads it, all or nothing, audited.
What was previewed travels to the confirmation signed (it cannot be altered in between) and is
validated again there.
"""

from __future__ import annotations

import base64
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from billing.contracts import (
    MAX_CATALOG_BYTES,
    MAX_ZIP_BYTES,
    ContractFileError,
    ContractLoadResult,
    contract_copy,
    contract_onboard_zip,
    may_onboard,
)
from govcloud.admin import ContractListTool, register_contract_list_tool
from govcloud.contract_files import Problem
from govcloud.exceptions import ApplicationError
from govcloud.models import Contract
from govcloud.terms import TERM_GROUPS

SALT = "billing.onboarding_admin"
#: A preview can be confirmed for this long (seconds).
PREVIEW_MAX_AGE = 60 * 60
#: Keys of the copy form that a problem of the copied definition may name.
COPY_FIELDS = (
    "code",
    "name",
    "procurement_no",
    "service_start",
    "service_end",
    "billing_from",
    "estimated_amount",
)


class CopyForm(forms.Form):
    source = forms.ModelChoiceField(
        label=_("复制条款的来源合同"),
        queryset=Contract.objects.none(),
        help_text=_("新合同沿用其全部条款、条款出处、当事方和付款期次；保存后可在合同页修改。"),
    )
    code = forms.CharField(label=_("新合同编号"), max_length=30)
    name = forms.CharField(label=_("新合同名称"), max_length=200)
    procurement_no = forms.CharField(label=_("采购项目编号"), max_length=60, required=False)
    service_start = forms.DateField(
        label=_("服务期开始"), widget=forms.DateInput(attrs={"type": "date"})
    )
    service_end = forms.DateField(
        label=_("服务期结束"), widget=forms.DateInput(attrs={"type": "date"})
    )
    billing_from = forms.DateField(
        label=_("计费起始日"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("留空 = 服务期开始日。"),
    )
    estimated_amount = forms.DecimalField(
        label=_("合同估算金额（元）"), required=False, max_digits=14, decimal_places=2
    )
    catalog = forms.FileField(
        label=_("服务目录 CSV"),
        required=False,
        help_text=_(
            "列：code,section,name,spec,unit,unit_price,period（UTF-8）。"
            "留空 = 沿用来源合同的目录及现行价格。"
        ),
    )

    def __init__(self, *args, sources, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = sources


class ZipForm(forms.Form):
    file = forms.FileField(
        label=_("合同文件夹（zip）"),
        help_text=_(
            "压缩包内为 contract.toml 及其指定的目录 CSV（可放在一个文件夹中），"
            "最多 5 个文件，解压后不超过 2 MB。格式见 README“合同定义文件”。"
        ),
    )


def _problems(exc: ContractFileError) -> list[dict[str, str]]:
    return [{"file": str(exc.path), "key": p.key, "message": p.message} for p in exc.problems]


def _read_upload(upload, limit: int) -> bytes | None:
    if upload is None:
        return None
    if upload.size > limit:
        raise ContractFileError(upload.name, [Problem("(文件)", "文件过大（上限 2 MB）")])
    return upload.read()


def _context(model_admin, request, title: Any, **extra: Any) -> dict[str, Any]:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": Contract._meta,
        "title": title,
        "term_groups": TERM_GROUPS,
        **extra,
    }


def _require(model_admin, request) -> None:
    if not (model_admin.has_add_permission(request) and may_onboard(request.user)):
        raise PermissionDenied("只有系统管理员可以载入合同。")


def _done(request, result: ContractLoadResult):
    contract = Contract.objects.get(code=result.code)
    messages.success(request, result.summary())
    for note in result.notes:
        messages.warning(request, note)
    return redirect(reverse("admin:govcloud_contract_change", args=[contract.pk]))


def _preview(model_admin, request, *, title, result, payload, back, **extra):
    return TemplateResponse(
        request,
        "admin/billing/contract_onboard_preview.html",
        _context(
            model_admin,
            request,
            title,
            result=result,
            rows=_grouped(result),
            payload=payload,
            back=back,
            **extra,
        ),
    )


def _grouped(result: ContractLoadResult) -> list[tuple[str, list[Any]]]:
    rows = {row.term.key: row for row in result.terms}
    return [(str(label), [rows[k] for k in keys if k in rows]) for label, keys in TERM_GROUPS]


# ------------------------------------------------------------------------------ copy terms


def _copy_args(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": data["code"],
        "name": data["name"],
        "procurement_no": data.get("procurement_no") or "",
        "service_start": date.fromisoformat(data["service_start"]),
        "service_end": date.fromisoformat(data["service_end"]),
        "billing_from": (
            date.fromisoformat(data["billing_from"]) if data.get("billing_from") else None
        ),
        "estimated_amount": (
            Decimal(data["estimated_amount"]) if data.get("estimated_amount") else None
        ),
        "catalog_csv": data.get("catalog_csv"),
        "catalog_name": data.get("catalog_name") or "catalog.csv",
    }


def copy_view(model_admin, request):
    """ "从已有合同复制条款": form → preview (nothing saved) → confirm (saved, audited)."""
    _require(model_admin, request)
    sources = model_admin.scoped_queryset(request).order_by("-service_start", "code")
    form = CopyForm(request.POST or None, request.FILES or None, sources=sources)
    title = _("从已有合同复制条款")
    problems: list[dict[str, str]] = []
    if request.method == "POST" and "payload" in request.POST:
        try:
            data = signing.loads(request.POST["payload"], salt=SALT, max_age=PREVIEW_MAX_AGE)
        except signing.BadSignature:
            messages.error(request, _("预览已过期或无效，请重新填写。"))
            return redirect(reverse("admin:govcloud_contract_onboard_copy"))
        if data.get("user") != request.user.pk or data.get("kind") != "copy":
            raise PermissionDenied
        source = sources.filter(pk=data["source"]).first()
        if source is None:
            raise PermissionDenied
        form = CopyForm(sources=sources)
        try:
            result = contract_copy(actor=request.user, source=source, **_copy_args(data))
        except ContractFileError as exc:
            problems = _problems(exc)
        except ApplicationError as exc:
            problems = [{"file": "", "key": "", "message": exc.message}]
        else:
            return _done(request, result)
    elif request.method == "POST" and form.is_valid():
        cleaned = form.cleaned_data
        try:
            raw = _read_upload(cleaned["catalog"], MAX_CATALOG_BYTES)
            csv_text = raw.decode("utf-8-sig") if raw is not None else None
        except UnicodeDecodeError:
            form.add_error("catalog", _("不是 UTF-8 编码的 CSV。"))
        except ContractFileError as exc:
            form.add_error("catalog", "；".join(p.message for p in exc.problems))
        else:
            data = {
                "kind": "copy",
                "user": request.user.pk,
                "source": cleaned["source"].pk,
                "code": cleaned["code"].strip(),
                "name": cleaned["name"].strip(),
                "procurement_no": cleaned["procurement_no"].strip(),
                "service_start": cleaned["service_start"].isoformat(),
                "service_end": cleaned["service_end"].isoformat(),
                "billing_from": (
                    cleaned["billing_from"].isoformat() if cleaned["billing_from"] else None
                ),
                "estimated_amount": (
                    str(cleaned["estimated_amount"])
                    if cleaned["estimated_amount"] is not None
                    else None
                ),
                "catalog_csv": csv_text,
                "catalog_name": cleaned["catalog"].name if cleaned["catalog"] else None,
            }
            try:
                result = contract_copy(
                    actor=request.user,
                    source=cleaned["source"],
                    dry_run=True,
                    **_copy_args(data),
                )
            except ContractFileError as exc:
                for problem in exc.problems:
                    if problem.key in COPY_FIELDS:
                        form.add_error(problem.key, problem.message)
                    else:
                        problems.append(
                            {"file": str(exc.path), "key": problem.key, "message": problem.message}
                        )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                return _preview(
                    model_admin,
                    request,
                    title=title,
                    result=result,
                    payload=signing.dumps(data, salt=SALT, compress=True),
                    back=reverse("admin:govcloud_contract_onboard_copy"),
                    source=cleaned["source"],
                )
    return TemplateResponse(
        request,
        "admin/billing/contract_onboard.html",
        _context(model_admin, request, title, form=form, problems=problems, kind="copy"),
    )


# ------------------------------------------------------------------------------ zip upload


def zip_view(model_admin, request):
    """ "上传合同文件夹（zip）": upload → preview (nothing saved) → confirm (saved, audited)."""
    _require(model_admin, request)
    form = ZipForm(request.POST or None, request.FILES or None)
    title = _("上传合同文件夹（zip）")
    problems: list[dict[str, str]] = []
    if request.method == "POST" and "payload" in request.POST:
        try:
            data = signing.loads(request.POST["payload"], salt=SALT, max_age=PREVIEW_MAX_AGE)
        except signing.BadSignature:
            messages.error(request, _("预览已过期或无效，请重新上传。"))
            return redirect(reverse("admin:govcloud_contract_onboard_zip"))
        if data.get("user") != request.user.pk or data.get("kind") != "zip":
            raise PermissionDenied
        form = ZipForm()
        try:
            result = contract_onboard_zip(
                actor=request.user, data=base64.b64decode(data["zip"]), name=data["name"]
            )
        except ContractFileError as exc:
            problems = _problems(exc)
        else:
            return _done(request, result)
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            raw = _read_upload(upload, MAX_ZIP_BYTES) or b""
            result = contract_onboard_zip(
                actor=request.user, data=raw, name=upload.name, dry_run=True
            )
        except ContractFileError as exc:
            problems = _problems(exc)
        else:
            payload = {
                "kind": "zip",
                "user": request.user.pk,
                "name": upload.name,
                "zip": base64.b64encode(raw).decode("ascii"),
            }
            return _preview(
                model_admin,
                request,
                title=title,
                result=result,
                payload=signing.dumps(payload, salt=SALT, compress=True),
                back=reverse("admin:govcloud_contract_onboard_zip"),
                upload_name=upload.name,
            )
    return TemplateResponse(
        request,
        "admin/billing/contract_onboard.html",
        _context(model_admin, request, title, form=form, problems=problems, kind="zip"),
    )


register_contract_list_tool(
    ContractListTool(
        label=_("从已有合同复制条款"),
        route="onboard/copy/",
        url_name="govcloud_contract_onboard_copy",
        view=copy_view,
    )
)
register_contract_list_tool(
    ContractListTool(
        label=_("上传合同文件夹（zip）"),
        route="onboard/zip/",
        url_name="govcloud_contract_onboard_zip",
        view=zip_view,
    )
)
