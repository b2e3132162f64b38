"""Portal forms of the SLA pages: they parse input; the services decide what is allowed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from govcloud.dates import parse_month
from govcloud.models import BusinessSystem, Contract
from sla.models import (
    AreaChoice,
    DeliverableKind,
    IncidentLevel,
    OutageScope,
    SecurityItem,
)
from sla.services.common import maintenance_rule_text

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _dt(label: str, *, required: bool = True, help_text: str = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=DATETIME_FORMATS,
        widget=DateTimeLocalInput(),
        help_text=help_text,
    )


def _date(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DateInput(), help_text=help_text)


class PortalForm(forms.Form):
    """Bootstrap classes on every widget (no inline styles)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select form-select-sm"
            else:
                css = "form-control form-control-sm"
            widget.attrs.setdefault("class", css)
            if isinstance(widget, forms.Textarea):
                widget.attrs.setdefault("rows", 3)


def systems_field(contract: Contract, *, label: str, help_text: str = "") -> forms.Field:
    bureau = contract.bureau
    queryset = BusinessSystem.objects.filter(
        department__parent_id=bureau.pk if bureau else None
    ).select_related("department")
    field = forms.ModelMultipleChoiceField(
        label=label, queryset=queryset, required=False, help_text=help_text
    )
    field.label_from_instance = lambda s: f"{s.department.display_name} · {s.name}"
    return field


class OutageForm(PortalForm):
    title = forms.CharField(label=_("标题"), max_length=200)
    planned = forms.BooleanField(
        label=_("计划内停机（维护）"),
        required=False,
        help_text="",
    )
    started_at = _dt(_("开始时间"))
    ended_at = _dt(_("恢复（结束）时间"))
    scope = forms.ChoiceField(label=_("影响范围"), choices=OutageScope.choices)
    cause = forms.CharField(label=_("原因 / 维护内容"), widget=forms.Textarea)
    backup_restore_failed = forms.BooleanField(
        label=_("备份恢复未起作用"), required=False, help_text=_("用于灾难备份考核。")
    )

    def __init__(self, *args: Any, contract: Contract, editing: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["systems"] = systems_field(contract, label=_("受影响的业务系统"))
        self.fields["systems"].widget.attrs["class"] = "form-select form-select-sm"
        self.fields["systems"].widget.attrs["size"] = 6
        if editing:
            del self.fields["planned"]
        else:
            self.fields["planned"].help_text = _("%(rule)s不计入服务中断。") % {
                "rule": maintenance_rule_text(contract)
            }
            if contract.maintenance_notice_hours is not None:
                self.fields["planned"].help_text += _(
                    "通知不足 %(h)s 小时的，平台登记并通知甲方。"
                ) % {"h": contract.maintenance_notice_hours}


class ConfirmOutageForm(PortalForm):
    attribution = forms.ChoiceField(
        label=_("责任认定"),
        choices=[("vendor", _("乙方原因")), ("other", _("非乙方原因"))],
    )
    comment = forms.CharField(label=_("意见"), required=False, widget=forms.Textarea)


class CommentForm(PortalForm):
    comment = forms.CharField(label=_("意见"), required=False, widget=forms.Textarea)


class ReasonForm(PortalForm):
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea)


class IncidentForm(PortalForm):
    level = forms.TypedChoiceField(label=_("事故等级"), choices=IncidentLevel.choices, coerce=int)
    title = forms.CharField(label=_("标题"), max_length=200)
    occurred_at = _dt(_("发现时间"))
    reported_at = _dt(_("通报时间"), required=False, help_text=_("不填则为当前时间。"))
    resolved_at = _dt(_("解决时间"), required=False)
    affected_systems = forms.CharField(label=_("受影响的系统"), required=False)
    description = forms.CharField(
        label=_("事件经过"),
        widget=forms.Textarea,
        help_text=_("类别、级别、发现与通报时间、解决时间、受影响的系统、残留影响等。"),
    )
    evidence = forms.FileField(label=_("事件响应报告"), required=False)


class AssessIncidentForm(PortalForm):
    fully_reported = forms.TypedChoiceField(
        label=_("是否如实全面报告"),
        choices=[("1", _("是")), ("0", _("否（扣10分）"))],
        coerce=lambda v: v == "1",
    )
    vendor_caused = forms.TypedChoiceField(
        label=_("责任认定"),
        choices=[("1", _("乙方责任")), ("0", _("非乙方责任（不计入考核）"))],
        coerce=lambda v: v == "1",
    )
    comment = forms.CharField(label=_("认定意见"), required=False, widget=forms.Textarea)


class SecuritySubmitForm(PortalForm):
    item = forms.ChoiceField(label=_("考核项"), choices=SecurityItem.choices)
    evidence = forms.FileField(label=_("证明材料"))
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea)


class SecurityReviewForm(PortalForm):
    item_id = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        choices=[("accept", _("通过")), ("reject", _("不通过")), ("waive", _("非乙方责任"))]
    )
    comment = forms.CharField(label=_("意见"), required=False, widget=forms.Textarea)


class SecurityWaiveForm(PortalForm):
    item = forms.ChoiceField(label=_("考核项"), choices=SecurityItem.choices)
    reason = forms.CharField(label=_("认定理由"), widget=forms.Textarea)


class TrainingPlanForm(PortalForm):
    description = forms.CharField(label=_("培训计划内容"), widget=forms.Textarea)
    document = forms.FileField(label=_("培训计划文件"), required=False)


class TrainingSessionForm(PortalForm):
    held_on = _date(_("培训日期"))
    topic = forms.CharField(label=_("培训主题"), max_length=200)
    attendees = forms.IntegerField(label=_("参训人数"), min_value=1)
    materials = forms.FileField(label=_("培训材料"), required=False)


class DecisionForm(PortalForm):
    """A yes/no decision posted by one of two buttons (``decision=accept|reject``)."""

    decision = forms.ChoiceField(choices=[("accept", _("通过")), ("reject", _("不通过"))])
    comment = forms.CharField(label=_("意见"), required=False, widget=forms.Textarea)

    @property
    def accepted(self) -> bool:
        return self.cleaned_data["decision"] == "accept"


class DeliverableForm(PortalForm):
    # Statements are recorded from billing (statement_is_deliverable), never registered by hand.
    kind = forms.ChoiceField(
        label=_("类型"),
        choices=[
            (v, label) for v, label in DeliverableKind.choices if v != DeliverableKind.STATEMENT
        ],
    )
    title = forms.CharField(
        label=_("名称"), max_length=200, required=False, help_text=_("月报可不填。")
    )
    period_month = forms.CharField(
        label=_("所属月份"),
        required=False,
        widget=forms.DateInput(attrs={"type": "month"}),
        help_text=_(
            "运维服务月报必填：有服务水平协议的合同截止日期为次月第5个工作日，"
            "其他合同请同时填写截止日期。"
        ),
    )
    due_date = _date(_("截止日期"), required=False, help_text=_("月报以外的交付物必填。"))
    document = forms.FileField(label=_("同时上传文件（乙方）"), required=False)

    def clean_period_month(self):
        value = self.cleaned_data.get("period_month") or ""
        if not value:
            return None
        try:
            return parse_month(value)
        except ValueError:
            raise forms.ValidationError(_("月份格式应为 YYYY-MM。")) from None


class UploadForm(PortalForm):
    document = forms.FileField(label=_("文件"))
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea)


class SurveyForm(PortalForm):
    title = forms.CharField(label=_("标题"), max_length=200, required=False)
    instructions = forms.CharField(label=_("填写说明"), required=False, widget=forms.Textarea)
    closes_on = _date(_("截止日期"), required=False)


class SurveyResponseForm(PortalForm):
    score = forms.IntegerField(
        label=_("满意度评分总分（0–100）"),
        min_value=0,
        max_value=100,
        help_text=_("按《政务云用户满意度调查表》各项评分合计。"),
    )
    comment = forms.CharField(label=_("意见建议"), required=False, widget=forms.Textarea)


class NoticeForm(PortalForm):
    title = forms.CharField(label=_("问题"), max_length=200)
    description = forms.CharField(label=_("问题描述及整改要求"), widget=forms.Textarea)


class FixForm(PortalForm):
    report = forms.CharField(label=_("整改报告"), widget=forms.Textarea)
    document = forms.FileField(label=_("整改报告文件"), required=False)


class PenaltyForm(PortalForm):
    occurred_on = _date(_("发生日期"))
    reason = forms.CharField(label=_("处罚事由"), widget=forms.Textarea)
    clause = forms.CharField(label=_("依据条款"), max_length=200)
    amount = forms.DecimalField(
        label=_("扣款金额（元）"), required=False, min_value=Decimal("0.01"), decimal_places=2
    )
    points = forms.DecimalField(
        label=_("扣分"), required=False, min_value=Decimal("0.1"), decimal_places=1
    )
    area = forms.ChoiceField(
        label=_("扣分考核项"), required=False, choices=[("", "—"), *AreaChoice.choices]
    )


class EmergencyForm(PortalForm):
    start_date = _date(_("开始日期"))
    end_date = _date(_("结束日期"))
    reason = forms.CharField(label=_("事由"), widget=forms.Textarea)

    def __init__(self, *args: Any, contract: Contract, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["systems"] = systems_field(
            contract, label=_("涉及的业务系统"), help_text=_("不选表示全部业务系统。")
        )
        self.fields["systems"].widget.attrs["class"] = "form-select form-select-sm"


class MetricsUploadForm(PortalForm):
    file = forms.FileField(
        label=_("CSV 文件"),
        help_text=_("表头：resource,day,cpu_pct,mem_pct,disk_pct,disk_used_gb（UTF-8）。"),
    )


class FinaliseForm(PortalForm):
    ratio_pct = forms.DecimalField(
        label=_("扣款比例（%）"),
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("10"),
        decimal_places=2,
        help_text=_("不填则按考核等级的最高扣款比例。"),
    )


class FinaliseOverrideForm(FinaliseForm):
    """Finalising while months of the service year still lack a signed statement."""

    override_reason = forms.CharField(
        label=_("强制定稿原因"),
        widget=forms.Textarea,
        help_text=_("尚有月份的统计表未签认；原因、操作人和时间将记录并显示在考核表上。"),
    )


# ------------------------------------------------ scorecard: rectify, re-score, penalty


class RectificationOpenForm(PortalForm):
    """The bureau's requirements for the rectification of a failing round."""

    requirements = forms.CharField(
        label=_("整改要求"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("写明须整改的问题、要求和期限；乙方提交整改报告，经确认后再进行评分。"),
    )


class RectificationReportForm(PortalForm):
    report = forms.CharField(label=_("整改报告"), widget=forms.Textarea(attrs={"rows": 4}))
    document = forms.FileField(label=_("整改报告文件"), required=False)


class RectificationDecideForm(PortalForm):
    accept = forms.TypedChoiceField(
        label=_("确认意见"),
        choices=[("1", _("确认整改完成")), ("0", _("退回重新整改"))],
        coerce=lambda v: v == "1",
    )
    comment = forms.CharField(
        label=_("意见"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("退回时必填。"),
    )


class RescoreForm(FinaliseForm):
    """Scoring the year again after the rectification was confirmed (the same ratio rule)."""


class PenaltyWaiveForm(PortalForm):
    reason = forms.CharField(
        label=_("放弃主张原因"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("原因、操作人和时间将记录并显示在考核表上。"),
    )


class AdviceBulkForm(PortalForm):
    """One answer for several advice (the advice ids come as the ``advice`` checkboxes)."""

    decision = forms.ChoiceField(
        label=_("对所选建议"),
        choices=[("accept", _("全部接受（各生成一张变更工单草稿）")), ("decline", _("全部拒绝"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("理由 / 说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("拒绝时必填，对所选各条建议一并生效；接受时可选，写入变更工单的申请理由。"),
    )
