"""Admin of the durable document jobs (``govcloud.jobs``): read-only, failed ones re-queued."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from govcloud.admin_mixins import BUREAU_STAFF, ScopedAdmin
from govcloud.jobs import job_enqueue, job_retry
from govcloud.models import Job, JobStatus


@admin.register(Job)
class JobAdmin(ScopedAdmin):
    """The renders and e-mails of the bureau's contracts' documents, and where each stands."""

    view_roles = BUREAU_STAFF
    scope_contract = "contract"
    list_display = ["created_at", "task", "key", "status", "attempts", "finished_at"]
    list_filter = ["status", "task"]
    search_fields = ["key", "task"]
    readonly_fields = [
        "task",
        "key",
        "args",
        "kwargs",
        "status",
        "attempts",
        "created_at",
        "run_after",
        "claimed_at",
        "finished_at",
        "last_error",
        "contract",
    ]
    actions = ["retry_failed"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("重新执行所选的失败任务"))
    def retry_failed(self, request, queryset):
        retried = [
            row.pk for row in queryset.filter(status=JobStatus.FAILED) if job_retry(pk=row.pk)
        ]
        for pk in retried:
            transaction.on_commit(lambda pk=pk: job_enqueue(pk))
        messages.info(request, _("已重新排队 %(n)s 个任务。") % {"n": len(retried)})
