"""Onboarding a contract without a developer (DESIGN §4a): copy a contract's terms, or upload a
contract folder as a zip. Preview saves nothing; confirming loads it all or nothing, audited;
a bureau's system admin onboards contracts of its own bureau only."""

from __future__ import annotations

import io
import stat
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing.contracts import (
    EXAMPLE_DIR,
    REFERENCE_DIR,
    ContractFileError,
    bureau_of,
    load_reference_contracts,
    unpack_contract_zip,
)
from billing.models import CatalogItem
from govcloud.models import AuditEvent, Contract, ContractParty, Organization, Role, User
from govcloud.terms import contract_terms_json
from tests.conftest import verified_client
from tests.factories import UserFactory, make_totp

pytestmark = pytest.mark.django_db

COPY_URL = "admin:govcloud_contract_onboard_copy"
ZIP_URL = "admin:govcloud_contract_onboard_zip"
CATALOG = (
    "code,section,name,spec,unit,unit_price,period\n"
    "ecs.general.vcpu,计算服务,弹性云服务器(通用型),通用CPU资源,核,20.5,month\n"
    "ebs.ssd,存储服务,云硬盘,SSD,GB,0.40,month\n"
)


def _admin(code: str, role: str = Role.SYSTEM_ADMIN) -> User:
    user = UserFactory(organization=bureau_of(code), role=role)
    make_totp(user)
    return user


@pytest.fixture
def reference():
    load_reference_contracts()


@pytest.fixture
def bt_admin(reference):
    return verified_client(_admin("BT-2025"))


@pytest.fixture
def jz_admin(reference):
    return verified_client(_admin("JZ-2026"))


def _state() -> tuple[int, ...]:
    return (
        Contract.objects.count(),
        ContractParty.objects.count(),
        CatalogItem.objects.count(),
        Organization.objects.count(),
        AuditEvent.objects.count(),
    )


def _zip(files: dict[str, bytes], *, links: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def _folder_zip(folder: Path, prefix: str = "") -> bytes:
    return _zip({f"{prefix}{p.name}": p.read_bytes() for p in folder.iterdir() if p.is_file()})


def _upload(data: bytes, name: str = "contract.zip") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/zip")


# ------------------------------------------------------------------------------ the links


def test_the_contract_list_links_both_ways_for_the_system_admin(bt_admin):
    body = bt_admin.get(reverse("admin:govcloud_contract_changelist")).content.decode()
    assert reverse(COPY_URL) in body
    assert reverse(ZIP_URL) in body
    assert "从已有合同复制条款" in body
    assert "上传合同文件夹（zip）" in body
    page = bt_admin.get(reverse(COPY_URL))
    assert page.status_code == 200
    sources = page.context["form"].fields["source"].queryset
    assert [c.code for c in sources] == ["BT-2025"]  # the bureau's own contracts only
    assert bt_admin.get(reverse(ZIP_URL)).status_code == 200


def test_bureau_staff_neither_see_nor_open_them(reference):
    client = verified_client(_admin("BT-2025", role=Role.STAFF))
    body = client.get(reverse("admin:govcloud_contract_changelist")).content.decode()
    assert reverse(COPY_URL) not in body
    assert client.get(reverse(COPY_URL)).status_code == 403
    assert client.get(reverse(ZIP_URL)).status_code == 403


# ------------------------------------------------------------------------------ copy terms


def _copy_form(client, **overrides):
    data = {
        "source": Contract.objects.get(code="BT-2025").pk,
        "code": "BT-2026",
        "name": "包头市本级政务云服务项目（续期）",
        "service_start": "2026-06-20",
        "service_end": "2027-06-19",
        "billing_from": "",
        "estimated_amount": "9000000",
        "catalog": SimpleUploadedFile("prices-2026.csv", CATALOG.encode(), "text/csv"),
        "_preview": "预览",
    }
    data.update(overrides)
    return client.post(reverse(COPY_URL), data)


def test_copy_preview_shows_the_terms_and_saves_nothing(bt_admin):
    before = _state()
    page = _copy_form(bt_admin)
    assert page.status_code == 200
    body = page.content.decode()
    assert "将新建合同" in body
    assert "附件2 §2" in body  # the copied clause of the delivery clock
    assert "新增 2 项" in body
    assert 'name="payload"' in body
    assert _state() == before
    assert not Contract.objects.filter(code="BT-2026").exists()


def test_copy_confirmed_creates_the_contract_with_the_sources_terms(bt_admin):
    page = _copy_form(bt_admin)
    response = bt_admin.post(reverse(COPY_URL), {"payload": page.context["payload"]})
    assert response.status_code == 302
    new = Contract.objects.get(code="BT-2026")
    assert response.url == reverse("admin:govcloud_contract_change", args=[new.pk])
    source = Contract.objects.get(code="BT-2025")

    def terms(contract):
        data = contract_terms_json(contract)
        for key in ("code", "name", "service_start", "service_end", "billing_from"):
            data.pop(key)
        return data

    assert terms(new) == terms(source)
    assert str(new.billing_from) == "2026-06-20"  # empty = the service start
    assert str(new.estimated_amount) == "9000000.00"

    def parties(contract):
        return {
            (p.role, p.organization_id, p.is_lead, p.review_order, p.signoff_order)
            for p in contract.parties.all()
        }

    assert parties(new) == parties(source)
    assert sorted(new.catalog_items.values_list("code", "unit_price")) == [
        ("ebs.ssd", Decimal("0.40")),
        ("ecs.general.vcpu", Decimal("20.50")),
    ]
    onboard = AuditEvent.objects.get(action="contract.onboard", contract=new)
    assert onboard.after["method"] == "copy"
    assert onboard.after["source"] == "BT-2025"
    assert AuditEvent.objects.filter(action="contract.create", contract=new).exists()


def test_copy_without_a_catalog_takes_the_sources_catalog(bt_admin):
    page = _copy_form(bt_admin, catalog="")
    assert "新增 28 项" in page.content.decode()
    bt_admin.post(reverse(COPY_URL), {"payload": page.context["payload"]})
    assert Contract.objects.get(code="BT-2026").catalog_items.count() == 28


def test_copy_problems_are_shown_and_nothing_is_saved(bt_admin):
    before = _state()
    page = _copy_form(bt_admin, code="BT-2025", service_end="2026-01-01")
    assert page.status_code == 200
    errors = page.context["form"].errors
    assert "已被占用" in str(errors["code"])
    assert _state() == before
    page = _copy_form(bt_admin, service_end="2026-01-01")
    assert "须晚于 service_start" in str(page.context["form"].errors["service_end"])
    assert _state() == before


def test_a_bad_catalog_row_is_named_by_file_and_line(bt_admin):
    bad = CATALOG.replace("0.40", "零点四")
    page = _copy_form(bt_admin, catalog=SimpleUploadedFile("prices-2026.csv", bad.encode()))
    body = page.content.decode()
    assert "prices-2026.csv" in body
    assert "第 3 行" in body
    assert not Contract.objects.filter(code="BT-2026").exists()


def test_another_bureaus_contract_cannot_be_the_source(jz_admin):
    page = _copy_form(jz_admin)
    assert page.status_code == 200
    assert "source" in page.context["form"].errors
    assert not Contract.objects.filter(code="BT-2026").exists()


def test_a_forged_or_foreign_confirmation_is_refused(bt_admin, jz_admin):
    before = _state()
    response = bt_admin.post(reverse(COPY_URL), {"payload": "forged"})
    assert response.status_code == 302
    assert _state() == before
    payload = _copy_form(bt_admin).context["payload"]
    # Signed for the BT admin: the JZ admin cannot replay it.
    assert jz_admin.post(reverse(COPY_URL), {"payload": payload}).status_code == 403
    assert not Contract.objects.filter(code="BT-2026").exists()


# ------------------------------------------------------------------------------ zip upload


def test_zip_preview_saves_nothing_and_confirm_loads_it(bt_admin):
    data = _folder_zip(EXAMPLE_DIR / "bt-2026", prefix="bt-2026/")
    before = _state()
    page = bt_admin.post(reverse(ZIP_URL), {"file": _upload(data, "bt-2026.zip")})
    assert page.status_code == 200
    body = page.content.decode()
    assert "将新建合同" in body
    assert "BT-2026" in body
    assert "新增 28 项" in body
    assert _state() == before

    response = bt_admin.post(reverse(ZIP_URL), {"payload": page.context["payload"]})
    assert response.status_code == 302
    contract = Contract.objects.get(code="BT-2026")
    assert contract.catalog_items.count() == 28
    assert contract.bureau == bureau_of("BT-2025")
    onboard = AuditEvent.objects.get(action="contract.onboard", contract=contract)
    assert onboard.after == {"method": "zip", "file": "bt-2026.zip", "created": True}


def test_zip_of_an_existing_contract_unchanged_says_so(bt_admin):
    data = _folder_zip(REFERENCE_DIR / "bt-2025")
    before = _state()
    page = bt_admin.post(reverse(ZIP_URL), {"file": _upload(data)})
    assert "合同无变化" in page.content.decode()
    assert _state() == before


def test_zip_with_a_bad_file_lists_every_problem_by_file_and_key(bt_admin):
    folder = EXAMPLE_DIR / "bt-2026"
    toml = (folder / "contract.toml").read_text(encoding="utf-8")
    toml = toml.replace('discount = "0.9999"', 'discount = "ninety-nine"')
    toml = toml.replace('review_chain = ["bureau", "supervisor"]', 'review_chain = ["mayor"]')
    data = _zip(
        {
            "contract.toml": toml.encode(),
            "catalog.csv": (folder / "catalog.csv").read_bytes(),
        }
    )
    before = _state()
    page = bt_admin.post(reverse(ZIP_URL), {"file": _upload(data, "new.zip")})
    problems = page.context["problems"]
    assert {(p["file"], p["key"]) for p in problems} >= {
        ("new.zip/contract.toml", "billing.discount"),
        ("new.zip/contract.toml", "workflow.review_chain"),
    }
    assert "contract-upload-" not in page.content.decode()  # never the server's temp path
    assert _state() == before


def test_zip_for_another_bureau_is_refused(jz_admin):
    data = _folder_zip(EXAMPLE_DIR / "bt-2026")
    before = _state()
    page = jz_admin.post(reverse(ZIP_URL), {"file": _upload(data)})
    keys = {p["key"] for p in page.context["problems"]}
    assert "parties.bureau" in keys
    assert _state() == before


def test_zip_cannot_update_another_bureaus_contract(jz_admin):
    # The JZ bureau names itself, but the code is BT's.
    folder = REFERENCE_DIR / "jz-2026"
    toml = (folder / "contract.toml").read_text(encoding="utf-8").replace("JZ-2026", "BT-2025")
    data = _zip(
        {"contract.toml": toml.encode(), "catalog.csv": (folder / "catalog.csv").read_bytes()},
    )
    before = _state()
    page = jz_admin.post(reverse(ZIP_URL), {"file": _upload(data)})
    assert [p["key"] for p in page.context["problems"]] == ["code"]
    assert _state() == before


def test_the_platform_superuser_onboards_for_any_bureau(reference):
    root = User.objects.create_superuser("platform-root", "root@example.test", "x")
    make_totp(root)
    client = verified_client(root)
    page = client.post(reverse(ZIP_URL), {"file": _upload(_folder_zip(EXAMPLE_DIR / "bt-2026"))})
    assert client.post(reverse(ZIP_URL), {"payload": page.context["payload"]}).status_code == 302
    assert Contract.objects.filter(code="BT-2026").exists()


UNSAFE = [
    ("traversal", {"../contract.toml": b"x", "catalog.csv": b"x"}, (), "路径不安全"),
    ("absolute", {"/etc/contract.toml": b"x"}, (), "路径不安全"),
    ("backslash", {"..\\contract.toml": b"x"}, (), "路径不安全"),
    ("symlink", {"contract.toml": b"x"}, ("catalog.csv",), "符号链接"),
    ("too-many-files", {f"f{i}.csv": b"x" for i in range(6)}, (), "文件过多"),
    ("too-large-unpacked", {"contract.toml": b"0" * (2 * 1024 * 1024 + 1)}, (), "超过 2 MB"),
    ("no-contract-toml", {"catalog.csv": b"x"}, (), "没有 contract.toml"),
    ("subfolder", {"a/contract.toml": b"x", "a/b/catalog.csv": b"x"}, (), "同一文件夹"),
]


@pytest.mark.parametrize(
    ("files", "links", "message"), [u[1:] for u in UNSAFE], ids=[u[0] for u in UNSAFE]
)
def test_unsafe_zips_are_refused_before_anything_is_written(tmp_path, files, links, message):
    dest = tmp_path / "unpacked"
    dest.mkdir()
    with pytest.raises(ContractFileError) as refused:
        unpack_contract_zip(_zip(files, links=links), dest, name="upload.zip")
    assert message in str(refused.value)
    assert list(dest.iterdir()) == []
    assert not (tmp_path / "contract.toml").exists()


def test_not_a_zip_is_refused(tmp_path):
    with pytest.raises(ContractFileError) as refused:
        unpack_contract_zip(b"PK not really", tmp_path, name="upload.zip")
    assert "不是有效的 zip" in str(refused.value)


def test_a_path_traversal_upload_saves_nothing(bt_admin):
    folder = EXAMPLE_DIR / "bt-2026"
    data = _zip(
        {
            "contract.toml": (folder / "contract.toml").read_bytes(),
            "../../catalog.csv": (folder / "catalog.csv").read_bytes(),
        }
    )
    before = _state()
    page = bt_admin.post(reverse(ZIP_URL), {"file": _upload(data)})
    assert page.status_code == 200
    assert "路径不安全" in page.content.decode()
    assert "payload" not in page.context or not page.context.get("payload")
    assert _state() == before


def test_a_consortium_contract_is_copied_with_its_members(jz_admin):
    source = Contract.objects.get(code="JZ-2026")
    page = _copy_form(
        jz_admin,
        source=source.pk,
        code="JZ-2028",
        name="焦作市政务云服务采购项目（续期）",
        service_start="2028-06-04",
        service_end="2030-06-03",
        billing_from="2028-06-01",
        estimated_amount="",
        catalog="",
    )
    assert page.status_code == 200, page.context["form"].errors
    jz_admin.post(reverse(COPY_URL), {"payload": page.context["payload"]})
    new = Contract.objects.get(code="JZ-2028")
    members = {(p.organization_id, p.is_lead) for p in new.parties.filter(role="vendor")}
    assert members == {(p.organization_id, p.is_lead) for p in source.parties.filter(role="vendor")}
    assert len(members) == 2
    assert new.delivery_working_days is None  # "及时": no clock, as the source
    assert (new.maintenance_notice_hours, new.improvement_working_days) == (72, 15)
    assert new.catalog_items.count() == source.catalog_items.count()
    assert str(new.billing_from) == "2028-06-01"
