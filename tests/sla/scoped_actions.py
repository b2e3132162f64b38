"""Tenancy-matrix entries of the SLA's one-URL-per-action POSTs (``sla/urls.py``), and of
the SLA pages added since the matrix in ``tests/scoped_urls.py`` was written.

``tests/scoped_urls.py`` merges them with ``SCOPED_URLS.update(SLA_ACTION_URLS)``. In the own
tenant an action answers (a redirect, or the page with the service's refusal), never 404; the
foreign tenant gets 404.
"""

from __future__ import annotations

from tests.scoped_urls import (
    SLA_BUSINESS,
    SLA_PARTIES,
    ScopedUrl,
    _contract_kwargs,
    _pk,
    _report_kwargs,
)
from tests.sla.scorecard_builders import rectification_with_report

_PK_ACTIONS = {
    "outage": ("confirm", "approve"),
    "incident": ("assess",),
    "deliverable": ("submit", "review"),
    "notice": ("fix", "confirm"),
    "penalty": ("acknowledge", "withdraw"),
}


def _scorecard_kwargs(world):
    return {"contract_pk": world.contract.pk, "year": world.contract.service_start.year}


def _scorecard_rectification_file(world):
    rectification = rectification_with_report(world)
    return {**_scorecard_kwargs(world), "pk": rectification.pk}


# A failing card's follow-up (附件2 §11): rectification, re-scoring, the 10 % penalty.
_FOLLOWUP = (
    "rectification_open",
    "rectification_report",
    "rectification_decide",
    "rescore",
    "penalty_claim",
    "penalty_waive",
)


SLA_ACTION_URLS: dict[str, ScopedUrl] = {
    # Maintenance notice-duty records (a list page and the bureau's note), issue 11.
    "sla_shortfall_list": ScopedUrl(_contract_kwargs, visible_to=SLA_PARTIES),
    "sla_shortfall_note": ScopedUrl(_pk("shortfall"), visible_to=SLA_PARTIES, method="post"),
    **{
        f"sla_{entity}_{action}": ScopedUrl(_pk(entity), visible_to=SLA_PARTIES, method="post")
        for entity, names in _PK_ACTIONS.items()
        for action in names
    },
    "sla_survey_respond": ScopedUrl(_pk("survey"), visible_to=SLA_PARTIES, method="post"),
    "sla_survey_close": ScopedUrl(_pk("survey"), visible_to=SLA_PARTIES, method="post"),
    "sla_security_review": ScopedUrl(_pk("security_item"), visible_to=SLA_PARTIES, method="post"),
    "sla_security_submit": ScopedUrl(_contract_kwargs, visible_to=SLA_PARTIES, method="post"),
    "sla_security_waive": ScopedUrl(_contract_kwargs, visible_to=SLA_PARTIES, method="post"),
    "sla_training_plan_submit": ScopedUrl(_contract_kwargs, visible_to=SLA_PARTIES, method="post"),
    "sla_training_session_record": ScopedUrl(
        _contract_kwargs, visible_to=SLA_PARTIES, method="post"
    ),
    "sla_training_plan_review": ScopedUrl(
        _pk("training_plan"), visible_to=SLA_PARTIES, method="post"
    ),
    "sla_training_session_review": ScopedUrl(
        _pk("training_session"), visible_to=SLA_PARTIES, method="post"
    ),
    # The scorecard's finalise and PDF, the month's right-sizing report and its advice.
    **{
        f"sla_scorecard_{action}": ScopedUrl(
            _scorecard_kwargs, visible_to=SLA_PARTIES, method="post"
        )
        for action in ("finalise", "render")
    },
    **{
        f"sla_scorecard_{action}": ScopedUrl(
            _scorecard_kwargs, visible_to=SLA_PARTIES, method="post"
        )
        for action in _FOLLOWUP
    },
    "sla_scorecard_rectification_file": ScopedUrl(
        _scorecard_rectification_file, visible_to=SLA_PARTIES
    ),
    **{
        f"api_sla_scorecard_{action}": ScopedUrl(
            _scorecard_kwargs, visible_to=SLA_PARTIES, method="post"
        )
        for action in _FOLLOWUP
    },
    **{
        f"sla_report_{action}": ScopedUrl(_report_kwargs(0), visible_to=SLA_BUSINESS, method="post")
        for action in ("submit", "recompute", "mark_wrong", "render")
    },
    **{
        f"sla_advice_{action}": ScopedUrl(_report_kwargs(1), visible_to=SLA_BUSINESS, method="post")
        for action in ("accept", "decline")
    },
}
