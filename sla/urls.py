"""Portal URLs of the SLA (included under ``/sla/``).

Every page with an object in its path is in the tenancy matrix (``tests/scoped_urls.py``).
One URL per action: a workflow action is a POST to its own URL (``…/<pk>/confirm/``), named
``sla_<entity>_<action>``; the detail page answers GET only.
"""

from django.urls import path

from sla.views import (
    deliverables,
    emergencies,
    exit,
    incidents,
    notices,
    outages,
    penalties,
    scorecard,
    security,
    shortfalls,
    surveys,
    todos,
    training,
    utilization,
)

urlpatterns = [
    path("", scorecard.index, name="sla_index"),
    path("<int:contract_pk>/", scorecard.contract_overview, name="sla_contract"),
    path("<int:contract_pk>/scorecard/<int:year>/", scorecard.scorecard, name="sla_scorecard"),
    path(
        "<int:contract_pk>/scorecard/<int:year>/pdf/",
        scorecard.scorecard_pdf,
        name="sla_scorecard_pdf",
    ),
    path(
        "<int:contract_pk>/scorecard/<int:year>/finalise/",
        scorecard.scorecard_finalise,
        name="sla_scorecard_finalise",
    ),
    path(
        "<int:contract_pk>/scorecard/<int:year>/render/",
        scorecard.scorecard_render,
        name="sla_scorecard_render",
    ),
    path(
        "<int:contract_pk>/scorecard/<int:year>/rectification/",
        scorecard.scorecard_rectification_open,
        name="sla_scorecard_rectification_open",
    ),
    path(
        "<int:contract_pk>/scorecard/<int:year>/rectification/report/",
        scorecard.scorecard_rectification_report,
        name="sla_scorecard_rectification_report",
    ),
    path(
        "<int:contract_pk>/scorecard/<int:year>/rectification/decide/",
        scorecard.scorecard_rectification_decide,
        name="sla_scorecard_rectification_decide",
    ),
    path(
        "<int:contract_pk>/scorecard/<int:year>/rectification/<int:pk>/file/",
        scorecard.scorecard_rectification_file,
        name="sla_scorecard_rectification_file",
    ),
    path(
        "<int:contract_pk>/scorecard/<int:year>/rescore/",
        scorecard.scorecard_rescore,
        name="sla_scorecard_rescore",
    ),
    path(
        "<int:contract_pk>/scorecard/<int:year>/penalty/claim/",
        scorecard.scorecard_penalty_claim,
        name="sla_scorecard_penalty_claim",
    ),
    path(
        "<int:contract_pk>/scorecard/<int:year>/penalty/waive/",
        scorecard.scorecard_penalty_waive,
        name="sla_scorecard_penalty_waive",
    ),
    # outages
    path("<int:contract_pk>/outages/", outages.outage_list, name="sla_outage_list"),
    path("<int:contract_pk>/outages/new/", outages.outage_create, name="sla_outage_create"),
    path("outages/<int:pk>/", outages.outage_detail, name="sla_outage_detail"),
    path("outages/<int:pk>/edit/", outages.outage_edit, name="sla_outage_edit"),
    path("outages/<int:pk>/confirm/", outages.outage_confirm, name="sla_outage_confirm"),
    path("outages/<int:pk>/approve/", outages.outage_approve, name="sla_outage_approve"),
    # maintenance notice duty (contracts with a notice period, e.g. JZ-2026 五.5)
    path(
        "<int:contract_pk>/maintenance-notices/",
        shortfalls.shortfall_list,
        name="sla_shortfall_list",
    ),
    path(
        "maintenance-notices/<int:pk>/note/",
        shortfalls.shortfall_note,
        name="sla_shortfall_note",
    ),
    # incidents
    path("<int:contract_pk>/incidents/", incidents.incident_list, name="sla_incident_list"),
    path("<int:contract_pk>/incidents/new/", incidents.incident_create, name="sla_incident_create"),
    path("incidents/<int:pk>/", incidents.incident_detail, name="sla_incident_detail"),
    path("incidents/<int:pk>/evidence/", incidents.incident_evidence, name="sla_incident_evidence"),
    path("incidents/<int:pk>/assess/", incidents.incident_assess, name="sla_incident_assess"),
    # security mechanism checklist
    path("<int:contract_pk>/security/", security.security_list, name="sla_security_list"),
    path("security/<int:pk>/evidence/", security.security_evidence, name="sla_security_evidence"),
    path("security/<int:pk>/review/", security.security_review, name="sla_security_review"),
    path(
        "<int:contract_pk>/security/submit/", security.security_submit, name="sla_security_submit"
    ),
    path("<int:contract_pk>/security/waive/", security.security_waive, name="sla_security_waive"),
    # training
    path("<int:contract_pk>/training/", training.training_list, name="sla_training_list"),
    path(
        "<int:contract_pk>/training/plan/",
        training.training_plan_submit,
        name="sla_training_plan_submit",
    ),
    path(
        "<int:contract_pk>/training/sessions/new/",
        training.training_session_record,
        name="sla_training_session_record",
    ),
    path(
        "training/plans/<int:pk>/review/",
        training.training_plan_review,
        name="sla_training_plan_review",
    ),
    path(
        "training/sessions/<int:pk>/review/",
        training.training_session_review,
        name="sla_training_session_review",
    ),
    path(
        "training/plans/<int:pk>/file/", training.training_plan_file, name="sla_training_plan_file"
    ),
    path(
        "training/sessions/<int:pk>/file/",
        training.training_session_file,
        name="sla_training_session_file",
    ),
    # deliverables
    path(
        "<int:contract_pk>/deliverables/",
        deliverables.deliverable_list,
        name="sla_deliverable_list",
    ),
    path(
        "<int:contract_pk>/deliverables/new/",
        deliverables.deliverable_create,
        name="sla_deliverable_create",
    ),
    path("deliverables/<int:pk>/", deliverables.deliverable_detail, name="sla_deliverable_detail"),
    path(
        "deliverables/<int:pk>/submit/",
        deliverables.deliverable_submit,
        name="sla_deliverable_submit",
    ),
    path(
        "deliverables/<int:pk>/review/",
        deliverables.deliverable_review,
        name="sla_deliverable_review",
    ),
    path(
        "deliverables/submissions/<int:pk>/file/",
        deliverables.deliverable_file,
        name="sla_deliverable_file",
    ),
    # satisfaction surveys
    path("<int:contract_pk>/surveys/", surveys.survey_list, name="sla_survey_list"),
    path("<int:contract_pk>/surveys/new/", surveys.survey_create, name="sla_survey_create"),
    path("surveys/<int:pk>/", surveys.survey_detail, name="sla_survey_detail"),
    path("surveys/<int:pk>/respond/", surveys.survey_respond, name="sla_survey_respond"),
    path("surveys/<int:pk>/close/", surveys.survey_close, name="sla_survey_close"),
    # improvement notices
    path("<int:contract_pk>/notices/", notices.notice_list, name="sla_notice_list"),
    path("<int:contract_pk>/notices/new/", notices.notice_create, name="sla_notice_create"),
    path("notices/<int:pk>/", notices.notice_detail, name="sla_notice_detail"),
    path("notices/<int:pk>/file/", notices.notice_file, name="sla_notice_file"),
    path("notices/<int:pk>/fix/", notices.notice_fix, name="sla_notice_fix"),
    path("notices/<int:pk>/confirm/", notices.notice_confirm, name="sla_notice_confirm"),
    # penalties
    path("<int:contract_pk>/penalties/", penalties.penalty_list, name="sla_penalty_list"),
    path("<int:contract_pk>/penalties/new/", penalties.penalty_create, name="sla_penalty_create"),
    path("penalties/<int:pk>/", penalties.penalty_detail, name="sla_penalty_detail"),
    path(
        "penalties/<int:pk>/acknowledge/",
        penalties.penalty_acknowledge,
        name="sla_penalty_acknowledge",
    ),
    path("penalties/<int:pk>/withdraw/", penalties.penalty_withdraw, name="sla_penalty_withdraw"),
    # emergencies
    path("<int:contract_pk>/emergencies/", emergencies.emergency_list, name="sla_emergency_list"),
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
    path("rightsizing/<int:pk>/submit/", utilization.report_submit, name="sla_report_submit"),
    path(
        "rightsizing/<int:pk>/recompute/",
        utilization.report_recompute,
        name="sla_report_recompute",
    ),
    path(
        "rightsizing/<int:pk>/mark-wrong/",
        utilization.report_mark_wrong,
        name="sla_report_mark_wrong",
    ),
    path("rightsizing/<int:pk>/render/", utilization.report_render, name="sla_report_render"),
    path("advice/", utilization.advice_list, name="sla_advice_list"),
    path("advice/answer/", utilization.advice_bulk, name="sla_advice_bulk"),
    path("advice/<int:pk>/", utilization.advice_detail, name="sla_advice_detail"),
    path("advice/<int:pk>/accept/", utilization.advice_accept, name="sla_advice_accept"),
    path("advice/<int:pk>/decline/", utilization.advice_decline, name="sla_advice_decline"),
    # the exit: handover plan, staff with access, data return and deletion records
    path("<int:contract_pk>/exit/", exit.exit_overview, name="sla_exit"),
    path(
        "<int:contract_pk>/exit/handover-plan/",
        exit.handover_plan_create,
        name="sla_exit_handover_plan",
    ),
    path("<int:contract_pk>/exit/staff/", exit.staff_list, name="sla_exit_staff_list"),
    path("<int:contract_pk>/exit/staff/new/", exit.staff_create, name="sla_exit_staff_create"),
    path("<int:contract_pk>/exit/staff/submit/", exit.staff_submit, name="sla_exit_staff_submit"),
    path("exit/staff/<int:pk>/edit/", exit.staff_edit, name="sla_exit_staff_edit"),
    path("exit/staff/<int:pk>/end/", exit.staff_end, name="sla_exit_staff_end"),
    path("exit/staff/<int:pk>/undertaking/", exit.staff_file, name="sla_exit_staff_file"),
    path(
        "<int:contract_pk>/exit/records/new/",
        exit.record_create,
        name="sla_exit_record_create",
    ),
    path("exit/records/<int:pk>/", exit.record_detail, name="sla_exit_record_detail"),
    path("exit/records/<int:pk>/edit/", exit.record_edit, name="sla_exit_record_edit"),
    path("exit/records/<int:pk>/sign/", exit.record_sign, name="sla_exit_record_sign"),
    path("exit/records/<int:pk>/confirm/", exit.record_confirm, name="sla_exit_record_confirm"),
    path("exit/records/<int:pk>/object/", exit.record_object, name="sla_exit_record_object"),
    path(
        "exit/records/<int:pk>/certificate/",
        exit.record_certificate,
        name="sla_exit_record_certificate",
    ),
]

# The lists behind the home page's to-do counts: one fixed URL per to-do (no object in the
# path; each list is the user's own, scoped by its selector).
urlpatterns += [
    path(f"todo/{key}/", todos.todo_list, {"key": key}, name=f"sla_todo_{key}")
    for key in todos.TODOS
]
