"""PDF toolkit for reports: Chinese rendering with WeasyPrint, SVG charts, PAdES signing.

- ``govcloud.pdf.render`` — ``render_pdf`` (a report template) and ``render_table_pdf`` (a report
  built around a long table, fast), with the bundled Noto Sans SC subset in ``fonts/``.
- ``govcloud.pdf.charts`` — ``bar_chart_svg``, the same SVG for the portal and the PDF.
- ``govcloud.pdf.signing`` — development CA, per-party PKCS#12 signers, signature fields,
  incremental PAdES signatures and their verification.

The submodules are imported explicitly: signing does not need WeasyPrint and vice versa.
"""
