"""Media tasks: thin interfaces that take ids and call one service."""

from __future__ import annotations

from django_tasks import task

from media_library import services


@task(queue_name="media")
def mirror_media(provider_media_id: int, user_id: int | None = None) -> None:
    services.provider_media_mirror(provider_media_id=provider_media_id, user_id=user_id)


@task(queue_name="media")
def refresh_expiring_media() -> str:
    return str(services.media_refresh_expiring())
