"""Exit records for a test world, built through the real services (also used by the tenancy
matrix entries of the exit URLs, see the report of issue 12 item 7).

``bt_terms`` / ``jz_terms`` give the world contract the two reference regimes: BT-2025 (handover
plan 30 days before the end, staff register, data deletion confirmed by bureau and supervisor)
and JZ-2026 (none of it: the bureau alone confirms).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from django.conf import settings

from govcloud.dates import business_today
from govcloud.models import BusinessSystem
from govcloud.pdf.signing import create_dev_ca, demo_signing_passphrase, dev_party, party_key
from sla.models import ExitKind, ExitMethod, ExitRecord, StaffAccessEntry
from sla.services import exit as services
from tests.sla.factories import pdf

PERFORMED = date(2026, 12, 1)


def performed_on() -> date:
    """2026-12-01, or yesterday when the suite runs before that (never a future date)."""
    return min(PERFORMED, business_today() - timedelta(days=1))


def bt_terms(world):
    contract = world.contract
    contract.handover_plan_days_before_end = 30
    contract.continuation_working_days = 30
    contract.staff_register_required = True
    contract.joint_confirmations = {"data_deletion": ["bureau", "supervisor"]}
    contract.save(
        update_fields=[
            "handover_plan_days_before_end",
            "continuation_working_days",
            "staff_register_required",
            "joint_confirmations",
        ]
    )
    return world


def jz_terms(world):
    contract = world.contract
    contract.handover_plan_days_before_end = None
    contract.staff_register_required = False
    contract.joint_confirmations = {}
    contract.save(
        update_fields=[
            "handover_plan_days_before_end",
            "staff_register_required",
            "joint_confirmations",
        ]
    )
    return world


def vendor_passphrase(world) -> str:
    """The vendor's demo passphrase, its key issued in ``settings.SIGNING_DIR`` when missing."""
    vendor = world.orgs["vendor"]
    directory = Path(settings.SIGNING_DIR)
    if not (directory / f"{party_key(vendor.pk)}.p12").exists():
        create_dev_ca(directory, [dev_party(vendor.pk, vendor.name)])
    return demo_signing_passphrase(vendor.pk)


def exit_system(world, name: str = "不动产登记系统") -> BusinessSystem:
    system, _created = BusinessSystem.objects.get_or_create(
        department=world.orgs["department"], name=name
    )
    return system


def deletion_data(**overrides) -> services.ExitRecordData:
    values = {
        "kind": ExitKind.DELETION,
        "method": ExitMethod.OVERWRITE,
        "performed_on": performed_on(),
        "scope_data": True,
        "scope_backups": True,
        "scope_media": False,
        "scope_note": "数据库全部表空间、对象存储桶及其全部快照与备份",
        "authorisation_ref": "包数管函〔2026〕12号",
        "witnesses": (("supervisor", "李四"), ("bureau", "张三")),
    }
    values.update(overrides)
    return services.ExitRecordData(**values)


def draft_record(world, **overrides) -> ExitRecord:
    return services.exit_record_create(
        actor=world.users["vendor"],
        contract=world.contract,
        system=exit_system(world),
        data=deletion_data(**overrides),
    )


def signed_record(world, **overrides) -> ExitRecord:
    record = draft_record(world, **overrides)
    return services.exit_record_sign(
        actor=world.users["vendor"], record=record, signing_passphrase=vendor_passphrase(world)
    )


def staff_entry(world, **overrides) -> StaffAccessEntry:
    if not world.contract.staff_register_required:
        bt_terms(world)
    values = {
        "person_name": "王五",
        "employer": world.orgs["vendor"].name,
        "duty": "operations",
        "position": "云平台运维工程师",
        "access_scope": "云主机、云数据库运维（堡垒机）",
        "access_from": date(2026, 2, 1),
        "undertaking_signed_on": date(2026, 1, 20),
    }
    values.update(overrides)
    return services.staff_entry_create(
        actor=world.users["vendor"],
        contract=world.contract,
        data=services.StaffEntryData(**values),
        undertaking_file=pdf("undertaking.pdf"),
    )
