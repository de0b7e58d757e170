from __future__ import annotations

from django.urls import path

from campaigns.views import callbacks

app_name = "webhooks"
urlpatterns = [
    path("gupshup/<int:app_pk>/", callbacks.gupshup_callback, name="gupshup"),
    path(
        "gupshup/<int:app_pk>/<str:token>/",
        callbacks.gupshup_callback,
        name="gupshup-token",
    ),
]
