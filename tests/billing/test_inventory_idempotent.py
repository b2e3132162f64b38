"""Importing an inventory twice bills nothing twice; a dry run changes nothing; bad files and
bad arguments get messages, never tracebacks (issue 13 item 5 / item 4)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from billing.models import Resource, ResourceChange
from billing.services.inventory import MAX_QUANTITY, inventory_import
from govcloud.exceptions import ApplicationError
from govcloud.models import AuditEvent, BusinessSystem, Organization
from tests.billing.conftest import HEADER

pytestmark = pytest.mark.django_db

TWO_ROWS = HEADER + (
    "BT-2025 测试局,预算系统,ecs.general.vcpu,8,2026-03-10 15:00,,\n"
    "BT-2025 测试局,预算系统,ebs.ssd,500,2025-07-01 09:00,2026-04-02 18:30,\n"
)


def test_the_same_file_twice_creates_nothing_the_second_time(bt):
    first = inventory_import(
        actor="ops", contract=bt.contract, csv_text=TWO_ROWS, create_departments=True
    )
    again = inventory_import(actor="ops", contract=bt.contract, csv_text=TWO_ROWS)
    assert (first.resources_created, len(first.skipped)) == (2, 0)
    assert (again.resources_created, len(again.skipped)) == (0, 2)
    assert again.skipped[0].startswith("第 2 行：已在清单中（资源 #")
    assert (Resource.objects.count(), ResourceChange.objects.count()) == (2, 2)
    assert first.sha256 == again.sha256
    assert len(first.sha256) == 64
    assert AuditEvent.objects.filter(action="inventory.import").count() == 2


def test_a_file_with_new_and_known_rows_adds_only_the_new_ones(bt):
    inventory_import(actor="ops", contract=bt.contract, csv_text=TWO_ROWS, create_departments=True)
    grown = TWO_ROWS + "BT-2025 测试局,预算系统,oss,1000,2026-05-01 08:00,,\n"
    result = inventory_import(actor="ops", contract=bt.contract, csv_text=grown)
    assert (result.resources_created, len(result.skipped)) == (1, 2)
    assert Resource.objects.count() == 3


def test_a_known_row_with_another_quantity_is_refused(bt):
    inventory_import(actor="ops", contract=bt.contract, csv_text=TWO_ROWS, create_departments=True)
    changed = TWO_ROWS.replace("ecs.general.vcpu,8,", "ecs.general.vcpu,16,")
    with pytest.raises(ApplicationError) as exc:
        inventory_import(actor="ops", contract=bt.contract, csv_text=changed)
    (error,) = exc.value.extra["errors"]
    assert error.startswith("第 2 行：资源 #")
    assert "数量为 8 而非 16" in error
    assert "资源清单更正" in error
    assert Resource.objects.count() == 2


def test_the_same_resource_twice_in_one_file_is_refused(bt):
    text = TWO_ROWS + "BT-2025 测试局,预算系统,ecs.general.vcpu,4,2026-03-10 15:00,,\n"
    with pytest.raises(ApplicationError) as exc:
        inventory_import(actor="ops", contract=bt.contract, csv_text=text, create_departments=True)
    assert exc.value.extra["errors"] == [
        "第 4 行：与第 2 行是同一资源（同一业务系统、目录项和时间），请合并为一行并相加数量"
    ]
    assert not Resource.objects.exists()


def test_dry_run_reports_and_changes_nothing(bt):
    text = TWO_ROWS.replace("BT-2025 测试局", "BT-2025 新单位")
    result = inventory_import(
        actor="ops", contract=bt.contract, csv_text=text, create_departments=True, dry_run=True
    )
    assert (result.dry_run, result.resources_created) == (True, 2)
    assert result.departments_created == ["BT-2025 新单位"]
    assert result.systems_created == ["BT-2025 新单位 / 预算系统"]
    assert not Resource.objects.exists()
    assert not BusinessSystem.objects.filter(name="预算系统").exists()
    assert not Organization.objects.filter(name="BT-2025 新单位").exists()
    assert not AuditEvent.objects.filter(action="inventory.import").exists()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (f"BT-2025 测试局,甲,ebs.ssd,{MAX_QUANTITY + 1},2026-03-01 00:00,,", "超过上限"),
        ("BT-2025 测试局,甲,ebs.ssd,99999999999999999999999,2026-03-01 00:00,,", "超过上限"),
        ("BT-2025 测试局," + "长" * 5000 + ",ebs.ssd,1,2026-03-01 00:00,,", "超过 1000 个字符"),
        ("长" * 201 + ",甲,ebs.ssd,1,2026-03-01 00:00,,", "使用单位名称超过200个字符"),
    ],
)
def test_out_of_range_cells_are_messages(bt, row, message):
    with pytest.raises(ApplicationError) as exc:
        inventory_import(
            actor="ops", contract=bt.contract, csv_text=HEADER + row + "\n", create_departments=True
        )
    assert message in exc.value.extra["errors"][0]
    assert not Resource.objects.exists()


def test_a_field_beyond_the_csv_limit_is_a_message(bt):
    huge = "x" * (200 * 1024)  # the csv module refuses fields over 128 KB
    with pytest.raises(ApplicationError) as exc:
        inventory_import(
            actor="ops", contract=bt.contract, csv_text=HEADER + f'"{huge}",甲,ebs.ssd,1,,,\n'
        )
    assert exc.value.extra["errors"][0].startswith("文件不是有效的 CSV")


def test_command_dry_run_and_repeat(bt, tmp_path):
    path = tmp_path / "inv.csv"
    path.write_text(TWO_ROWS, encoding="utf-8")
    out = io.StringIO()
    call_command(
        "import_inventory", "BT-2025", str(path), "--create-departments", "--dry-run", stdout=out
    )
    assert out.getvalue().startswith("【试运行，未做任何修改】BT-2025：将导入资源 2 项")
    assert not Resource.objects.exists()
    call_command(
        "import_inventory", "BT-2025", str(path), "--create-departments", stdout=io.StringIO()
    )
    out = io.StringIO()
    call_command("import_inventory", "BT-2025", str(path), stdout=out)
    assert "导入资源 0 项，已在清单中跳过 2 行" in out.getvalue()
    assert Resource.objects.count() == 2


def test_command_refuses_a_directory_and_binary_files(bt, tmp_path):
    with pytest.raises(CommandError, match="不是文件"):
        call_command("import_inventory", "BT-2025", str(tmp_path))
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(CommandError, match="不是 UTF-8"):
        call_command("import_inventory", "BT-2025", str(binary))
