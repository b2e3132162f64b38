"""REST API v1 routes of the SLA (included from ``govcloud.api_urls``).

POST-only workflow actions are deliberately unnamed (the tenancy matrix walks named object URLs
with GET); their anonymous / wrong-role / cross-tenant answers are tested in
``tests/sla/test_api.py``.
"""

from django.urls import path

from sla import apis

urlpatterns = [
    path("metrics/", apis.MetricsPushApi.as_view(), name="api_metrics_push"),
    path("sla/utilization/", apis.SampleListApi.as_view(), name="api_sla_samples"),
    path("sla/outages/", apis.OutageCreateApi.as_view(), name="api_sla_outage_list"),
    path("sla/outages/<int:pk>/", apis.OutageDetailApi.as_view(), name="api_sla_outage_detail"),
    path("sla/outages/<int:pk>/confirm/", apis.OutageConfirmApi.as_view()),
    path("sla/outages/<int:pk>/approve-maintenance/", apis.OutageApproveApi.as_view()),
    path("sla/incidents/", apis.IncidentCreateApi.as_view(), name="api_sla_incident_list"),
    path(
        "sla/incidents/<int:pk>/", apis.IncidentDetailApi.as_view(), name="api_sla_incident_detail"
    ),
    path("sla/incidents/<int:pk>/assess/", apis.IncidentAssessApi.as_view()),
    path("sla/security-items/", apis.SecurityItemListApi.as_view(), name="api_sla_security_list"),
    path(
        "sla/security-items/<int:pk>/",
        apis.SecurityItemDetailApi.as_view(),
        name="api_sla_security_detail",
    ),
    path("sla/training-sessions/", apis.TrainingListApi.as_view(), name="api_sla_training_list"),
    path(
        "sla/training-sessions/<int:pk>/",
        apis.TrainingDetailApi.as_view(),
        name="api_sla_training_detail",
    ),
    path("sla/deliverables/", apis.DeliverableCreateApi.as_view(), name="api_sla_deliverable_list"),
    path(
        "sla/deliverables/<int:pk>/",
        apis.DeliverableDetailApi.as_view(),
        name="api_sla_deliverable_detail",
    ),
    path("sla/deliverables/<int:pk>/submit/", apis.DeliverableSubmitApi.as_view()),
    path("sla/deliverables/<int:pk>/review/", apis.DeliverableReviewApi.as_view()),
    path("sla/notices/", apis.NoticeCreateApi.as_view(), name="api_sla_notice_list"),
    path("sla/notices/<int:pk>/", apis.NoticeDetailApi.as_view(), name="api_sla_notice_detail"),
    path("sla/notices/<int:pk>/fix/", apis.NoticeFixApi.as_view()),
    path("sla/notices/<int:pk>/confirm/", apis.NoticeConfirmApi.as_view()),
    path("sla/penalties/", apis.PenaltyListApi.as_view(), name="api_sla_penalty_list"),
    path("sla/penalties/<int:pk>/", apis.PenaltyDetailApi.as_view(), name="api_sla_penalty_detail"),
    path("sla/penalties/<int:pk>/acknowledge/", apis.PenaltyAcknowledgeApi.as_view()),
    path("sla/surveys/", apis.SurveyListApi.as_view(), name="api_sla_survey_list"),
    path("sla/surveys/<int:pk>/", apis.SurveyDetailApi.as_view(), name="api_sla_survey_detail"),
    path("sla/surveys/<int:pk>/respond/", apis.SurveyRespondApi.as_view()),
    path("sla/rightsizing/", apis.ReportListApi.as_view(), name="api_sla_report_list"),
    path("sla/rightsizing/<int:pk>/", apis.ReportDetailApi.as_view(), name="api_sla_report_detail"),
    path("sla/rightsizing/<int:pk>/submit/", apis.ReportSubmitApi.as_view()),
    path("sla/advice/", apis.AdviceListApi.as_view(), name="api_sla_advice_list"),
    path("sla/advice/<int:pk>/", apis.AdviceDetailApi.as_view(), name="api_sla_advice_detail"),
    path("sla/advice/<int:pk>/accept/", apis.AdviceAcceptApi.as_view()),
    path("sla/advice/<int:pk>/decline/", apis.AdviceDeclineApi.as_view()),
    path(
        "sla/scorecards/<int:contract_pk>/<int:year>/",
        apis.ScorecardApi.as_view(),
        name="api_sla_scorecard",
    ),
]
