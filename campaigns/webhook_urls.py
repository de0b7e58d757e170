from __future__ import annotations

from django.urls import path

from campaigns import webhooks

app_name = "webhooks"
urlpatterns = [
    path("gupshup/<int:app_pk>/", webhooks.gupshup_callback, name="gupshup"),
    path(
        "gupshup/<int:app_pk>/<str:token>/",
        webhooks.gupshup_callback,
        name="gupshup-token",
    ),
]
