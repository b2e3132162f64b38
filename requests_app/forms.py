"""Portal forms of the ticket workflow: they parse input; the services decide what is allowed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import CatalogItem, Resource, ResourceStatus
from govcloud.models import BusinessSystem
from requests_app.delivery_integrity import needs_confirmation, tolerance_threshold
from requests_app.models import ReceiptProblem, RequestKind, RequestStatus

LOCAL_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]

SELECT = {"class": "form-select form-select-sm"}
TEXT = {"class": "form-control form-control-sm"}

# Filters that are not a single status but what people ask for.
STATUS_SHORTCUTS = [
    ("open", _("进行中（审核或待交付）")),
    ("overdue", _("已超时（逾期未交付或超时交付）")),
    ("breached", _("超时交付（未认定免责）")),
    ("extension", _("延期待审批")),
    ("receipt", _("待签收（含有问题）")),
    ("delivery_claim", _("交付时间待确认")),
]


def _local_datetime_field(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        input_formats=LOCAL_INPUT_FORMATS,
        widget=forms.DateTimeInput(attrs={**TEXT, "type": "datetime-local"}),
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several attachments from one ``<input type=file multiple>``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"class": "form-control"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class RequestForm(forms.Form):
    """The ticket header; contract and kind come with the page, lines from the formset."""

    system = forms.ModelChoiceField(
        label=_("业务系统"),
        queryset=BusinessSystem.objects.none(),
        required=False,
        empty_label=_("（新建业务系统）"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    system_name = forms.CharField(
        label=_("新系统名称"),
        max_length=120,
        required=False,
        widget=forms.TextInput(
            attrs={"class": "form-control", "placeholder": _("如：不动产登记系统")}
        ),
    )
    reason = forms.CharField(
        label=_("申请理由"),
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}),
    )
    attachments = MultipleFileField(
        label=_("附件"),
        required=False,
        help_text=_("可多选；PDF、Office 文档、图片、TXT 或 ZIP，每个不超过 10 MB。"),
    )

    def __init__(self, *args: Any, department_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["system"].queryset = BusinessSystem.objects.filter(
            department_id=department_id
        ).order_by("name")


#: The most any quantity column holds (``PositiveIntegerField``); each catalog item's own,
#: much lower bound (``CatalogItem.quantity_limit``) is checked against the chosen item.
QUANTITY_CEILING = 2_147_483_647


class LineForm(forms.Form):
    """One line; which fields exist depends on the ticket kind.

    A line that is partly filled in says everything it lacks at once (item, resource, quantity,
    the item's quantity bound), so the whole form answers in one round; the service checks the
    same rules again for the API (``request_create``/``request_update``)."""

    resource = forms.TypedChoiceField(label=_("现有资源"), coerce=int, required=False)
    catalog_item = forms.TypedChoiceField(label=_("目录项"), coerce=int, required=False)
    quantity = forms.IntegerField(
        label=_("数量"),
        min_value=1,
        max_value=QUANTITY_CEILING,
        required=False,
        error_messages={
            "min_value": _("数量必须是正整数。"),
            "max_value": _("数量过大，不能超过 %(limit_value)s。"),
            "invalid": _("数量必须是整数（不含逗号、小数点）。"),
        },
        widget=forms.NumberInput(attrs={**TEXT, "min": 1, "inputmode": "numeric"}),
    )
    note = forms.CharField(
        label=_("备注"), max_length=200, required=False, widget=forms.TextInput(attrs=TEXT)
    )

    def __init__(
        self,
        *args: Any,
        kind: str,
        item_choices: list[tuple[Any, str]],
        resource_choices: list[tuple[Any, str]],
        items: Mapping[int, CatalogItem] | None = None,
        resources: Mapping[int, Resource] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        # The page's catalog items and resources (loaded once by the view), for the bounds.
        self.items = items or {}
        self.resources = resources or {}
        # The choices are built once per page by the view (not one query per row).
        item_empty = _("（不变）") if kind == RequestKind.CHANGE else _("请选择目录项")
        self.fields["catalog_item"].choices = [("", item_empty), *item_choices]
        self.fields["catalog_item"].widget.attrs.update(SELECT)
        self.fields["resource"].choices = [("", _("请选择资源")), *resource_choices]
        self.fields["resource"].widget.attrs.update(SELECT)
        if kind == RequestKind.NEW:
            del self.fields["resource"]
        elif kind == RequestKind.CHANGE:
            self.fields["catalog_item"].label = _("变更后规格")
            self.fields["quantity"].label = _("变更后数量")
        else:
            del self.fields["catalog_item"]
            del self.fields["quantity"]

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(name) for name in ("resource", "catalog_item", "quantity", "note"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.is_blank():
            return data  # an empty row is left out (the formset asks for at least one line)
        missing: list[tuple[str, Any]] = []
        if self.kind == RequestKind.NEW:
            missing.append(("catalog_item", _("请选择目录项。")))
            missing.append(("quantity", _("请填写数量。")))
        else:
            missing.append(("resource", _("请选择现有资源。")))
            if self.kind == RequestKind.CHANGE:
                missing.append(("quantity", _("请填写变更后的数量。")))
        for name, message in missing:
            if not data.get(name) and name not in self.errors:
                self.add_error(name, message)
        quantity = data.get("quantity")
        item = self._item(data)
        if quantity and item is not None and (refusal := item.quantity_refusal(quantity)):
            self.add_error("quantity", refusal)
        return data

    def _item(self, data: dict[str, Any]) -> CatalogItem | None:
        """The catalog item the line's quantity counts: the chosen one, else the resource's."""
        item = self.items.get(data.get("catalog_item") or 0)
        if item is None and self.kind == RequestKind.CHANGE:
            resource = self.resources.get(data.get("resource") or 0)
            item = resource.catalog_item if resource is not None else None
        return item


class BaseLineFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return  # the rows say what is wrong with them
        if all(form.is_blank() for form in self.forms):
            raise forms.ValidationError(_("请至少填写一条申请明细。"))


LineFormSet = forms.formset_factory(LineForm, formset=BaseLineFormSet, extra=0)


# ---------------------------------------------------------------- actions


class CommentForm(forms.Form):
    comment = forms.CharField(label=_("意见"), required=False, max_length=2000)


class ExtensionForm(forms.Form):
    reason = forms.CharField(label=_("延期理由"), required=False, max_length=2000)
    expected_completion = _local_datetime_field(_("预计完成时间"))


class ExtensionDecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审批结论"),
        choices=[("approve", _("批准延期")), ("reject", _("不批准"))],
        required=False,
    )
    comment = forms.CharField(label=_("审批意见"), required=False, max_length=2000)


class DeliverForm(forms.Form):
    """The delivery: a time earlier than the recorded moment minus the contract's tolerance
    asks for a reason and evidence (the service decides; the form reports all at once)."""

    delivered_at = _local_datetime_field(_("交付时间"))
    claim_reason = forms.CharField(
        label=_("补录理由"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={**TEXT, "rows": 2}),
    )
    evidence = MultipleFileField(
        label=_("证明材料"),
        required=False,
        help_text=_("如开通记录截图、使用单位确认；PDF、图片、Office 文档等，每个不超过 10 MB。"),
    )

    def __init__(
        self,
        *args: Any,
        tolerance_hours: int = 2,
        now: datetime | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.tolerance_hours = tolerance_hours
        self.now = now or timezone.now()
        self.threshold = tolerance_threshold(self.now, tolerance_hours)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        delivered_at = data.get("delivered_at")
        if delivered_at is None or not needs_confirmation(
            delivered_at=delivered_at, recorded_at=self.now, tolerance_hours=self.tolerance_hours
        ):
            return data
        if not (data.get("claim_reason") or "").strip():
            self.add_error("claim_reason", _("交付时间早于容差，请填写补录理由。"))
        if not data.get("evidence"):
            self.add_error("evidence", _("交付时间早于容差，请上传至少一份证明材料。"))
        return data

    @property
    def claim_expected(self) -> bool:
        """Whether the reason and evidence fields matter for what was entered."""
        return bool(self.is_bound and ("claim_reason" in self.errors or "evidence" in self.errors))


class ClaimReviseForm(forms.Form):
    claim_reason = forms.CharField(label=_("修改后的补录理由"), required=False, max_length=2000)
    evidence = MultipleFileField(label=_("补充证明材料"), required=False)


class ReceiptConfirmForm(forms.Form):
    note = forms.CharField(label=_("签收说明"), required=False, max_length=2000)


class ReceiptProblemForm(forms.Form):
    problem = forms.ChoiceField(
        label=_("问题类型"),
        choices=[("", _("请选择")), *ReceiptProblem.choices],
        required=False,
        widget=forms.Select(attrs=SELECT),
    )
    reason = forms.CharField(
        label=_("问题说明"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={**TEXT, "rows": 2}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("problem"):
            self.add_error("problem", _("请选择问题类型。"))
        if not (data.get("reason") or "").strip():
            self.add_error("reason", _("请填写问题说明。"))
        return data


class ExemptForm(forms.Form):
    reason = forms.CharField(label=_("认定理由"), required=False, max_length=2000)


# ---------------------------------------------------------------- list filters


class _FilterForm(forms.Form):
    """GET filters; a value that doesn't parse is ignored rather than reported."""

    def __init__(
        self,
        *args: Any,
        contracts: list[tuple[Any, str]] | None = None,
        departments: list[tuple[Any, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if "contract" in self.fields:
            self.fields["contract"].choices = [("", _("全部合同")), *(contracts or [])]
        if "department" in self.fields:
            if departments is None:
                del self.fields["department"]
            else:
                self.fields["department"].choices = [("", _("全部使用单位")), *departments]

    def value(self, name: str) -> Any:
        if not self.is_bound:
            return None
        self.is_valid()
        return self.cleaned_data.get(name) if name not in self.errors else None


class RequestFilterForm(_FilterForm):
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部状态")), *RequestStatus.choices, *STATUS_SHORTCUTS],
        widget=forms.Select(attrs=SELECT),
    )
    kind = forms.ChoiceField(
        label=_("类型"),
        required=False,
        choices=[("", _("全部类型")), *RequestKind.choices],
        widget=forms.Select(attrs=SELECT),
    )
    contract = forms.TypedChoiceField(
        label=_("合同"), coerce=int, required=False, widget=forms.Select(attrs=SELECT)
    )
    department = forms.TypedChoiceField(
        label=_("使用单位"), coerce=int, required=False, widget=forms.Select(attrs=SELECT)
    )
    q = forms.CharField(
        label=_("工单号或系统"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={**TEXT, "placeholder": _("工单号或业务系统")}),
    )
    date_from = forms.DateField(
        label=_("创建日期自"),
        required=False,
        widget=forms.DateInput(attrs={**TEXT, "type": "date"}),
    )
    date_to = forms.DateField(
        label=_("至"), required=False, widget=forms.DateInput(attrs={**TEXT, "type": "date"})
    )


class ReviewFilterForm(RequestFilterForm):
    status = None
    date_from = None
    date_to = None


class DeliveryFilterForm(_FilterForm):
    contract = forms.TypedChoiceField(
        label=_("合同"), coerce=int, required=False, widget=forms.Select(attrs=SELECT)
    )
    department = forms.TypedChoiceField(
        label=_("使用单位"), coerce=int, required=False, widget=forms.Select(attrs=SELECT)
    )
    overdue = forms.BooleanField(
        label=_("只看已超时"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )


class ResourceFilterForm(_FilterForm):
    contract = forms.TypedChoiceField(
        label=_("合同"), coerce=int, required=False, widget=forms.Select(attrs=SELECT)
    )
    department = forms.TypedChoiceField(
        label=_("使用单位"), coerce=int, required=False, widget=forms.Select(attrs=SELECT)
    )
    system = forms.CharField(
        label=_("业务系统"),
        required=False,
        max_length=120,
        widget=forms.TextInput(attrs={**TEXT, "placeholder": _("业务系统")}),
    )
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部状态")), *ResourceStatus.choices],
        widget=forms.Select(attrs=SELECT),
    )
    item = forms.CharField(
        label=_("目录编码"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={**TEXT, "placeholder": _("如 ecs.general.vcpu")}),
    )
