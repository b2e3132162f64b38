"""The contract's priced catalog in the admin: list, edit, and import a CSV (system admin).

Registered by ``billing.admin``. The import is offered as a button on the contract's admin page
through ``govcloud.admin.register_contract_tool`` (the core does not know billing).

Prices have effective dates (``CatalogPrice``): an edit of an item's price, or an import that
changes one, needs the date from which the new price applies and its basis (the clause or
amendment); months before it keep billing at the old price. The price history is shown
read-only on the item's page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from billing.models import CatalogItem, CatalogPrice
from billing.services import catalog_import
from billing.services.catalog import (
    catalog_item_first_price,
    catalog_price_check,
    catalog_price_set,
)
from govcloud.admin import ContractTool, register_contract_tool
from govcloud.admin_mixins import BUREAU_STAFF, SYSTEM, ReadOnlyMixin, ScopedAdmin
from govcloud.exceptions import ApplicationError
from govcloud.models import Contract

EFFECTIVE_HELP = _(
    "单价有变化时必填：新单价自该日00:00起适用，此前的月份仍按原价计费。"
    "影响已签认月份的调价不予办理。"
)
IMPORT_DONE = _("导入完成：新增 %(c)s 项，更新 %(u)s 项（其中调价 %(p)s 项），未变 %(n)s 项。")
BASIS_HELP = _("单价有变化时必填：调价依据的合同条款或补充协议，如“补充协议（2026-05）第2条”。")


class CatalogImportForm(forms.Form):
    file = forms.FileField(
        label=_("目录 CSV 文件"),
        help_text=_("列：code,section,name,spec,unit,unit_price,period（UTF-8）"),
    )
    price_effective_from = forms.DateField(
        label=_("调价生效日期"), required=False, help_text=EFFECTIVE_HELP
    )
    price_basis = forms.CharField(
        label=_("调价依据"), required=False, max_length=300, help_text=BASIS_HELP
    )


class CatalogItemForm(forms.ModelForm):
    """The item's fields plus, for a price change, its effective date and basis."""

    price_effective_from = forms.DateField(
        label=_("调价生效日期"), required=False, help_text=EFFECTIVE_HELP
    )
    price_basis = forms.CharField(
        label=_("调价依据"), required=False, max_length=300, help_text=BASIS_HELP
    )

    class Meta:
        model = CatalogItem
        fields = [
            "contract",
            "code",
            "section",
            "name",
            "spec",
            "unit",
            "unit_price",
            "period",
            "vcpus",
            "memory_gb",
            "sort_order",
            "is_active",
            "max_quantity",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        item = self.instance
        if item.pk is None or "unit_price" not in self.changed_data:
            return data
        stored = CatalogItem.objects.select_related("contract").get(pk=item.pk)
        try:
            catalog_price_check(
                item=stored,
                unit_price=data.get("unit_price"),
                effective_from=data.get("price_effective_from"),
                basis=data.get("price_basis") or "",
            )
        except ApplicationError as exc:
            raise ValidationError({"price_effective_from": exc.message}) from exc
        return data


class CatalogPriceInline(ReadOnlyMixin, admin.TabularInline):
    model = CatalogPrice
    fields = ["effective_from", "unit_price", "basis", "created_at", "actor_repr"]
    readonly_fields = fields
    ordering = ["effective_from"]
    extra = 0
    can_delete = False
    verbose_name_plural = _("价格（含生效日期）")

    def has_view_permission(self, request, obj=None) -> bool:
        # Shown inside the item's page, which its admin already gates (role and scope).
        return True


@admin.register(CatalogItem)
class CatalogItemAdmin(ScopedAdmin):
    manage_roles = SYSTEM
    view_roles = BUREAU_STAFF
    scope_contract = "contract"
    form = CatalogItemForm
    inlines = [CatalogPriceInline]
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

    def save_model(self, request, obj, form, change):
        """A price change goes through ``catalog_price_set`` (dated, with its basis, audited);
        the other fields are saved (and audited) as usual."""
        new_price = obj.unit_price
        price_changed = change and "unit_price" in form.changed_data
        if price_changed:
            obj.unit_price = CatalogItem.objects.get(pk=obj.pk).unit_price
        super().save_model(request, obj, form, change)
        if not change:
            catalog_item_first_price(actor=request.user, item=obj)
        elif price_changed:
            catalog_price_set(
                actor=request.user,
                item=obj,
                unit_price=new_price,
                effective_from=form.cleaned_data.get("price_effective_from"),
                basis=form.cleaned_data.get("price_basis") or "",
            )
            obj.refresh_from_db(fields=["unit_price"])

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
                    result = catalog_import(
                        actor=request.user,
                        contract=contract,
                        csv_text=text,
                        price_effective_from=form.cleaned_data.get("price_effective_from"),
                        price_basis=form.cleaned_data.get("price_basis") or "",
                    )
                except ApplicationError as exc:
                    errors = [exc.message, *exc.extra.get("errors", [])]
                else:
                    messages.success(
                        request,
                        IMPORT_DONE
                        % {
                            "c": result.created,
                            "u": result.updated,
                            "p": len(result.prices_changed),
                            "n": result.unchanged,
                        },
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
