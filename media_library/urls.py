from __future__ import annotations

from django.urls import path

from media_library import views

app_name = "media_library"
urlpatterns = [
    path("", views.library, name="library"),
    path("upload/", views.upload, name="upload"),
    path("<int:pk>/mirror/", views.mirror, name="mirror"),
    path("<int:pk>/retry/", views.retry, name="retry"),
    path("<int:pk>/thumbnail/", views.thumbnail, name="thumbnail"),
]
