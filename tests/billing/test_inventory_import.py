"""``inventory_import`` and ``import_inventory``: errors by line, all or nothing, test periods."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from billing.models import Resource, ResourceChange, ResourceStatus, SystemTestPeriod
from billing.services.inventory import inventory_import
from govcloud.exceptions import ActionForbidden, ApplicationError
from govcloud.models import AuditEvent, BusinessSystem, Organization
from tests.billing.conftest import HEADER, sh
from tests.factories import DepartmentFactory, UserFactory


def test_creates_resources_with_delivery_history_and_audit(bt):
    text = HEADER + (
        "BT-2025 测试局,预算系统,ecs.general.vcpu,8,2026-03-10 15:00,,2026-03-10 15:00\n"
        "BT-2025 测试局,预算系统,ebs.ssd,500,2025-07-01 09:00,2026-04-02 18:30,\n"
    )
    result = inventory_import(actor="ops", contract=bt.contract, csv_text=text)
    assert result.resources_created == 2
    assert result.systems_created == ["BT-2025 测试局 / 预算系统"]
    vcpu, ssd = Resource.objects.filter(contract=bt.contract).order_by("id")
    assert (vcpu.quantity, vcpu.online_at, vcpu.status) == (8, sh(2026, 3, 10, 15), "active")
    assert (ssd.offline_at, ssd.status) == (sh(2026, 4, 2, 18, 30), ResourceStatus.RELEASED)
    first = ResourceChange.objects.get(resource=ssd)
    assert (first.quantity, first.delivered_at, first.catalog_item_id) == (
        500,
        ssd.online_at,
        ssd.catalog_item_id,
    )
    event = AuditEvent.objects.get(action="inventory.import")
    assert event.after["resources"] == [vcpu.pk, ssd.pk]


def test_bad_rows_reported_by_line_and_nothing_saved(bt):
    text = HEADER + (
        "BT-2025 测试局,甲,ebs.ssd,10,2026-03-01 00:00,,\n"  # fine
        "BT-2025 测试局,甲,nope,10,2026-03-01 00:00,,\n"  # unknown item
        "BT-2025 测试局,甲,ebs.ssd,0,2026-03-01 00:00,,\n"  # quantity
        "BT-2025 测试局,甲,ebs.ssd,1,2026/03/01,,\n"  # date format
        "BT-2025 测试局,甲,ebs.ssd,1,2026-03-02 00:00,2026-03-01 00:00,\n"  # offline < online
        "BT-2025 测试局,甲,ebs.ssd,1,2026-03-02 00:00,,2026-03-01 00:00\n"  # billing < online
        "BT-2025 测试局,甲,ebs.ssd,-3,,,\n"  # quantity and online missing
    )
    with pytest.raises(ApplicationError) as exc:
        inventory_import(actor="ops", contract=bt.contract, csv_text=text)
    errors = exc.value.extra["errors"]
    assert [e.split("：")[0] for e in errors] == [f"第 {n} 行" for n in range(3, 9)]
    assert "nope" in errors[0]
    assert "下线时间必须晚于上线时间" in errors[3]
    assert "计费开始不得早于上线时间" in errors[4]
    assert "上线时间为空" in errors[5]
    assert not Resource.objects.exists()
    assert not BusinessSystem.objects.filter(name="甲").exists()


def test_unknown_department_is_an_error_unless_created(bt):
    text = HEADER + "新单位,系统,ebs.ssd,1,2026-03-01 00:00,,\n"
    with pytest.raises(ApplicationError) as exc:
        inventory_import(actor="ops", contract=bt.contract, csv_text=text)
    assert "第 2 行" in exc.value.extra["errors"][0]
    assert "--create-departments" in exc.value.extra["errors"][0]
    assert not Organization.objects.filter(name="新单位").exists()

    result = inventory_import(
        actor="ops", contract=bt.contract, csv_text=text, create_departments=True
    )
    created = Organization.objects.get(name="新单位")
    assert (created.kind, created.parent) == ("department", bt.contract.bureau)
    assert result.departments_created == ["新单位"]


def test_department_of_another_bureau_is_refused(bt):
    stranger = DepartmentFactory()
    text = HEADER + f"{stranger.name},系统,ebs.ssd,1,2026-03-01 00:00,,\n"
    with pytest.raises(ApplicationError) as exc:
        inventory_import(actor="ops", contract=bt.contract, csv_text=text, create_departments=True)
    assert "不是本合同甲方下属的使用单位" in exc.value.extra["errors"][0]


def test_import_is_authoritative_and_infers_no_test_period(bt):
    # DESIGN §4a: billed from billing_starts_at when given, else online_at — never an inferred
    # test period, even for a new system under a contract that has one (BT-2025: 1 month).
    assert bt.contract.test_period_months == 1
    text = HEADER + (
        "BT-2025 测试局,新系统,ebs.ssd,1,2026-02-20 10:00,,\n"
        "BT-2025 测试局,新系统,ebs.ssd,2,2026-03-01 10:00,,\n"
        "BT-2025 测试局,新系统,ebs.ssd,4,2026-02-20 10:00,,2026-03-20 10:00\n"
    )
    result = inventory_import(actor="ops", contract=bt.contract, csv_text=text)
    starts = dict(
        Resource.objects.filter(contract=bt.contract).values_list("quantity", "billing_starts_at")
    )
    assert starts == {
        1: sh(2026, 2, 20, 10),  # from go-live
        2: sh(2026, 3, 1, 10),
        4: sh(2026, 3, 20, 10),  # the file says so (its test period, say): wins
    }
    assert result.deferred_billing_rows == 1
    assert set(Resource.objects.values_list("imported", flat=True)) == {True}
    assert not SystemTestPeriod.objects.exists()
    event = AuditEvent.objects.get(action="inventory.import")
    assert event.after["deferred_billing_rows"] == 1


def test_no_test_period_in_jiaozuo(jz):
    text = HEADER + "JZ-2026 测试局,新系统,ecs.4c8g,1,2026-07-01 00:00,,\n"
    inventory_import(actor="ops", contract=jz.contract, csv_text=text)
    assert Resource.objects.get(contract=jz.contract).billing_starts_at == sh(2026, 7, 1)


def test_missing_columns_are_named(bt):
    with pytest.raises(ApplicationError) as exc:
        inventory_import(actor="ops", contract=bt.contract, csv_text="department,system\nx,y\n")
    assert "online_at" in exc.value.extra["errors"][0]


def test_people_must_be_bureau_or_vendor_of_the_contract(bt):
    text = HEADER + "BT-2025 测试局,系统,ebs.ssd,1,2026-03-01 00:00,,\n"
    with pytest.raises(ActionForbidden):
        inventory_import(actor=bt.users["supervisor"], contract=bt.contract, csv_text=text)
    with pytest.raises(ActionForbidden):
        inventory_import(actor=UserFactory(), contract=bt.contract, csv_text=text)
    inventory_import(actor=bt.users["vendor"], contract=bt.contract, csv_text=text)
    assert Resource.objects.filter(contract=bt.contract).count() == 1


def test_command_prints_summary_and_row_errors(bt, tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "新单位,系统,ebs.ssd,1,2026-03-01 00:00,,\n", encoding="utf-8")
    call_command("import_inventory", "BT-2025", str(good), "--create-departments")
    out = capsys.readouterr().out
    assert "导入资源 1 项" in out
    assert "新建使用单位：新单位" in out

    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "新单位,系统,ebs.ssd,x,2026-03-01 00:00,,\n", encoding="utf-8")
    with pytest.raises(CommandError, match="第 2 行"):
        call_command("import_inventory", "BT-2025", str(bad))
    with pytest.raises(CommandError, match="不存在"):
        call_command("import_inventory", "NOPE", str(bad))
