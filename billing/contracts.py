"""Loading contract definition folders (DESIGN §4a): ``contract.toml`` + its catalog CSV.

``load_contract`` is all-or-nothing and idempotent by the contract's ``code``; a bad file raises
``ContractFileError`` naming the file, the key and the problem, and nothing is saved. The two
reference contracts ship as folders under ``billing/data/contracts``; the BT successor used by
the demo is an example under ``billing/data/example-contracts`` (not a real contract).

The system admin onboards a contract without a developer through the same path: a zip of a
contract folder (``contract_onboard_zip``) or a copy of an existing contract's terms with a new
code, dates and catalog (``contract_copy``). Both preview with ``dry_run=True`` (everything is
applied and validated, then rolled back) and are confined to the admin's own bureau.
"""

from __future__ import annotations

import csv
import io
import stat
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from billing.services import CatalogImportResult, catalog_import
from billing.services.catalog import CATALOG_COLUMNS
from govcloud.audit import audit_log
from govcloud.contract_files import (
    AppliedContract,
    ContractDefinition,
    ContractFileError,
    Problem,
    apply_definition,
    contract_data,
    contract_file_path,
    read_contract_data,
    read_contract_file,
)
from govcloud.exceptions import ActionForbidden, ApplicationError
from govcloud.models import Contract, ContractStatus, Organization, OrganizationKind, Role
from govcloud.selectors import bureau_contract_ids
from govcloud.terms import TermRow, contract_terms

DATA_DIR = Path(__file__).resolve().parent / "data"
REFERENCE_DIR = DATA_DIR / "contracts"
EXAMPLE_DIR = DATA_DIR / "example-contracts"
MAX_CATALOG_BYTES = 2 * 1024 * 1024
#: An uploaded contract folder (zip): at most this many files, this many bytes unpacked.
MAX_ZIP_FILES = 5
MAX_ZIP_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class ContractLoadResult:
    """What loading a contract did (or, with ``dry_run``, would do)."""

    code: str
    created: bool
    changed: list[str]
    catalog: CatalogImportResult
    dry_run: bool = False
    name: str = ""
    #: (key, before, after) for every changed key of an existing contract.
    changes: tuple[tuple[str, Any, Any], ...] = ()
    #: What the file asked for but was kept as it is (parties are matched by role).
    notes: tuple[str, ...] = ()
    #: The contract's terms as loaded, with their clauses (the preview shows them).
    terms: tuple[TermRow, ...] = ()
    #: Catalog items per section after loading, in catalog order.
    catalog_sections: tuple[tuple[str, int], ...] = ()

    @property
    def unchanged(self) -> bool:
        return not self.created and not self.changed and not self.catalog_changed

    @property
    def catalog_changed(self) -> bool:
        return bool(self.catalog.created or self.catalog.updated)

    def summary(self) -> str:
        if self.created:
            verb = "将新建" if self.dry_run else "新建"
        elif self.changed:
            verb = "将更新" if self.dry_run else "更新"
        else:
            verb = "将无变化" if self.dry_run else "无变化"
        return (
            f"{self.code}：合同{verb}"
            + (f"（变更：{'、'.join(self.changed)}）" if self.changed and not self.created else "")
            + f"；目录新增 {self.catalog.created} 项、更新 {self.catalog.updated} 项、"
            f"未变 {self.catalog.unchanged} 项"
        )


class _DryRun(Exception):
    def __init__(self, result: ContractLoadResult):
        self.result = result


def _catalog_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ContractFileError(
            path, [Problem("(文件)", f"无法读取目录文件：{exc.strerror or exc}")]
        ) from None
    if len(raw) > MAX_CATALOG_BYTES:
        raise ContractFileError(path, [Problem("(文件)", "目录文件过大（上限 2 MB）")])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ContractFileError(path, [Problem("(文件)", "不是 UTF-8 编码的 CSV")]) from None


def _price_period_of(csv_text: str) -> str:
    """The contract's price period when the file does not say: the catalog's usual one."""
    periods = [row.get("period", "") for row in csv.DictReader(io.StringIO(csv_text))]
    return "year" if periods and periods.count("year") > len(periods) / 2 else "month"


def _load(
    definition: ContractDefinition,
    csv_text: str,
    *,
    actor: Any,
    dry_run: bool,
    action: str | None = None,
    on_loaded: Callable[[AppliedContract], None] | None = None,
    price_change: dict[str, Any] | None = None,
) -> ContractLoadResult:
    """Apply a validated definition and its catalog in one transaction (rolled back when
    ``dry_run``); any problem raises ``ContractFileError`` and nothing is saved.

    ``price_change`` (``price_effective_from``, ``price_basis``) lets a reloaded catalog change
    the price of an existing item from that date, on that basis (the catalog import refuses a
    price change without them: months already billed keep their price).
    """
    if not definition.price_period_given:
        definition.values["price_period"] = _price_period_of(csv_text)
    try:
        with transaction.atomic():
            applied = apply_definition(definition, actor=actor, action=action)
            contract = applied.contract
            try:
                catalog = catalog_import(
                    actor=actor, contract=contract, csv_text=csv_text, **(price_change or {})
                )
            except ApplicationError as exc:
                errors = (exc.extra or {}).get("errors") or [str(exc)]
                raise ContractFileError(
                    definition.catalog_path, [Problem("(目录)", str(e)) for e in errors]
                ) from None
            except ValidationError as exc:
                raise ContractFileError(
                    definition.catalog_path, [Problem("(目录)", m) for m in exc.messages]
                ) from None
            if on_loaded is not None:
                on_loaded(applied)
            sections = Counter(
                contract.catalog_items.order_by("sort_order", "code").values_list(
                    "section", flat=True
                )
            )
            result = ContractLoadResult(
                code=definition.code,
                name=definition.name,
                created=applied.created,
                changed=applied.changed,
                catalog=catalog,
                dry_run=dry_run,
                changes=tuple(applied.changes()) if not applied.created else (),
                notes=tuple(applied.notes),
                terms=tuple(contract_terms(contract)),
                catalog_sections=tuple(sections.items()),
            )
            if dry_run:
                raise _DryRun(result)
    except _DryRun as stop:
        return stop.result
    return result


def _load_path(
    path: Path | str,
    *,
    actor: Any,
    dry_run: bool,
    check: Callable[[ContractDefinition], None] | None = None,
    on_loaded: Callable[[AppliedContract], None] | None = None,
    price_change: dict[str, Any] | None = None,
) -> ContractLoadResult:
    definition = read_contract_file(path)
    if check is not None:
        check(definition)
    csv_text = _catalog_text(definition.catalog_path)
    return _load(
        definition,
        csv_text,
        actor=actor,
        dry_run=dry_run,
        on_loaded=on_loaded,
        price_change=price_change,
    )


def load_contract(
    path: Path | str,
    *,
    actor: Any = "load_contract",
    dry_run: bool = False,
    price_effective_from: date | None = None,
    price_basis: str = "",
) -> ContractLoadResult:
    """Load or update the contract defined by ``path`` (a folder or its ``contract.toml``).

    A catalog price that differs from the loaded one needs ``price_effective_from`` and
    ``price_basis`` (the clause or amendment it rests on); otherwise it is refused.
    """
    price_change = (
        {"price_effective_from": price_effective_from, "price_basis": price_basis}
        if price_effective_from is not None or price_basis
        else None
    )
    return _load_path(path, actor=actor, dry_run=dry_run, price_change=price_change)


def reference_folders() -> list[Path]:
    return sorted(p.parent for p in REFERENCE_DIR.glob("*/contract.toml"))


def load_reference_contracts(*, actor: Any = None) -> dict[str, CatalogImportResult]:
    """Create or bring up to date both reference contracts; running it twice changes nothing."""
    results: dict[str, CatalogImportResult] = {}
    with transaction.atomic():
        for folder in reference_folders():
            result = load_contract(folder, actor=actor or "load_reference_contracts")
            results[result.code] = result.catalog
    return results


def load_example_contract(name: str, *, actor: Any = None) -> ContractLoadResult:
    """One of the shipped example folders (the demo's BT-2026 successor)."""
    return load_contract(contract_file_path(EXAMPLE_DIR / name), actor=actor or "seed_demo")


def bureau_of(code: str) -> Organization:
    return Organization.objects.get(
        contract_parties__contract__code=code, kind=OrganizationKind.BUREAU
    )


# ------------------------------------------------------------------ onboarding (system admin)


def may_onboard(user: Any) -> bool:
    """The platform superuser, or a bureau's system administrator (for its own bureau)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return (
        user.role == Role.SYSTEM_ADMIN
        and user.organization_id is not None
        and user.organization.kind == OrganizationKind.BUREAU
    )


def _require_onboarder(actor: Any) -> None:
    if not may_onboard(actor):
        raise ActionForbidden("只有甲方的系统管理员可以载入合同。")


def _own_contract(actor: Any, pk: int) -> bool:
    return Contract.objects.filter(pk=pk, pk__in=bureau_contract_ids(actor)).exists()


def _check_scope(actor: Any, definition: ContractDefinition) -> None:
    """A bureau's system admin loads contracts of its own bureau only (new or its own)."""
    if actor.is_superuser:
        return
    problems: list[Problem] = []
    own = actor.organization
    bureau = next((p for p in definition.parties if p.role == "bureau" and p.is_lead), None)
    if bureau is not None and bureau.name != own.name:
        problems.append(
            Problem(
                "parties.bureau",
                f"甲方须为本单位“{own.name}”：您只能载入本单位作为甲方的合同",
            )
        )
    existing = Contract.objects.filter(code=definition.code).values_list("pk", flat=True).first()
    if existing is not None and not _own_contract(actor, existing):
        problems.append(Problem("code", f"合同编号 {definition.code} 已被占用，请换一个编号"))
    if problems:
        raise ContractFileError(definition.path, problems)


def unpack_contract_zip(data: bytes, dest: Path, *, name: str = "contract.zip") -> Path:
    """Write the contract folder inside a zip upload to ``dest``; return its ``contract.toml``.

    The zip holds ``contract.toml`` and the catalog CSV it names, at its top level or in one
    folder. Refused, with the entry named, before anything is written: anything that is not a
    zip, an absolute path or ``..``, a link, an encrypted entry, a subfolder, more than
    ``MAX_ZIP_FILES`` files, more than ``MAX_ZIP_BYTES`` unpacked (counted while unpacking, not
    trusted from the zip's own header).
    """
    label = Path(name)
    if len(data) > MAX_ZIP_BYTES:
        raise ContractFileError(label, [Problem("(文件)", "压缩包过大（上限 2 MB）")])
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise ContractFileError(label, [Problem("(文件)", "不是有效的 zip 压缩包")]) from None
    problems: list[Problem] = []
    files: list[zipfile.ZipInfo] = []
    with archive:
        for info in archive.infolist():
            entry = info.filename
            parts = PurePosixPath(entry).parts
            if (
                entry.startswith(("/", "\\"))
                or "\\" in entry
                or ":" in entry
                or ".." in parts
                or "\x00" in entry
            ):
                problems.append(Problem(entry, "路径不安全（绝对路径、盘符或 ..），拒绝解压"))
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                problems.append(Problem(entry, "是符号链接，拒绝解压"))
                continue
            if info.flag_bits & 0x1:
                problems.append(Problem(entry, "已加密，无法读取"))
                continue
            if info.is_dir() or not parts or parts[0] == "__MACOSX" or parts[-1] == ".DS_Store":
                continue  # folders, and what the macOS archiver adds beside the files
            if any(info.filename == other.filename for other in files):
                problems.append(Problem(entry, "在压缩包中重复出现"))
                continue
            files.append(info)
        if len(files) > MAX_ZIP_FILES:
            problems.append(
                Problem("(文件)", f"文件过多（{len(files)} 个，上限 {MAX_ZIP_FILES} 个）")
            )
        if sum(info.file_size for info in files) > MAX_ZIP_BYTES:
            problems.append(Problem("(文件)", "解压后超过 2 MB"))
        if problems:
            raise ContractFileError(label, problems)
        tomls = [info for info in files if PurePosixPath(info.filename).name == "contract.toml"]
        if len(tomls) != 1:
            message = "压缩包中没有 contract.toml" if not tomls else "压缩包中有多个 contract.toml"
            raise ContractFileError(label, [Problem("contract.toml", message)])
        root = PurePosixPath(tomls[0].filename).parent
        for info in files:
            if PurePosixPath(info.filename).parent != root:
                problems.append(
                    Problem(info.filename, "须与 contract.toml 放在同一文件夹（不含子文件夹）")
                )
        if problems:
            raise ContractFileError(label, problems)
        total = 0
        for info in files:
            with archive.open(info) as source:
                content = source.read(MAX_ZIP_BYTES - total + 1)
            total += len(content)
            if total > MAX_ZIP_BYTES:
                raise ContractFileError(label, [Problem(info.filename, "解压后超过 2 MB")])
            # A fresh directory and a bare file name: nothing can be written outside ``dest``.
            with (dest / PurePosixPath(info.filename).name).open("xb") as target:
                target.write(content)
    return dest / "contract.toml"


def _within(exc: ContractFileError, root: Path, label: str) -> ContractFileError:
    """The error with its path shown inside the upload (never the server's temporary path)."""
    try:
        inner = exc.path.resolve().relative_to(root.resolve())
    except ValueError:
        return exc
    return ContractFileError(Path(label) / inner, exc.problems)


def _onboarded_as_draft(applied: AppliedContract) -> None:
    """A contract onboarded in the admin starts as a draft (``govcloud.lifecycle``): the bureau
    activates it, or a successor's cutover does; until then it takes no requests. A reload of
    an existing contract keeps its state."""
    if applied.created:
        Contract.objects.filter(pk=applied.contract.pk).update(
            activated_at=None, status=ContractStatus.DRAFT
        )
        applied.contract.activated_at, applied.contract.status = None, ContractStatus.DRAFT


def contract_onboard_zip(
    *, actor: Any, data: bytes, name: str = "contract.zip", dry_run: bool = False
) -> ContractLoadResult:
    """Load a contract folder uploaded as a zip, validated exactly like ``load_contract``."""
    _require_onboarder(actor)

    def audit(applied: AppliedContract) -> None:
        audit_log(
            actor=actor,
            action="contract.onboard",
            obj=applied.contract,
            after={"method": "zip", "file": name, "created": applied.created},
        )
        _onboarded_as_draft(applied)

    with tempfile.TemporaryDirectory(prefix="contract-upload-") as tmp:
        root = Path(tmp)
        toml = unpack_contract_zip(data, root, name=name)
        try:
            return _load_path(
                toml,
                actor=actor,
                dry_run=dry_run,
                check=lambda definition: _check_scope(actor, definition),
                on_loaded=audit,
            )
        except ContractFileError as exc:
            raise _within(exc, root, name) from None


def catalog_csv_of(contract: Contract) -> str:
    """The contract's catalog as the CSV the loader reads (its current prices)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CATALOG_COLUMNS)
    for item in contract.catalog_items.order_by("sort_order", "code"):
        writer.writerow([getattr(item, column) for column in CATALOG_COLUMNS])
    return out.getvalue()


def contract_copy(
    *,
    actor: Any,
    source: Contract,
    code: str,
    name: str,
    service_start: date,
    service_end: date,
    billing_from: date | None = None,
    procurement_no: str = "",
    estimated_amount: Decimal | None = None,
    catalog_csv: str | None = None,
    catalog_name: str = "catalog.csv",
    dry_run: bool = False,
) -> ContractLoadResult:
    """A new contract with ``source``'s terms, clauses, parties and installments.

    Its catalog is ``catalog_csv`` (an upload), or ``source``'s catalog at its current prices
    when None. The copy goes through the contract-file validator and loader: the same checks
    and the same all-or-nothing load as ``load_contract``.
    """
    _require_onboarder(actor)
    label = Path(f"复制自 {source.code}")
    if not _own_contract(actor, source.pk):
        raise ApplicationError("来源合同不存在或无权访问。")
    source = Contract.objects.prefetch_related(
        "parties__organization", "clauses", "installments"
    ).get(pk=source.pk)
    data = contract_data(source)
    for key in ("procurement_no", "estimated_amount", "notes"):
        data.pop(key, None)
    data.update(
        code=code,
        name=name,
        service_start=service_start,
        service_end=service_end,
        billing_from=billing_from or service_start,
    )
    if procurement_no:
        data["procurement_no"] = procurement_no
    if estimated_amount is not None:
        data["estimated_amount"] = str(estimated_amount)
    if Contract.objects.filter(code=code).exists():
        raise ContractFileError(
            label, [Problem("code", f"合同编号 {code} 已被占用；复制只新建合同，请换一个编号")]
        )
    definition = read_contract_data(data, label, catalog_file=False)
    _check_scope(actor, definition)
    definition.catalog_path = Path(catalog_name if catalog_csv is not None else "（来源合同目录）")
    csv_text = catalog_csv if catalog_csv is not None else catalog_csv_of(source)
    if len(csv_text.encode()) > MAX_CATALOG_BYTES:
        raise ContractFileError(
            definition.catalog_path, [Problem("(文件)", "目录文件过大（上限 2 MB）")]
        )

    def audit(applied: AppliedContract) -> None:
        audit_log(
            actor=actor,
            action="contract.onboard",
            obj=applied.contract,
            after={
                "method": "copy",
                "source": source.code,
                "catalog": catalog_name if catalog_csv is not None else f"{source.code} 的目录",
            },
        )
        _onboarded_as_draft(applied)

    return _load(definition, csv_text, actor=actor, dry_run=dry_run, on_loaded=audit)


__all__ = [
    "Contract",
    "ContractFileError",
    "ContractLoadResult",
    "contract_copy",
    "contract_onboard_zip",
    "load_contract",
    "load_example_contract",
    "load_reference_contracts",
    "may_onboard",
    "reference_folders",
    "unpack_contract_zip",
]
