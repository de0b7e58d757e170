"""Media tasks: thin interfaces that take ids and call one service.

The services import this module to enqueue; each task imports its service in
its body (HackSoft's styleguide pattern), so nothing imports back at load time.
"""

from __future__ import annotations

from django_tasks import task


@task(queue_name="media")
def mirror_media(provider_media_id: int, user_id: int | None = None) -> None:
    from media_library import services

    services.provider_media_mirror(provider_media_id=provider_media_id, user_id=user_id)
