"""The contract's priced catalog in the admin: list, edit, and import a CSV (system admin).

Registered by ``billing.admin``. The import is offered as a button on the contract's admin page
through ``govcloud.admin.register_contract_tool`` (the core does not know billing).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from billing.models import CatalogItem
from billing.services import catalog_import
from govcloud.admin import ContractTool, register_contract_tool
from govcloud.admin_mixins import BUREAU_STAFF, SYSTEM, ScopedAdmin
from govcloud.exceptions import ApplicationError
from govcloud.models import Contract


class CatalogImportForm(forms.Form):
    file = forms.FileField(
        label=_("目录 CSV 文件"),
        help_text=_("列：code,section,name,spec,unit,unit_price,period（UTF-8）"),
    )


@admin.register(CatalogItem)
class CatalogItemAdmin(ScopedAdmin):
    manage_roles = SYSTEM
    view_roles = BUREAU_STAFF
    scope_contract = "contract"
    list_display = [
        "code",
        "contract",
        "section",
        "name",
        "spec",
        "unit",
        "unit_price",
        "period",
        "is_active",
    ]
    list_filter = ["contract", "section", "period", "is_active"]
    search_fields = ["code", "name", "spec"]
    list_select_related = ["contract"]

    def get_urls(self):
        urls = super().get_urls()
        return [
            path(
                "import/<int:pk>/",
                self.admin_site.admin_view(self.import_catalog_view),
                name="billing_catalogitem_import",
            ),
            *urls,
        ]

    def import_catalog_view(self, request, pk: int):
        contracts = self.admin_site.get_model_admin(Contract).scoped_queryset(request)
        contract = get_object_or_404(contracts, pk=pk)
        contract_page = reverse("admin:govcloud_contract_change", args=[pk])
        if not self.has_add_permission(request):
            messages.error(request, _("只有系统管理员可以导入服务目录。"))
            return redirect(contract_page)
        form = CatalogImportForm(request.POST or None, request.FILES or None)
        errors: list[str] = []
        if request.method == "POST" and form.is_valid():
            raw = form.cleaned_data["file"].read()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                errors = [str(_("文件不是 UTF-8 编码的 CSV。"))]
            else:
                try:
                    result = catalog_import(actor=request.user, contract=contract, csv_text=text)
                except ApplicationError as exc:
                    errors = [exc.message, *exc.extra.get("errors", [])]
                else:
                    messages.success(
                        request,
                        _("导入完成：新增 %(c)s 项，更新 %(u)s 项，未变 %(n)s 项。")
                        % {"c": result.created, "u": result.updated, "n": result.unchanged},
                    )
                    return redirect(contract_page)
        context = {
            **self.admin_site.each_context(request),
            "opts": Contract._meta,
            "contract": contract,
            "form": form,
            "errors": errors,
            "title": _("导入服务目录"),
        }
        return render(request, "admin/billing/catalog_import.html", context)


register_contract_tool(
    ContractTool(label=_("导入服务目录 CSV"), url_name="admin:billing_catalogitem_import")
)
