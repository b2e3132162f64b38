"""Portal URLs of the SLA (included under ``/sla/``).

Every page with an object in its path is in the tenancy matrix (``tests/scoped_urls.py``).
Detail pages take their actions as POSTs to the same URL, so every named URL answers GET.
"""

from django.urls import path

from sla.views import records, scorecard, utilization

urlpatterns = [
    path("", scorecard.index, name="sla_index"),
    path("<int:contract_pk>/", scorecard.contract_overview, name="sla_contract"),
    path("<int:contract_pk>/scorecard/<int:year>/", scorecard.scorecard, name="sla_scorecard"),
    path(
        "<int:contract_pk>/scorecard/<int:year>/pdf/",
        scorecard.scorecard_pdf,
        name="sla_scorecard_pdf",
    ),
    # outages
    path("<int:contract_pk>/outages/", records.outage_list, name="sla_outage_list"),
    path("<int:contract_pk>/outages/new/", records.outage_create, name="sla_outage_create"),
    path("outages/<int:pk>/", records.outage_detail, name="sla_outage_detail"),
    path("outages/<int:pk>/edit/", records.outage_edit, name="sla_outage_edit"),
    # incidents
    path("<int:contract_pk>/incidents/", records.incident_list, name="sla_incident_list"),
    path("<int:contract_pk>/incidents/new/", records.incident_create, name="sla_incident_create"),
    path("incidents/<int:pk>/", records.incident_detail, name="sla_incident_detail"),
    path("incidents/<int:pk>/evidence/", records.incident_evidence, name="sla_incident_evidence"),
    # security mechanism checklist
    path("<int:contract_pk>/security/", records.security_list, name="sla_security_list"),
    path("security/<int:pk>/evidence/", records.security_evidence, name="sla_security_evidence"),
    # training
    path("<int:contract_pk>/training/", records.training_list, name="sla_training_list"),
    path(
        "training/plans/<int:pk>/file/", records.training_plan_file, name="sla_training_plan_file"
    ),
    path(
        "training/sessions/<int:pk>/file/",
        records.training_session_file,
        name="sla_training_session_file",
    ),
    # deliverables
    path("<int:contract_pk>/deliverables/", records.deliverable_list, name="sla_deliverable_list"),
    path(
        "<int:contract_pk>/deliverables/new/",
        records.deliverable_create,
        name="sla_deliverable_create",
    ),
    path("deliverables/<int:pk>/", records.deliverable_detail, name="sla_deliverable_detail"),
    path(
        "deliverables/submissions/<int:pk>/file/",
        records.deliverable_file,
        name="sla_deliverable_file",
    ),
    # satisfaction surveys
    path("<int:contract_pk>/surveys/", records.survey_list, name="sla_survey_list"),
    path("<int:contract_pk>/surveys/new/", records.survey_create, name="sla_survey_create"),
    path("surveys/<int:pk>/", records.survey_detail, name="sla_survey_detail"),
    # improvement notices
    path("<int:contract_pk>/notices/", records.notice_list, name="sla_notice_list"),
    path("<int:contract_pk>/notices/new/", records.notice_create, name="sla_notice_create"),
    path("notices/<int:pk>/", records.notice_detail, name="sla_notice_detail"),
    path("notices/<int:pk>/file/", records.notice_file, name="sla_notice_file"),
    # penalties
    path("<int:contract_pk>/penalties/", records.penalty_list, name="sla_penalty_list"),
    path("<int:contract_pk>/penalties/new/", records.penalty_create, name="sla_penalty_create"),
    path("penalties/<int:pk>/", records.penalty_detail, name="sla_penalty_detail"),
    # emergencies
    path("<int:contract_pk>/emergencies/", records.emergency_list, name="sla_emergency_list"),
    # utilization and right-sizing
    path("<int:contract_pk>/utilization/", utilization.utilization, name="sla_utilization"),
    path(
        "<int:contract_pk>/utilization/upload/",
        utilization.metrics_upload,
        name="sla_metrics_upload",
    ),
    path("<int:contract_pk>/rightsizing/", utilization.report_list, name="sla_report_list"),
    path("rightsizing/<int:pk>/", utilization.report_detail, name="sla_report_detail"),
    path("rightsizing/<int:pk>/pdf/", utilization.report_pdf, name="sla_report_pdf"),
    path("advice/<int:pk>/", utilization.advice_detail, name="sla_advice_detail"),
]
