from __future__ import annotations

import warnings

from django.apps import AppConfig
from django.conf import settings
from PIL import Image


class MediaLibraryConfig(AppConfig):
    name = "media_library"
    verbose_name = "Media library"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Every other code path that opens an image refuses the same pixel count
        # as uploads do: Pillow warns above MAX_IMAGE_PIXELS (made an error here)
        # and refuses above twice that, from the header, before decoding.
        Image.MAX_IMAGE_PIXELS = settings.MEDIA_MAX_IMAGE_PIXELS
        warnings.simplefilter("error", Image.DecompressionBombWarning)
