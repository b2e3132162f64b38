"""Portal pages of the end of a contract that touch the inventory (the bureau's):
a successor's cutover and an early termination (``billing.services.succession`` /
``billing.services.termination``).

Each page is a form; submitting it with GET shows the preview — how many resources carry over
or close, and every reason the service would refuse — and the confirmation form; only the POST
of that confirmation acts, through the service (the gate). Whether the user may act at all is
``govcloud.lifecycle.LIFECYCLE_ACTIONS`` — the same table the contract page reads.
The contract is fetched through the scoped selector: 404 for a contract the user cannot see.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from billing.services import succession, termination
from govcloud import lifecycle
from govcloud.exceptions import ActionForbidden, ApplicationError
from govcloud.models import Contract
from govcloud.selectors import (
    contract_get_for_user,
    contract_list_for_user,
    require_business_reader,
)
from govcloud.web import error_text

DATE = forms.DateInput(attrs={"class": "form-control form-control-sm", "type": "date"})
PREVIEW_ROWS = 200


class CutoverForm(forms.Form):
    successor = forms.TypedChoiceField(
        label=gettext_lazy("后续合同"),
        coerce=int,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    cutover_on = forms.DateField(
        label=gettext_lazy("切换日"),
        widget=DATE,
        help_text=gettext_lazy("自该日00:00（北京时间）起资源由后续合同计费。"),
    )

    def __init__(self, *args: Any, successors: list[Contract], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["successor"].choices = [
            ("", _("请选择后续合同")),
            *((c.pk, f"{c.code} {c.name}") for c in successors),
        ]


class TerminateForm(forms.Form):
    notice_given_on = forms.DateField(label=gettext_lazy("书面通知日"), widget=DATE)
    terminates_on = forms.DateField(
        label=gettext_lazy("终止日（最后服务日）"),
        widget=DATE,
        help_text=gettext_lazy("计费至该日24:00；届时在用的资源在该时刻关闭。"),
    )
    reason = forms.CharField(
        label=gettext_lazy("终止原因"),
        max_length=2000,
        widget=forms.Textarea(attrs={"class": "form-control form-control-sm", "rows": 3}),
    )


def _contract_for(request: HttpRequest, pk: int, action: str) -> Contract | HttpResponse:
    """The contract (404 when not visible), or a redirect to its page with the refusal."""
    require_business_reader(request.user, hide=True)
    contract = contract_get_for_user(user=request.user, pk=pk)
    try:
        lifecycle.LIFECYCLE_ACTIONS.require(action, request.user, contract)
    except ActionForbidden:
        raise  # the wrong person: the 403 page with the reason
    except ApplicationError as exc:
        messages.error(request, error_text(exc))
        return redirect("contract_detail", pk=contract.pk)
    return contract


@login_required
@require_http_methods(["GET", "POST"])
def contract_cutover(request: HttpRequest, pk: int) -> HttpResponse:
    """A successor takes the inventory over at a cutover day: form, preview, confirmation."""
    found = _contract_for(request, pk, "cutover")
    if isinstance(found, HttpResponse):
        return found
    contract = found
    successors = succession.successor_choices(
        contract, contract_list_for_user(user=request.user).select_related("predecessor")
    )
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = CutoverForm(data, successors=successors)
    preview = None
    if form.is_bound and form.is_valid():
        successor = next(c for c in successors if c.pk == form.cleaned_data["successor"])
        cutover_on = form.cleaned_data["cutover_on"]
        if request.method == "POST":
            try:
                created = succession.contract_cutover(
                    actor=request.user,
                    predecessor=contract,
                    successor=successor,
                    cutover_on=cutover_on,
                )
            except ApplicationError as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(
                    request,
                    _("%(n)s 项资源已自 %(d)s 00:00 起由 %(s)s 承接，%(p)s 随之结束。")
                    % {
                        "n": len(created),
                        "d": cutover_on.isoformat(),
                        "s": successor.code,
                        "p": contract.code,
                    },
                )
                return redirect("contract_detail", pk=successor.pk)
        preview = succession.cutover_preview(
            predecessor=contract, successor=successor, cutover_on=cutover_on
        )
    return render(
        request,
        "billing/contract_cutover.html",
        {
            "contract": contract,
            "form": form,
            "preview": preview,
            "rows": preview.plans[:PREVIEW_ROWS] if preview else [],
            "lifecycle": lifecycle.lifecycle_of(contract),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def contract_terminate(request: HttpRequest, pk: int) -> HttpResponse:
    """An early termination with the terms' notice: form, preview, confirmation."""
    found = _contract_for(request, pk, "terminate")
    if isinstance(found, HttpResponse):
        return found
    contract = found
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = TerminateForm(data)
    preview = None
    if form.is_bound and form.is_valid():
        values = form.cleaned_data
        if request.method == "POST":
            try:
                termination.contract_terminate(
                    actor=request.user,
                    contract=contract,
                    notice_given_on=values["notice_given_on"],
                    terminates_on=values["terminates_on"],
                    reason=values["reason"],
                )
            except ApplicationError as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(
                    request,
                    _("已登记合同 %(c)s 提前终止（最后服务日 %(t)s），已通知其他当事方。")
                    % {"c": contract.code, "t": values["terminates_on"].isoformat()},
                )
                return redirect(reverse("contract_detail", args=[contract.pk]))
        preview = termination.termination_preview(
            contract=contract,
            notice_given_on=values["notice_given_on"],
            terminates_on=values["terminates_on"],
            reason=values["reason"],
        )
    return render(
        request,
        "billing/contract_terminate.html",
        {
            "contract": contract,
            "form": form,
            "preview": preview,
            "rows": preview.resources[:PREVIEW_ROWS] if preview else [],
        },
    )
