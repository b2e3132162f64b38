"""REST API v1 routes of the SLA (included from ``govcloud.api_urls``).

POST-only workflow actions are deliberately unnamed (the tenancy matrix walks named object URLs
with GET); their anonymous / wrong-role / cross-tenant answers are tested in
``tests/sla/test_api.py``.
"""

from django.urls import path

from sla.apis import (
    deliverables,
    exit,
    incidents,
    metrics,
    notices,
    outages,
    penalties,
    rightsizing,
    scorecard,
    security,
    surveys,
    training,
)

urlpatterns = [
    path("metrics/", metrics.MetricsPushApi.as_view(), name="api_metrics_push"),
    path("sla/utilization/", metrics.SampleListApi.as_view(), name="api_sla_samples"),
    path("sla/outages/", outages.OutageCreateApi.as_view(), name="api_sla_outage_list"),
    path("sla/outages/<int:pk>/", outages.OutageDetailApi.as_view(), name="api_sla_outage_detail"),
    path("sla/outages/<int:pk>/confirm/", outages.OutageConfirmApi.as_view()),
    path("sla/outages/<int:pk>/approve-maintenance/", outages.OutageApproveApi.as_view()),
    path("sla/incidents/", incidents.IncidentCreateApi.as_view(), name="api_sla_incident_list"),
    path(
        "sla/incidents/<int:pk>/",
        incidents.IncidentDetailApi.as_view(),
        name="api_sla_incident_detail",
    ),
    path("sla/incidents/<int:pk>/assess/", incidents.IncidentAssessApi.as_view()),
    path(
        "sla/security-items/", security.SecurityItemListApi.as_view(), name="api_sla_security_list"
    ),
    path(
        "sla/security-items/<int:pk>/",
        security.SecurityItemDetailApi.as_view(),
        name="api_sla_security_detail",
    ),
    path(
        "sla/training-sessions/", training.TrainingListApi.as_view(), name="api_sla_training_list"
    ),
    path(
        "sla/training-sessions/<int:pk>/",
        training.TrainingDetailApi.as_view(),
        name="api_sla_training_detail",
    ),
    path(
        "sla/deliverables/",
        deliverables.DeliverableCreateApi.as_view(),
        name="api_sla_deliverable_list",
    ),
    path(
        "sla/deliverables/<int:pk>/",
        deliverables.DeliverableDetailApi.as_view(),
        name="api_sla_deliverable_detail",
    ),
    path("sla/deliverables/<int:pk>/submit/", deliverables.DeliverableSubmitApi.as_view()),
    path("sla/deliverables/<int:pk>/review/", deliverables.DeliverableReviewApi.as_view()),
    path("sla/notices/", notices.NoticeCreateApi.as_view(), name="api_sla_notice_list"),
    path("sla/notices/<int:pk>/", notices.NoticeDetailApi.as_view(), name="api_sla_notice_detail"),
    path("sla/notices/<int:pk>/fix/", notices.NoticeFixApi.as_view()),
    path("sla/notices/<int:pk>/confirm/", notices.NoticeConfirmApi.as_view()),
    path("sla/penalties/", penalties.PenaltyListApi.as_view(), name="api_sla_penalty_list"),
    path(
        "sla/penalties/<int:pk>/",
        penalties.PenaltyDetailApi.as_view(),
        name="api_sla_penalty_detail",
    ),
    path("sla/penalties/<int:pk>/acknowledge/", penalties.PenaltyAcknowledgeApi.as_view()),
    path("sla/surveys/", surveys.SurveyListApi.as_view(), name="api_sla_survey_list"),
    path("sla/surveys/<int:pk>/", surveys.SurveyDetailApi.as_view(), name="api_sla_survey_detail"),
    path("sla/surveys/<int:pk>/respond/", surveys.SurveyRespondApi.as_view()),
    path("sla/rightsizing/", rightsizing.ReportListApi.as_view(), name="api_sla_report_list"),
    path(
        "sla/rightsizing/<int:pk>/",
        rightsizing.ReportDetailApi.as_view(),
        name="api_sla_report_detail",
    ),
    path("sla/rightsizing/<int:pk>/submit/", rightsizing.ReportSubmitApi.as_view()),
    path("sla/advice/", rightsizing.AdviceListApi.as_view(), name="api_sla_advice_list"),
    path("sla/advice/answer/", rightsizing.AdviceBulkApi.as_view(), name="api_sla_advice_bulk"),
    path(
        "sla/advice/<int:pk>/",
        rightsizing.AdviceDetailApi.as_view(),
        name="api_sla_advice_detail",
    ),
    path("sla/advice/<int:pk>/accept/", rightsizing.AdviceAcceptApi.as_view()),
    path("sla/advice/<int:pk>/decline/", rightsizing.AdviceDeclineApi.as_view()),
    path(
        "sla/scorecards/<int:contract_pk>/<int:year>/",
        scorecard.ScorecardApi.as_view(),
        name="api_sla_scorecard",
    ),
    path(
        "sla/scorecards/<int:contract_pk>/<int:year>/rectification/",
        scorecard.RectificationOpenApi.as_view(),
        name="api_sla_scorecard_rectification_open",
    ),
    path(
        "sla/scorecards/<int:contract_pk>/<int:year>/rectification/report/",
        scorecard.RectificationReportApi.as_view(),
        name="api_sla_scorecard_rectification_report",
    ),
    path(
        "sla/scorecards/<int:contract_pk>/<int:year>/rectification/decide/",
        scorecard.RectificationDecideApi.as_view(),
        name="api_sla_scorecard_rectification_decide",
    ),
    path(
        "sla/scorecards/<int:contract_pk>/<int:year>/rescore/",
        scorecard.RescoreApi.as_view(),
        name="api_sla_scorecard_rescore",
    ),
    path(
        "sla/scorecards/<int:contract_pk>/<int:year>/penalty/claim/",
        scorecard.PenaltyClaimApi.as_view(),
        name="api_sla_scorecard_penalty_claim",
    ),
    path(
        "sla/scorecards/<int:contract_pk>/<int:year>/penalty/waive/",
        scorecard.PenaltyWaiveApi.as_view(),
        name="api_sla_scorecard_penalty_waive",
    ),
    # the exit: staff with access, handover plan, data return and deletion records
    path("sla/exit/staff/", exit.StaffListApi.as_view(), name="api_sla_exit_staff_list"),
    path(
        "sla/exit/staff/<int:pk>/",
        exit.StaffDetailApi.as_view(),
        name="api_sla_exit_staff_detail",
    ),
    path("sla/exit/staff/<int:pk>/end/", exit.StaffEndApi.as_view()),
    path("sla/exit/staff/submit/", exit.RegisterSubmitApi.as_view()),
    path("sla/exit/handover-plan/", exit.HandoverPlanApi.as_view()),
    path("sla/exit/records/", exit.ExitRecordListApi.as_view(), name="api_sla_exit_record_list"),
    path(
        "sla/exit/records/<int:pk>/",
        exit.ExitRecordDetailApi.as_view(),
        name="api_sla_exit_record_detail",
    ),
    path("sla/exit/records/<int:pk>/sign/", exit.ExitRecordSignApi.as_view()),
    path("sla/exit/records/<int:pk>/confirm/", exit.ExitRecordConfirmApi.as_view()),
    path("sla/exit/records/<int:pk>/object/", exit.ExitRecordObjectApi.as_view()),
]
