"""`manage.py media_import`: files and folders into the media library."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image

from gupshup_admin.models import PartnerApp
from media_library import services
from media_library.management.commands.media_import import progress_bar
from media_library.models import MediaFile, ProviderMedia


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media-root"
    return tmp_path


def image(path: Path, colour: str, fmt: str = "PNG") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 30), colour).save(path, fmt)
    return path


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("media_import", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "incoming"
    image(folder / "a-red.png", "red")
    image(folder / "nested" / "b-blue.png", "blue")
    shutil.copy(folder / "a-red.png", folder / "c-copy.png")
    image(folder / "d-anim.gif", "green", "GIF")
    image(folder / ".hidden.png", "yellow")
    return folder


def test_a_folder_is_imported_with_duplicates_and_rejections_reported(
    db: None, folder: Path
) -> None:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("media_import", str(folder), stdout=out, stderr=err)

    assert raised.value.returncode == 1
    lines = out.getvalue().splitlines()
    assert lines[0] == f"{folder / 'a-red.png'}: added"
    assert lines[1] == f"{folder / 'c-copy.png'}: already in library (as a-red.png)"
    assert lines[2].startswith(f"{folder / 'd-anim.gif'}: rejected: ")
    assert "GIF" in lines[2]
    assert lines[3] == f"{folder / 'nested' / 'b-blue.png'}: added"
    assert lines[-1] == "2 added, 1 duplicates, 1 rejected"
    assert "[4/4]" in err.getvalue()
    assert sorted(MediaFile.objects.values_list("original_name", flat=True)) == [
        "a-red.png",
        "b-blue.png",
    ]


def test_a_missing_path_is_named_and_nothing_is_imported(
    db: None, tmp_path: Path
) -> None:
    good = image(tmp_path / "good.png", "red")
    missing = tmp_path / "nope.png"

    with pytest.raises(CommandError, match=f"No such file or folder: {missing}"):
        run(str(good), str(missing))

    assert not MediaFile.objects.exists()


def test_a_single_file_is_imported_for_the_named_user(db: None, tmp_path: Path) -> None:
    bob = User.objects.create_user("bob")
    path = image(tmp_path / "solo.png", "purple")

    out, _ = run(str(path), "--user", "bob")

    assert out.splitlines() == [f"{path}: added", "1 added, 0 duplicates, 0 rejected"]
    media = MediaFile.objects.get()
    assert (media.original_name, media.uploaded_by) == ("solo.png", bob)


def test_an_unknown_user_is_refused(db: None, tmp_path: Path) -> None:
    path = image(tmp_path / "solo.png", "purple")

    with pytest.raises(CommandError, match="No such user: ghost"):
        run(str(path), "--user", "ghost")


def test_mirror_to_all_queues_each_added_file_for_every_active_app(
    db: None, tmp_path: Path, partner_app: PartnerApp, monkeypatch: Any
) -> None:
    queued: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        services, "enqueue_on_commit", lambda task, *args: queued.append(args)
    )
    PartnerApp.objects.create(name="Off", app_id="off-app", is_active=False)
    path = image(tmp_path / "solo.png", "purple")

    out, _ = run(str(path), "--mirror-to-all")

    row = ProviderMedia.objects.get()
    assert (row.media_file.original_name, row.partner_app) == ("solo.png", partner_app)
    assert queued == [(row.pk, None)]
    assert "Queued 1 file(s) for mirroring to 1 target(s)." in out


def test_the_progress_bar_fills_in_proportion() -> None:
    assert progress_bar(37, 100) == f"\r[{'#' * 11}{'.' * 19}] 37/100"
    assert progress_bar(4, 4) == f"\r[{'#' * 30}] 4/4"
