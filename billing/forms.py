"""Portal forms of billing: they parse input; the services decide what is allowed."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import (
    EscalationDecision,
    ReauthMethod,
    StatementStatus,
)
from billing.services.reauth import Reauth, SigningSecret
from govcloud.dates import business_today, month_label, month_start, parse_month, previous_month
from govcloud.lifecycle import contract_billing_last_day
from govcloud.models import Contract

SELECT = {"class": "form-select form-select-sm"}
TEXT = {"class": "form-control form-control-sm"}
MONTHS = [(m, f"{m}月") for m in range(1, 13)]


# ------------------------------------------------------------------------------ filters


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


def _year_field() -> forms.IntegerField:
    return forms.IntegerField(
        label=_("年度"),
        required=False,
        min_value=2000,
        max_value=2100,
        widget=forms.NumberInput(attrs={**TEXT, "placeholder": "2026", "inputmode": "numeric"}),
    )


def _month_field() -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=_("月份"),
        coerce=int,
        required=False,
        choices=[("", _("全部月份")), *MONTHS],
        widget=forms.Select(attrs=SELECT),
    )


class StatementFilterForm(_FilterForm):
    contract = forms.TypedChoiceField(
        label=_("合同"), coerce=int, required=False, widget=forms.Select(attrs=SELECT)
    )
    year = _year_field()
    month = _month_field()
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部状态")), *StatementStatus.choices],
        widget=forms.Select(attrs=SELECT),
    )


class BillFilterForm(_FilterForm):
    contract = forms.TypedChoiceField(
        label=_("合同"), coerce=int, required=False, widget=forms.Select(attrs=SELECT)
    )
    year = _year_field()
    month = _month_field()
    department = forms.TypedChoiceField(
        label=_("使用单位"), coerce=int, required=False, widget=forms.Select(attrs=SELECT)
    )


class LineFilterForm(_FilterForm):
    """The statement page's line table: one department (and one system) at a time."""

    department = forms.TypedChoiceField(
        label=_("使用单位"),
        coerce=int,
        required=False,
        widget=forms.Select(attrs={**SELECT, "data-autosubmit": ""}),
    )
    system = forms.TypedChoiceField(
        label=_("业务系统"),
        coerce=int,
        required=False,
        widget=forms.Select(attrs={**SELECT, "data-autosubmit": ""}),
    )
    item = forms.CharField(
        label=_("目录编码"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={**TEXT, "placeholder": _("如 ecs.general.vcpu")}),
    )

    def __init__(self, *args: Any, systems: list[tuple[Any, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["system"].choices = [("", _("全部业务系统")), *systems]


# ------------------------------------------------------------------------------ actions


def billable_months(contract: Contract, today: date) -> tuple[date, date]:
    """The first and last month (first days) a statement of ``contract`` can be generated for
    on ``today``: from the month billing starts (``billing_from``) to the month of the last
    billed day (``contract_billing_last_day``: the end, a termination or a successor's
    cutover), and no later than the last month that is over. ``first > last`` when no month
    can be generated yet."""
    first = month_start(contract.billing_from)
    last = min(month_start(contract_billing_last_day(contract)), previous_month(today))
    return first, last


def default_statement_month(contract: Contract, today: date) -> date:
    """The month the generation form offers: the latest month the contract can bill that is
    over, else (nothing over yet) its first billed month."""
    first, last = billable_months(contract, today)
    return last if last >= first else first


class GenerateForm(forms.Form):
    contract = forms.TypedChoiceField(
        label=_("合同"), coerce=int, widget=forms.Select(attrs=SELECT)
    )
    month = forms.CharField(
        label=_("统计月份"),
        widget=forms.DateInput(attrs={**TEXT, "type": "month"}),
        help_text=_("格式 YYYY-MM，须为已结束、且在合同计费期内的月份。"),
    )

    def __init__(
        self,
        *args: Any,
        contracts: list[tuple[Any, str]],
        today: date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contract"].choices = contracts
        self.today = today or business_today()
        # The contracts offered, to default and bound the month by what each can bill.
        self.contracts = Contract.objects.in_bulk([pk for pk, _label in contracts])
        ranges = [billable_months(c, self.today) for c in self.contracts.values()]
        if ranges:
            attrs = self.fields["month"].widget.attrs
            attrs["min"] = month_label(min(first for first, _last in ranges))
            attrs["max"] = month_label(max(max(first, last) for first, last in ranges))
        if not self.is_bound and contracts:
            first_pk = self.initial.get("contract") or contracts[0][0]
            contract = self.contracts.get(first_pk)
            if contract is not None:
                self.initial["contract"] = contract.pk
                self.initial["month"] = month_label(default_statement_month(contract, self.today))

    def clean_month(self) -> tuple[int, int]:
        """``2026-03`` (the value of ``<input type=month>``) → (2026, 3)."""
        try:
            month = parse_month(self.cleaned_data["month"])
        except ValueError:
            raise forms.ValidationError(_("统计月份格式应为 YYYY-MM。")) from None
        return month.year, month.month

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        contract = self.contracts.get(data.get("contract") or 0)
        if contract is None or "month" not in data:
            return data
        chosen = date(*data["month"], 1)
        first = month_start(contract.billing_from)
        last_billed = month_start(contract_billing_last_day(contract))
        if not first <= chosen <= last_billed:
            self.add_error(
                "month",
                _("%(m)s 不在合同计费期内（%(c)s 计费月份为 %(f)s 至 %(l)s）。")
                % {
                    "m": month_label(chosen),
                    "c": contract.code,
                    "f": month_label(first),
                    "l": month_label(last_billed),
                },
            )
        elif chosen > previous_month(self.today):
            self.add_error(
                "month", _("%(m)s 尚未结束，不能出具统计表。") % {"m": month_label(chosen)}
            )
        return data


class ReauthForm(forms.Form):
    """What the person types to prove again who they are at the moment of signing."""

    reauth_method = forms.ChoiceField(
        label=_("验证方式"),
        choices=ReauthMethod.choices,
        initial=ReauthMethod.TOTP,
        required=False,
        widget=forms.Select(attrs=SELECT),
    )
    reauth_value = forms.CharField(
        label=_("动态验证码或登录密码"),
        required=False,
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={**TEXT, "autocomplete": "one-time-code"}),
    )

    def reauth(self) -> Reauth:
        data = self.cleaned_data if self.is_valid() else {}
        return Reauth(method=data.get("reauth_method") or "", value=data.get("reauth_value") or "")


class SigningForm(ReauthForm):
    """A sign-off that signs the PDF: also the passphrase of the organisation's signing key,
    which opens the key in memory for this request and is never stored."""

    signing_passphrase = forms.CharField(
        label=_("签名密钥口令"),
        required=False,
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={**TEXT, "autocomplete": "off"}),
    )

    def signing_secret(self) -> SigningSecret:
        data = self.cleaned_data if self.is_valid() else {}
        return SigningSecret(data.get("signing_passphrase") or "")


class SubmitForm(SigningForm):
    pass


class ConfirmForm(SigningForm):
    comment = forms.CharField(label=_("意见"), required=False, max_length=2000)


def parse_positions(value: str) -> list[int] | None:
    """``"3, 15 20"`` → [3, 15, 20]; None when something is not a number."""
    parts = [p for p in re.split(r"[\s,，、;；]+", value or "") if p]
    if not all(p.isdigit() for p in parts):
        return None
    return [int(p) for p in parts]


class DisputeForm(ReauthForm):
    comment = forms.CharField(label=_("异议意见"), required=False, max_length=4000)
    line_ids = forms.TypedMultipleChoiceField(
        label=_("有异议的明细"), coerce=int, required=False, choices=[]
    )
    positions = forms.CharField(
        label=_("明细序号"),
        required=False,
        max_length=2000,
        help_text=_("可选，多个序号用逗号分隔。"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any id is accepted here; the service checks that each belongs to the statement.
        self.fields["line_ids"].valid_value = lambda value: str(value).isdigit()


class CommentForm(forms.Form):
    text = forms.CharField(label=_("留言"), required=False, max_length=4000)
    position = forms.IntegerField(label=_("关联明细序号"), required=False, min_value=1)


class DecideForm(SigningForm):
    decision = forms.ChoiceField(
        label=_("审计结论"), choices=EscalationDecision.choices, required=False
    )
    comment = forms.CharField(label=_("审计意见"), required=False, max_length=4000)


class SupersedeForm(forms.Form):
    reason = forms.CharField(label=_("更正原因"), required=False, max_length=4000)


# --------------------------------------------------------------------------- settlement


class DeductionForm(forms.Form):
    period_label = forms.ChoiceField(label=_("结算期"), widget=forms.Select(attrs=SELECT))
    amount = forms.DecimalField(
        label=_("扣款金额（元）"),
        min_value=Decimal("0.01"),
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={**TEXT, "step": "0.01", "min": "0.01"}),
    )
    reason = forms.CharField(
        label=_("扣款原因"),
        max_length=4000,
        widget=forms.Textarea(attrs={**TEXT, "rows": 2}),
    )
    event_on = forms.DateField(
        label=_("扣款事由发生日"),
        required=False,
        widget=forms.DateInput(attrs={**TEXT, "type": "date"}, format="%Y-%m-%d"),
        help_text=_("书面通知书的期限自该日起算；留空为今天。"),
    )

    def __init__(self, *args: Any, periods: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period_label"].choices = periods


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("理由"), max_length=4000, widget=forms.Textarea(attrs={**TEXT, "rows": 2})
    )


class DeductionReissueForm(ReasonForm):
    amount = forms.DecimalField(
        label=_("扣款金额（元）"),
        min_value=Decimal("0.01"),
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={**TEXT, "step": "0.01", "min": "0.01"}),
    )


class PaymentForm(forms.Form):
    installment = forms.TypedChoiceField(
        label=_("付款期次"), coerce=int, required=False, widget=forms.Select(attrs=SELECT)
    )
    period_label = forms.ChoiceField(
        label=_("结算期"), required=False, widget=forms.Select(attrs=SELECT)
    )
    amount = forms.DecimalField(
        label=_("付款金额（元）"),
        min_value=Decimal("0.01"),
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={**TEXT, "step": "0.01", "min": "0.01"}),
    )
    paid_on = forms.DateField(
        label=_("付款日期"),
        widget=forms.DateInput(attrs={**TEXT, "type": "date"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(
        label=_("备注"), required=False, max_length=200, widget=forms.TextInput(attrs=TEXT)
    )

    def __init__(
        self,
        *args: Any,
        installments: list[tuple[int, str]],
        today: date,
        periods: list[tuple[str, str]] = (),  # type: ignore[assignment]
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["installment"].choices = [("", _("（不对应期次）")), *installments]
        self.fields["period_label"].choices = [("", _("（不对应结算期）")), *periods]
        self.fields["paid_on"].widget.attrs["max"] = today.isoformat()
        self.fields["paid_on"].initial = today


def form_error_text(form: forms.Form) -> str:
    """The form's errors as one line for a flash message."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        text = "；".join(str(e) for e in errors)
        parts.append(f"{label}：{text}" if label else text)
    return "；".join(parts)


# ---------------------------------------------------------------------- test periods

DATETIME_LOCAL = forms.DateTimeInput(
    attrs={**TEXT, "type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
)


def _reason_field() -> forms.CharField:
    return forms.CharField(
        label=_("原因"),
        max_length=2000,
        widget=forms.Textarea(attrs={**TEXT, "rows": 2}),
        help_text=_("如：系统已于该时刻正式切换上线；或：联调未完成，经甲方同意延长。"),
    )


class SystemTestPeriodEndEarlyForm(forms.Form):
    """The bureau ends a test period at the system's cutover to production."""

    cutover = forms.DateTimeField(
        label=_("切换上线时间（北京时间）"),
        widget=DATETIME_LOCAL,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=_("自该时刻起计费。"),
    )
    reason = _reason_field()


class SystemTestPeriodExtendForm(forms.Form):
    """The bureau extends a test period to a new end."""

    ends_at = forms.DateTimeField(
        label=_("新的结束时间（北京时间）"),
        widget=DATETIME_LOCAL,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=_("自该时刻起计费。"),
    )
    reason = _reason_field()


# ------------------------------------------------------------------ inventory corrections

_LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


class _MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class EvidenceFilesField(forms.FileField):
    """Several evidence files from one ``<input type=file multiple>``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", _MultipleFileInput(attrs={"class": "form-control"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def _local_time(label: str, help_text: str = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        widget=DATETIME_LOCAL,
        input_formats=_LOCAL_FORMATS,
        help_text=help_text,
    )


CHANGE_NONE = ""
CHANGE_ADD = "add"


class InventoryCorrectionForm(forms.Form):
    """A correction of one resource: the fields left empty stay as they are. The service
    decides what is allowed (and says why not)."""

    online_at = _local_time(
        _("上线时间（北京时间）"),
        _("计费开始原为上线时间（无测试期）且未另填时，随之调整；交付记录的生效时间亦随之调整。"),
    )
    billing_starts_at = _local_time(_("计费开始（北京时间）"))
    offline_at = _local_time(_("下线时间（北京时间）"), _("资源实际已释放的时间。"))
    change = forms.ChoiceField(
        label=_("配置与数量记录"),
        required=False,
        widget=forms.Select(attrs=SELECT),
        help_text=_(
            "选择要更正的记录，或补录一条漏记的变更；不选而填写数量或目录项时更正最近一条记录。"
        ),
    )
    change_delivered_at = _local_time(
        _("配置生效时间（北京时间）"), _("12:00 前生效的当日起计费，否则次日起。")
    )
    change_quantity = forms.IntegerField(
        label=_("数量"), required=False, widget=forms.NumberInput(attrs={**TEXT, "min": 1})
    )
    change_catalog_item = forms.TypedChoiceField(
        label=_("目录项"),
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.Select(attrs=SELECT),
    )
    reason = forms.CharField(
        label=_("更正原因"),
        max_length=4000,
        widget=forms.Textarea(attrs={**TEXT, "rows": 3}),
        error_messages={"required": _("请填写更正原因。")},
        help_text=_("如：平台故障致工单交付时间记录异常，以多云管理平台日志为准。"),
    )
    evidence = EvidenceFilesField(
        label=_("证明材料"),
        required=False,
        help_text=_(
            "至少一份；可多选。PDF、Office 文档、图片、TXT、LOG、CSV 或 ZIP，每个不超过 20 MB。"
        ),
    )

    def __init__(
        self,
        *args: Any,
        changes: list[tuple[Any, str]],
        items: list[tuple[Any, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["change"].choices = [
            (CHANGE_NONE, _("（不更正配置，或更正最近一条）")),
            *changes,
            (CHANGE_ADD, _("补录一条配置变更")),
        ]
        self.fields["change_catalog_item"].choices = [("", _("（不变）")), *items]

    def correction_input(self) -> dict[str, Any]:
        """The cleaned data as ``CorrectionInput`` keyword arguments."""
        data = self.cleaned_data
        change = data.get("change") or CHANGE_NONE
        return {
            "online_at": data.get("online_at"),
            "billing_starts_at": data.get("billing_starts_at"),
            "offline_at": data.get("offline_at"),
            "change_id": int(change) if change not in (CHANGE_NONE, CHANGE_ADD) else None,
            "add_change": change == CHANGE_ADD,
            "change_delivered_at": data.get("change_delivered_at"),
            "change_quantity": data.get("change_quantity"),
            "change_catalog_item_id": data.get("change_catalog_item"),
        }


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("撤回说明"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={**TEXT, "rows": 2}),
    )
