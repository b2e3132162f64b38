"""Render Django templates to PDF with WeasyPrint, including very long tables.

Two entry points:

* :func:`render_pdf` — any template extending ``reports/base.html``, rendered as one WeasyPrint
  document. Fine for reports of a few dozen pages.
* :func:`render_table_pdf` — the fast path for a report dominated by one long table (the monthly
  statement has ~10,000 lines, ~230 pages).

Why the fast path looks the way it does (numbers from ``benchmarks/pdf_render.py``):

* WeasyPrint spends ~0.4 ms per table cell however the table is cut up (cascade, Pango line
  layout, drawing). What *can* be cut is overhead around that: the stock user-agent stylesheet
  gives every element six pseudo-element styles (trimmed here, :func:`_report_ua_css`); Python's
  cyclic GC re-walks every page already laid out (paused during layout, :func:`_gc_paused`); rule
  lines under every cell cost more than zebra stripes (``report.css``); an ``id`` on a row stops
  WeasyPrint from sharing computed styles between rows (anchors only where needed).
* Rows are laid out in chunks of ``chunk_rows``, each chunk its own small document, so the memory
  of one huge table box never exists. Chunks join seamlessly: each (but the last) chunk's final,
  usually half-filled page is dropped and the next chunk starts at the first row that page held
  (found through anchors on the chunk's tail rows). Page breaks fall where one big document would
  put them; a test compares both page by page.
* Long tables are split into ``workers`` segments laid out in parallel processes (the chunk chain
  inside a segment is sequential by nature). A segment boundary is placed after a subtotal row
  where possible, and the next segment starts on a new page. The segments' PDFs are concatenated.
* "第 X 页 / 共 Y 页" must count the whole document, which no chunk knows while it is laid out.
  Chunks are rendered without the page-number box; once the total is known, an overlay document of
  blank pages carrying only the page-number box (with the right offset and total) is laid out and
  painted over the content pages — milliseconds per page instead of a second layout pass.

The report stylesheet (``report.css`` beside this module) declares the bundled Noto Sans SC subset
with ``@font-face``; its relative URLs resolve to absolute ``file://`` URLs of
``govcloud/pdf/fonts/``, so Chinese renders on machines without any CJK font installed.

One :class:`~weasyprint.text.fonts.FontConfiguration` and the parsed stylesheets are cached per
process: parsing the CSS and registering the fonts with Fontconfig on every render costs ~0.3 s.
The cache is rebuilt after a fork (Celery prefork workers), because Fontconfig/Pango state must not
be shared between processes. Rendering is not thread-safe; run it in worker processes. Segment
workers are plain subprocesses (``python -m govcloud.pdf._worker``), not ``multiprocessing``
children, which Celery's daemonic pool processes are not allowed to have.
"""

from __future__ import annotations

import contextlib
import gc
import html
import itertools
import logging
import os
import pickle
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import IO, Any, Literal
from urllib.parse import unquote, urlsplit

import weasyprint
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from weasyprint import CSS, HTML, Document
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

logger = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
FONT_DIR = PACKAGE_DIR / "fonts"
STYLESHEET = PACKAGE_DIR / "report.css"
#: The ``font-family`` of the bundled font, for CSS and SVG that must render Chinese in PDFs.
FONT_FAMILY = "Noto Sans SC GovCloud"
#: How WeasyPrint names the bundled font in a PDF (``/ABCDEF+Noto-Sans-SC-GovCloud[-Bold]``).
PDF_FONT_NAME = FONT_FAMILY.replace(" ", "-")

#: Rows per chunk: small enough to keep one table's layout memory bounded, large enough that the
#: dropped last page of each chunk (laid out twice) stays a few percent of the work.
DEFAULT_CHUNK_ROWS = 1000
#: Tables shorter than this are laid out in one process: starting a worker costs ~1 s.
PARALLEL_MIN_ROWS = 2000
MAX_WORKERS = 4

TABLE_TEMPLATE = "reports/partials/_table_document.html"
_ROW_ANCHOR = "govcloud-row-"
# Rows at the end of a chunk that carry an anchor; must exceed the rows that fit on one page
# (~60 single-line rows on A4 at 8 pt).
_ANCHOR_TAIL = 150
_ROWS_MARKER = "\x00govcloud-rows\x00"

# Chunks leave the page-number box to the overlay.
_NO_PAGE_NUMBER_CSS = "@page { @bottom-center { content: none } }"

RowKind = Literal["item", "group", "subtotal", "total"]


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a long report table."""

    label: str
    #: CSS width, e.g. ``"18%"`` or ``"22mm"``; ``None`` shares the remaining width.
    width: str | None = None
    #: Right-aligned (amounts, quantities).
    numeric: bool = False


@dataclass(frozen=True, slots=True)
class Row:
    """One table row; ``cells`` are display strings (format Decimals before, e.g. "1,234.50")."""

    cells: tuple[str, ...]
    #: Styling: ``group`` (a heading row), ``subtotal``, ``total`` or plain ``item``.
    kind: RowKind = "item"
    #: The first cell spans this many columns (a subtotal label over department/system/item).
    span: int = 1


# --------------------------------------------------------------------------------------------------
# WeasyPrint plumbing


class _ReportURLFetcher(URLFetcher):
    """Fetch only ``data:`` URLs and files under the report assets and static directories.

    Reports interpolate user-entered text; should markup ever slip through escaping, it must not be
    able to pull local files (signing keys live under var/) or reach the network from a worker.
    """

    def __init__(self, allowed_roots: Sequence[Path]) -> None:
        super().__init__(allowed_protocols={"file", "data"}, timeout=5)
        self._allowed_roots = tuple(root.resolve() for root in allowed_roots)

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
        if url.startswith("file:"):
            path = Path(unquote(urlsplit(url).path)).resolve()
            if not any(path.is_relative_to(root) for root in self._allowed_roots):
                raise ValueError(f"Report asset outside allowed directories: {url}")
        return super().fetch(url, headers)


def _report_ua_css() -> str:
    """WeasyPrint's HTML user-agent stylesheet, minus its universal pseudo-element rules.

    ``::marker``, ``::footnote-call`` and four more rules match *every* element, so WeasyPrint
    builds six pseudo-element styles per table cell: ~25 % of the CSS time of a long table. Reports
    have no list markers outside ``li``/``summary``, and footnotes/notes must carry class
    ``footnote``/``note`` to get their call and marker.
    """
    ua = (Path(weasyprint.__file__).parent / "css" / "html5_ua.css").read_text(encoding="utf-8")
    ua = re.sub(r"^::marker", ":is(li, summary)::marker", ua, flags=re.MULTILINE)
    return re.sub(r"^::(footnote|note)", r".\1::\1", ua, flags=re.MULTILINE)


class _ReportHTML(HTML):
    """``weasyprint.HTML`` with the trimmed user-agent stylesheet (see :func:`_report_ua_css`)."""

    ua_stylesheet: CSS | None = None

    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        if forms or self.ua_stylesheet is None:
            return super()._ua_stylesheets(forms)
        return [self.ua_stylesheet]


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while WeasyPrint lays out or writes a document.

    Layout allocates millions of small objects, and every full collection re-walks all the pages
    laid out so far: with the collector on, a 1,000-row table took ~35 % longer. Reference
    counting still frees almost everything; the collector catches up once re-enabled.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(slots=True)
class _Engine:
    pid: int
    font_config: FontConfiguration
    stylesheet: CSS
    url_fetcher: _ReportURLFetcher


_engine_cache: _Engine | None = None
_engine_lock = threading.Lock()


def _allowed_asset_roots() -> list[Path]:
    roots = [PACKAGE_DIR, *(Path(p) for p in getattr(settings, "STATICFILES_DIRS", []))]
    if static_root := getattr(settings, "STATIC_ROOT", None):
        roots.append(Path(static_root))
    return roots


def _engine(allowed_roots: Sequence[Path] | None = None) -> _Engine:
    """The per-process WeasyPrint setup; ``allowed_roots`` default to settings (not in workers)."""
    global _engine_cache
    with _engine_lock:
        if _engine_cache is None or _engine_cache.pid != os.getpid():
            roots = _allowed_asset_roots() if allowed_roots is None else allowed_roots
            font_config = FontConfiguration()
            fetcher = _ReportURLFetcher(roots)
            stylesheet = CSS(filename=str(STYLESHEET), font_config=font_config, url_fetcher=fetcher)
            _ReportHTML.ua_stylesheet = CSS(string=_report_ua_css())
            _engine_cache = _Engine(os.getpid(), font_config, stylesheet, fetcher)
        return _engine_cache


def _default_base_url() -> str:
    # Relative URLs in report templates ("static/reports/logo.png") resolve against the project.
    return Path(settings.BASE_DIR).as_uri() + "/"


def _render_document(html_text: str, *, base_url: str, extra_css: Sequence[str] = ()) -> Document:
    engine = _engine()
    stylesheets = [engine.stylesheet]
    stylesheets += [CSS(string=css, font_config=engine.font_config) for css in extra_css if css]
    with _gc_paused():
        return _ReportHTML(
            string=html_text, base_url=base_url, url_fetcher=engine.url_fetcher
        ).render(stylesheets=stylesheets, font_config=engine.font_config)


def _write_pdf(document: Document) -> bytes:
    with _gc_paused():
        return document.write_pdf()


# --------------------------------------------------------------------------------------------------
# Public API


def render_pdf(
    template_name: str, context: Mapping[str, Any], *, base_url: str | None = None
) -> bytes:
    """Render a Django template (normally extending ``reports/base.html``) to PDF bytes.

    ``context["report_title"]`` / ``context["report_subtitle"]`` fill the page header; the footer
    shows "第 X 页 / 共 Y 页". ``base_url`` resolves relative URLs (default: the project root).
    """
    html_text = render_to_string(template_name, dict(context))
    return _write_pdf(_render_document(html_text, base_url=base_url or _default_base_url()))


def render_table_pdf(
    *,
    columns: Sequence[Column],
    rows: Sequence[Row],
    context: Mapping[str, Any],
    header_template: str | None = None,
    footer_template: str | None = None,
    base_url: str | None = None,
    chunk_rows: int | None = DEFAULT_CHUNK_ROWS,
    workers: int | None = None,
) -> bytes:
    """Render a report made of a header, one long table and a footer, fast.

    ``header_template`` / ``footer_template`` are Django templates rendered with ``context`` and
    placed before / after the table (e.g. the statement's parties; its totals and signature
    block). ``rows`` come already grouped, with their subtotal rows, in display order; the table
    header repeats on every page. ``context["report_title"]`` / ``["report_subtitle"]`` fill the
    page header.

    ``workers``: processes laying out segments of the table in parallel; ``None`` picks
    ``min(CPUs, 4)`` from :data:`PARALLEL_MIN_ROWS` rows on. ``chunk_rows=None`` renders the whole
    report as one WeasyPrint document in this process (the simple path the benchmark compares).
    """
    _check_rows(columns, rows)
    job = _TableJob(
        columns=tuple(columns),
        rows=tuple(rows),
        frames=_table_frames(columns, context, header_template, footer_template),
        column_css=_column_css(columns),
        base_url=base_url or _default_base_url(),
        allowed_roots=tuple(_allowed_asset_roots()),
        chunk_rows=chunk_rows or len(rows) or 1,
    )
    if chunk_rows is None or (len(rows) <= chunk_rows and workers in (None, 1)):
        # One document: WeasyPrint's own page counters are right, no overlay needed.
        document = _render_document(
            job.html(0, len(rows), first=True, last=True, anchors=False),
            base_url=job.base_url,
            extra_css=[job.column_css],
        )
        return _write_pdf(document)
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be positive or None")

    if workers is None:
        # Each worker should get at least half of PARALLEL_MIN_ROWS to earn its start-up second.
        workers = min(os.cpu_count() or 1, MAX_WORKERS, len(rows) * 2 // PARALLEL_MIN_ROWS)
    segments = _segments(job.rows, max(workers, 1))
    if len(segments) == 1:
        layout = _SegmentLayout(job, *segments[0])
        return layout.finish(offset=0, total=layout.page_count)
    return _render_in_parallel(job, segments)


# --------------------------------------------------------------------------------------------------
# Table documents


@dataclass(frozen=True, slots=True)
class _TableJob:
    """Everything needed to lay out any slice of the table, picklable for worker processes."""

    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    #: (prefix, suffix) HTML around the rows, keyed by (has header, has footer).
    frames: dict[tuple[bool, bool], tuple[str, str]]
    column_css: str
    base_url: str
    allowed_roots: tuple[Path, ...]
    chunk_rows: int

    def html(self, start: int, end: int, *, first: bool, last: bool, anchors: bool) -> str:
        prefix, suffix = self.frames[first, last]
        anchors_from = end - _ANCHOR_TAIL if anchors else end
        return prefix + _rows_html(self.columns, self.rows, start, end, anchors_from) + suffix


def _table_frames(
    columns: Sequence[Column],
    context: Mapping[str, Any],
    header_template: str | None,
    footer_template: str | None,
) -> dict[tuple[bool, bool], tuple[str, str]]:
    """The table document's HTML before and after the rows, with and without header/footer.

    Rendered once with Django; chunks then only splice rows in, so worker processes need neither
    Django nor the caller's context.
    """
    header_html = render_to_string(header_template, dict(context)) if header_template else ""
    footer_html = render_to_string(footer_template, dict(context)) if footer_template else ""
    frames = {}
    for first in (True, False):
        for last in (True, False):
            document = render_to_string(
                TABLE_TEMPLATE,
                {
                    **context,
                    "columns": columns,
                    # Both rendered by Django with autoescaping just above.
                    "header_html": mark_safe(header_html) if first else "",  # noqa: S308
                    "footer_html": mark_safe(footer_html) if last else "",  # noqa: S308
                    "rows_html": _ROWS_MARKER,
                },
            )
            prefix, suffix = document.split(_ROWS_MARKER)
            frames[first, last] = (prefix, suffix)
    return frames


class _SegmentLayout:
    """Lay out rows ``[start, end)`` chunk by chunk, seamlessly; then number and write the pages.

    The first segment carries the header, the last one the footer; a segment starts on a new page.
    """

    def __init__(self, job: _TableJob, start: int, end: int) -> None:
        _engine(job.allowed_roots)
        self.job = job
        self.pages: list[Any] = []
        self.first_document: Document | None = None
        with _gc_paused():
            for document, keep in self._chunks(start, end):
                self.first_document = self.first_document or document  # metadata (title)
                self.pages.extend(document.pages[:keep])
            _drop_row_anchors(self.pages)

    @property
    def page_count(self) -> int:
        return len(self.pages)

    def _chunks(self, start: int, end: int) -> Iterator[tuple[Document, int]]:
        """Yield (document, number of its pages to keep) for consecutive row ranges."""
        job = self.job
        while True:
            chunk_end = min(start + job.chunk_rows, end)
            last = chunk_end == end
            document = _render_document(
                job.html(
                    start,
                    chunk_end,
                    first=start == 0,
                    last=last and end == len(job.rows),
                    anchors=not last,
                ),
                base_url=job.base_url,
                extra_css=[job.column_css, _NO_PAGE_NUMBER_CSS],
            )
            if last:
                yield document, len(document.pages)
                return
            carry = _first_row_on(document.pages[-1]) if len(document.pages) > 1 else None
            if carry is None or carry <= start:
                # The chunk fits on one page, or its last page starts before the anchored tail:
                # keep it whole (one short page) rather than loop forever.
                yield document, len(document.pages)
                start = chunk_end
            else:
                yield document, len(document.pages) - 1
                start = carry

    def finish(self, *, offset: int, total: int) -> bytes:
        """Paint "第 X 页 / 共 Y 页" (X from ``offset + 1``) over the pages and write the PDF."""
        if not self.pages or self.first_document is None:
            raise ValueError("Nothing was laid out")
        overlay = _render_document(
            '<div class="overlay-page"></div>' * len(self.pages),
            base_url=self.job.base_url,
            extra_css=[_overlay_css(offset, total)],
        )
        stamped = [
            _StampedPage(page, stamp) for page, stamp in zip(self.pages, overlay.pages, strict=True)
        ]
        return _write_pdf(self.first_document.copy(stamped))


def _overlay_css(offset: int, total: int) -> str:
    # Same wording as the @bottom-center box of report.css, with a known total.
    return f"""
@page {{
  @top-left {{ content: none }}
  @top-right {{ content: none }}
  @bottom-center {{ content: "第 " counter(page) " 页 / 共 {total:d} 页" }}
}}
@page :first {{ counter-reset: page {offset + 1:d} }}
.overlay-page {{ break-before: page; }}
.overlay-page:first-child {{ break-before: auto; }}
"""


class _StampedPage:
    """A content page with an overlay page (the page-number footer) painted on top.

    Duck-types :class:`weasyprint.Page` for ``Document.write_pdf``: geometry, links and anchors
    come from the content page; ``paint`` draws both. The overlay has no background, so only its
    margin-box text shows.
    """

    def __init__(self, page: Any, stamp: Any) -> None:
        if (page.width, page.height) != (stamp.width, stamp.height):
            raise ValueError("Chunked reports need one page size throughout")
        self._page = page
        self._stamp = stamp

    def __getattr__(self, name: str) -> Any:
        return getattr(self._page, name)

    def paint(self, stream: Any, scale: float = 1) -> None:
        self._page.paint(stream, scale)
        self._stamp.paint(stream, scale)


def _first_row_on(page: Any) -> int | None:
    indexes = [
        int(name[len(_ROW_ANCHOR) :]) for name in page.anchors if name.startswith(_ROW_ANCHOR)
    ]
    return min(indexes) if indexes else None


def _drop_row_anchors(pages: Sequence[Any]) -> None:
    # Every anchor would become a named destination in the PDF: thousands of them for nothing.
    for page in pages:
        for name in [name for name in page.anchors if name.startswith(_ROW_ANCHOR)]:
            del page.anchors[name]


# --------------------------------------------------------------------------------------------------
# Parallel segments


def _segments(rows: Sequence[Row], count: int) -> list[tuple[int, int]]:
    """Cut ``rows`` into up to ``count`` ranges of similar size, preferably after subtotal rows.

    Each segment starts on a new page, so a cut right after a subtotal reads like a department
    that starts a page; without a subtotal nearby the cut falls anywhere (one short page).
    """
    total = len(rows)
    count = max(1, min(count, total))
    cuts = [0]
    for number in range(1, count):
        ideal = total * number // count
        window = total // (2 * count)
        candidates = [
            index
            for index in range(max(cuts[-1] + 1, ideal - window), min(total, ideal + window))
            if rows[index - 1].kind in ("subtotal", "total")
        ]
        cuts.append(min(candidates, key=lambda index: abs(index - ideal)) if candidates else ideal)
    cuts.append(total)
    return [(start, end) for start, end in itertools.pairwise(cuts) if start < end]


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    page_count: int = field(default=0)


def _render_in_parallel(job: _TableJob, segments: list[tuple[int, int]]) -> bytes:
    """Lay out the first segment here and the others in worker processes; join their PDFs."""
    workers = [_start_worker(job, segment) for segment in segments[1:]]
    try:
        own = _SegmentLayout(job, *segments[0])
        for worker in workers:
            worker.page_count = _receive(worker.process.stdout, "count")
        counts = [own.page_count] + [worker.page_count for worker in workers]
        total = sum(counts)
        offset = own.page_count
        for worker, count in zip(workers, counts[1:], strict=True):
            _send(worker.process.stdin, (offset, total))
            offset += count
        pdfs = [own.finish(offset=0, total=total)]
        pdfs += [_receive(worker.process.stdout, "pdf") for worker in workers]
    finally:
        for worker in workers:
            _stop(worker.process)
    return _concatenate(pdfs)


def _start_worker(job: _TableJob, segment: tuple[int, int]) -> _Worker:
    # The worker imports govcloud.pdf from the same tree as this process, whatever its cwd.
    python_path = [str(PACKAGE_DIR.parents[1]), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, python_path))}
    process = subprocess.Popen(
        [sys.executable, "-m", "govcloud.pdf._worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    _send(process.stdin, (job, segment))
    return _Worker(process)


def serve_worker(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """Worker process side of :func:`_render_in_parallel` (see ``govcloud.pdf._worker``)."""
    try:
        job, (start, end) = pickle.load(stdin)  # noqa: S301 — from our parent process
        layout = _SegmentLayout(job, start, end)
        _send(stdout, ("count", layout.page_count))
        offset, total = pickle.load(stdin)  # noqa: S301 — idem
        _send(stdout, ("pdf", layout.finish(offset=offset, total=total)))
    except Exception as exc:
        logger.exception("PDF segment worker failed")
        _send(stdout, ("error", f"{type(exc).__name__}: {exc}"))


def _send(pipe: IO[bytes] | None, message: object) -> None:
    assert pipe is not None  # noqa: S101 — Popen with PIPE
    pickle.dump(message, pipe, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.flush()


def _receive(pipe: IO[bytes] | None, expected: str) -> Any:
    assert pipe is not None  # noqa: S101 — Popen with PIPE
    try:
        kind, payload = pickle.load(pipe)  # noqa: S301 — from our own worker process
    except EOFError as exc:
        raise RuntimeError("PDF segment worker died") from exc
    if kind != expected:
        raise RuntimeError(f"PDF segment worker failed: {payload}")
    return payload


def _stop(process: subprocess.Popen[bytes]) -> None:
    for pipe in (process.stdin, process.stdout):
        if pipe:
            pipe.close()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _concatenate(pdfs: Sequence[bytes]) -> bytes:
    # pypdf keeps each part's fonts and pages as they are; only the page tree is rebuilt.
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for pdf in pdfs:
        writer.append(PdfReader(BytesIO(pdf)))
    first = PdfReader(BytesIO(pdfs[0]))
    if first.metadata:
        writer.add_metadata(dict(first.metadata))
    output = BytesIO()
    writer.write(output)
    return output.getvalue()


# --------------------------------------------------------------------------------------------------
# Table markup


def _check_rows(columns: Sequence[Column], rows: Sequence[Row]) -> None:
    for index, row in enumerate(rows):
        if len(row.cells) + row.span - 1 != len(columns):
            raise ValueError(
                f"Row {index} has {len(row.cells)} cells spanning {row.span}, "
                f"expected {len(columns)} columns"
            )


def _column_css(columns: Sequence[Column]) -> str:
    return "\n".join(
        f".report-table col.col-{index} {{ width: {column.width}; }}"
        for index, column in enumerate(columns)
        if column.width
    )


def _rows_html(
    columns: Sequence[Column], rows: Sequence[Row], start: int, end: int, anchors_from: int
) -> str:
    # Built with str.join instead of a template loop: for 10,000 rows x 7 cells the Django
    # template engine alone takes ~1 s, this takes ~30 ms.
    #
    # Only rows from ``anchors_from`` on carry an anchor (the tail of a chunk, where its last page
    # can start), and on the first cell rather than the <tr>: an id gives its element a computed
    # style of its own, and on a <tr> it would also stop WeasyPrint from sharing the styles of the
    # cells below it with the other rows.
    numeric = [column.numeric for column in columns]
    escape = html.escape
    parts: list[str] = []
    for index in range(start, end):
        row = rows[index]
        if row.kind != "item":
            parts.append(f'<tr class="{row.kind}">')
        elif index % 2:
            parts.append('<tr class="alt">')  # zebra stripes: cheaper to paint than cell rules
        else:
            parts.append("<tr>")
        column = 0
        for position, cell in enumerate(row.cells):
            span = row.span if position == 0 else 1
            attrs = f' id="{_ROW_ANCHOR}{index}"' if position == 0 and index >= anchors_from else ""
            if span > 1:
                attrs += f' colspan="{span}"'
            elif numeric[column]:
                attrs += ' class="num"'
            parts.append(f"<td{attrs}>{escape(cell)}</td>")
            column += span
        parts.append("</tr>")
    return "".join(parts)
