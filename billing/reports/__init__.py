"""Statement documents: the PDFs of the billing app, their signatures and their e-mails.

- ``statement_pdf`` — view models and rendering of the monthly statement (fast table path),
  the department bill and the settlement summary, from ``templates/reports/``.
- ``signing`` — the statement PDF's life: rendered when the version is generated, one PAdES
  signature per sign-off appended inside that sign-off with the signer's own key (opened with
  the passphrase they typed); department bills and settlement documents; exactly-once e-mails
  with the PDFs attached (``emails``).
- ``receivers`` — listens to ``billing.signals`` and enqueues the Celery tasks in
  ``billing.tasks`` (render, e-mail, bills, settlement — none of them signs).
"""
