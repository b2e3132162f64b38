"""Signals of the ``billing`` app, for the PDF signing and e-mail steps to listen to.

``statement_submitted`` and ``statement_found_wrong`` are sent with ``transaction.on_commit`` by
the statement services, so their receivers only ever see committed rows. The sign-off signals —
``statement_signoff_recorded``, ``statement_version_ready`` and ``statement_signed`` — are sent
*inside* the service's transaction, in that order, because their receivers record the document
work as durable jobs (``govcloud.jobs.job_schedule``) that must commit or roll back with the
step; such a receiver only writes rows (a job is enqueued after commit) and never does slow work
itself. Receivers must be idempotent.

``statement_signoff_recorded(sender=StatementSignoff, statement=…, signoff=…)``
    A party put its name to a statement version: the vendor's submission (which is its
    confirmation), each other party's confirmation, and an auditor's determination that
    stands in for a disputing party. In signing order. Not sent for disputes.

``statement_version_ready(sender=Statement, statement=Statement)``
    A version was generated or recomputed: its PDF is to be rendered (the receiver enqueues
    the render; signing off waits for it).

``statement_signed(sender=Statement, statement=Statement)``
    Every required party has confirmed: the version is signed and immutable, its department
    bills exist. Sent after the last ``statement_signoff_recorded`` of that version.

``statement_submitted(sender=Statement, statement=Statement, due=date | None, late=bool)``
    The vendor submitted a version of a monthly statement (the first or a corrected one).
    ``due`` is the contract's due day for that month (``statement_due_working_day``; None where
    the contract sets none), ``late`` whether the submission came after it. The SLA app records
    the statement as a deliverable where the contract's terms say so (BT 附件3 二(二)).

``statement_found_wrong(sender=Statement, statement=Statement, reason=str)``
    A submitted version was found wrong: a party's dispute was upheld (the vendor issued a
    corrected version, or the auditor ruled against the vendor). For the same deliverable rule
    ("内容存在错误，按照交付物不合格处理").
"""

from django.dispatch import Signal

statement_signoff_recorded = Signal()
statement_version_ready = Signal()
statement_signed = Signal()
statement_submitted = Signal()
statement_found_wrong = Signal()
