from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from campaigns.views.start import start_page

admin.site.site_header = "Gupshup Admin"
admin.site.site_title = "Gupshup Admin"
admin.site.index_title = "WhatsApp image marketing"
handler403 = "gupshup_admin.access.permission_denied_page"

urlpatterns = [
    path("", start_page, name="start"),
    path("admin/", admin.site.urls),
    path("media-library/", include("media_library.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("webhooks/", include("campaigns.webhook_urls")),
]
