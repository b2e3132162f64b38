"""Portal page that verifies the digital signatures of an uploaded PDF (签名验证, DESIGN §7).

Anyone signed in may use it: a department that received its bill, a party holding a signed
statement, an auditor checking a copy someone sent them. It reports each signature — field,
signer, claimed signing time, and whether the signed content is intact and nothing but further
signatures was added after it (``SignatureReport.ok``, never the bare cryptographic ``valid``) —
the signature fields still empty, and the file's SHA-256 with whether it is, byte for byte, a
document the platform issued that the user may see (``billing.reports.lookup``).

The upload is read into memory (≤ 20 MB), verified and discarded; nothing is stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from govcloud.pdf.issued import find_issued
from govcloud.pdf.signing import (
    InvalidPdf,
    SignatureReport,
    SigningKeyMissing,
    sha256_hex,
    trust_roots_from_settings,
    verify_pdf,
)

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
_PDF_MAGIC = b"%PDF-"
# PDF readers accept a header anywhere in the first kilobyte (junk before it is tolerated).
_MAGIC_WINDOW = 1024

_MODIFICATION_LABELS = {
    "NONE": gettext_lazy("无"),
    "LTA_UPDATES": gettext_lazy("仅长期验证数据"),
    "FORM_FILLING": gettext_lazy("仅追加其他签名或填写表单"),
    "ANNOTATIONS": gettext_lazy("添加了注释"),
    "OTHER": gettext_lazy("修改了内容"),
}


class VerifyForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("PDF 文件"),
        help_text=gettext_lazy("平台出具的月度服务资源统计表、使用单位账单等，不超过 20 MB。"),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".pdf"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("文件大小为 %(size).1f MB，超过 20 MB 的上限。") % {"size": upload.size / 2**20}
            )
        head = upload.read(_MAGIC_WINDOW)
        upload.seek(0)
        if _PDF_MAGIC not in head:
            raise forms.ValidationError(_("该文件不是 PDF 文件，请上传平台出具的 PDF。"))
        return upload


@dataclass(frozen=True)
class SignatureRow:
    """One signature as the page shows it."""

    number: int
    field_name: str
    signer: str
    organization: str
    signing_time: str
    state: str  # ok | changed | tampered | untrusted
    label: str
    detail: str


def _describe(number: int, report: SignatureReport) -> SignatureRow:
    modification = str(
        _MODIFICATION_LABELS.get(report.modification_level, report.modification_level)
    )
    if not report.intact:
        state, label = "tampered", _("已被篡改")
        detail = _("签名所覆盖的内容与签名不符：签名后文件内容被改动过。")
    elif not report.ok and (
        report.docmdp_ok is False or report.modification_level in ("ANNOTATIONS", "OTHER")
    ):
        state, label = "changed", _("签名后被修改")
        detail = _("签名时的内容完好，但签名之后文件又被修改（%(what)s）。") % {
            "what": modification
        }
    elif not report.trusted:
        state, label = "untrusted", _("证书不受信任")
        detail = _("内容完好，但签名证书不是由本平台信任的证书机构签发的。")
    elif report.ok:
        state, label = "ok", _("有效")
        detail = _("内容完好，签名之后的改动：%(what)s。") % {"what": modification}
    else:
        state, label = "changed", _("无法确认")
        detail = _("签名之后的改动无法判定（%(what)s）。") % {"what": modification}
    signing_time = (
        timezone.localtime(report.signing_time).strftime("%Y-%m-%d %H:%M:%S")
        if report.signing_time
        else "—"
    )
    return SignatureRow(
        number=number,
        field_name=report.field_name,
        signer=report.signer_common_name,
        organization=report.signer_organization,
        signing_time=signing_time,
        state=state,
        label=label,
        detail=detail,
    )


def _empty_signature_fields(pdf: bytes) -> list[str]:
    """Signature fields nobody has signed yet (the parties still to sign)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.fields import enumerate_sig_fields

    reader = PdfFileReader(BytesIO(pdf))
    return [name for name, _value, _ref in enumerate_sig_fields(reader, filled_status=False)]


def _verify(request: HttpRequest, pdf: bytes) -> dict[str, Any]:
    try:
        roots = trust_roots_from_settings()
    except SigningKeyMissing:
        logger.warning("PDF verification without trust roots: SIGNING_DIR has no ca.pem")
        roots = []
    reports = verify_pdf(pdf, trust_roots=roots)
    rows = [_describe(number, report) for number, report in enumerate(reports, start=1)]
    digest = sha256_hex(pdf)
    return {
        "rows": rows,
        "all_ok": bool(rows) and all(row.state == "ok" for row in rows),
        "empty_fields": _empty_signature_fields(pdf),
        "sha256": digest,
        "issued": find_issued(user=request.user, sha256=digest),
        "no_trust_roots": not roots,
    }


@login_required
@require_http_methods(["GET", "POST"])
def pdf_verify(request: HttpRequest) -> HttpResponse:
    form = VerifyForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        pdf = upload.read()
        try:
            result = _verify(request, pdf)
        except InvalidPdf:
            form.add_error("file", _("无法读取该 PDF 文件：文件已损坏或不是有效的 PDF。"))
        except Exception:  # a hostile or mangled file must not become a server error
            logger.warning("PDF verification failed for an upload", exc_info=True)
            form.add_error("file", _("无法解析该 PDF 文件的签名信息：文件可能已损坏。"))
        else:
            result["filename"] = upload.name
            result["size_kb"] = max(1, len(pdf) // 1024)
    status = 400 if request.method == "POST" and form.errors else 200
    return render(
        request, "govcloud/pdf_verify.html", {"form": form, "result": result}, status=status
    )
