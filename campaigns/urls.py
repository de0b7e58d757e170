from __future__ import annotations

from django.urls import path

from campaigns import approval_views, control_views, report_views, views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_create, name="create"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/upload/", control_views.recipients_upload, name="upload"),
    path("<int:pk>/paste/", control_views.recipients_paste, name="paste"),
    path(
        "<int:pk>/imports/<int:import_pk>/rejected.csv",
        control_views.rejected_csv,
        name="rejected_csv",
    ),
    path("<int:pk>/start/", control_views.campaign_start, name="start"),
    path("<int:pk>/pause/", control_views.campaign_pause, name="pause"),
    path("<int:pk>/resume/", control_views.campaign_resume, name="resume"),
    path("<int:pk>/cancel/", control_views.campaign_cancel, name="cancel"),
    path("<int:pk>/retry/", control_views.campaign_retry, name="retry"),
    path("<int:pk>/approve/", approval_views.campaign_approve, name="approve"),
    path("<int:pk>/reject/", approval_views.campaign_reject, name="reject"),
    path("<int:pk>/progress.json", views.progress_json, name="progress"),
    path(
        "<int:pk>/retry-preview.json",
        control_views.retry_preview_json,
        name="retry_preview",
    ),
    path("<int:pk>/report/", report_views.campaign_report, name="report"),
    path(
        "<int:pk>/recipients/<int:rid>/",
        report_views.recipient_history,
        name="recipient",
    ),
    path("<int:pk>/recipients.csv", report_views.recipients_csv, name="recipients_csv"),
]
