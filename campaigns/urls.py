from __future__ import annotations

from django.urls import path

from campaigns.views import approval, campaigns, controls, reports

app_name = "campaigns"
urlpatterns = [
    path("", campaigns.campaign_list, name="list"),
    path("new/", campaigns.campaign_create, name="create"),
    path("<int:pk>/", campaigns.campaign_detail, name="detail"),
    path("<int:pk>/upload/", controls.recipients_upload, name="upload"),
    path("<int:pk>/paste/", controls.recipients_paste, name="paste"),
    path(
        "<int:pk>/imports/<int:import_pk>/rejected.csv",
        controls.rejected_csv,
        name="rejected_csv",
    ),
    path("<int:pk>/start/", controls.campaign_start, name="start"),
    path("<int:pk>/pause/", controls.campaign_pause, name="pause"),
    path("<int:pk>/resume/", controls.campaign_resume, name="resume"),
    path("<int:pk>/cancel/", controls.campaign_cancel, name="cancel"),
    path("<int:pk>/retry/", controls.campaign_retry, name="retry"),
    path("<int:pk>/approve/", approval.campaign_approve, name="approve"),
    path("<int:pk>/reject/", approval.campaign_reject, name="reject"),
    path("<int:pk>/progress.json", campaigns.progress_json, name="progress"),
    path(
        "<int:pk>/retry-preview.json",
        controls.retry_preview_json,
        name="retry_preview",
    ),
    path("<int:pk>/report/", reports.campaign_report, name="report"),
    path(
        "<int:pk>/recipients/<int:rid>/",
        reports.recipient_history,
        name="recipient",
    ),
    path("<int:pk>/recipients.csv", reports.recipients_csv, name="recipients_csv"),
]
