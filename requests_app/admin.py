"""Tickets in the bureau's admin: read-only lists with filters (actions go through the portal)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from govcloud.admin_mixins import BUREAU_STAFF, ScopedAdmin
from govcloud.audit_labels import register_action_labels
from requests_app.models import (
    ExtensionRequest,
    RequestAttachment,
    RequestLine,
    ResourceRequest,
    Review,
)
from requests_app.views import ACTION_LABELS


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class LineInline(ReadOnlyInline):
    model = RequestLine
    fields = ["catalog_item", "quantity", "resource", "vendor_ref", "delivered_resource", "note"]
    readonly_fields = fields


class ReviewInline(ReadOnlyInline):
    model = Review
    fields = ["step", "party_role", "reviewer", "decision", "comment", "decided_at"]
    readonly_fields = fields


class ExtensionInline(ReadOnlyInline):
    model = ExtensionRequest
    fields = [
        "requested_by",
        "requested_at",
        "reason",
        "expected_completion",
        "status",
        "decided_by",
    ]
    readonly_fields = fields


class AttachmentInline(ReadOnlyInline):
    """The ticket's files, the vendor's delivery-time evidence among them."""

    model = RequestAttachment
    fields = ["name", "purpose", "uploaded_by", "uploaded_at"]
    readonly_fields = fields


@admin.register(ResourceRequest)
class ResourceRequestAdmin(ScopedAdmin):
    """Bureau staff browse every ticket of their contracts; nobody edits them here."""

    view_roles = BUREAU_STAFF
    scope_contract = "contract"
    list_display = [
        "number",
        "kind",
        "status",
        "department",
        "system",
        "approved_at",
        "due_at",
        "delivered_at",
        "delivery_claim_status",
        "breached",
        "exempted",
        "receipt_status",
    ]
    list_filter = [
        "contract",
        "status",
        "kind",
        "breached",
        "exempted",
        "due_provisional",
        "delivery_claim_status",
        "receipt_status",
    ]
    search_fields = ["number", "system__name", "department__name", "reason"]
    date_hierarchy = "created_at"
    list_select_related = ["department", "system"]
    inlines = [LineInline, ReviewInline, ExtensionInline, AttachmentInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


# The ticket history's labels (the portal's) are the audit log's too.
register_action_labels(
    {
        **ACTION_LABELS,
        "inventory.delivery_time_confirmed": _("资源交付时间经确认更正"),
    }
)
