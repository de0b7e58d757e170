"""Import files or folders into the media library, one upload per file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from gupshup_admin.models import CommBoxChannel
from media_library import selectors, services
from media_library.models import MediaFile
from media_library.upload_rules import MediaRejected

BAR_WIDTH = 30


@dataclass
class Tally:
    added: int = 0
    duplicates: int = 0
    rejected: int = 0
    new_files: list[MediaFile] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.added} added, {self.duplicates} duplicates, "
            f"{self.rejected} rejected"
        )


def collect_files(paths: list[str]) -> list[Path]:
    """Every file named, and every non-hidden file under each folder (sorted).

    Raises CommandError naming the first path that does not exist.
    """
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise CommandError(f"No such file or folder: {missing[0]}")
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        files.extend(_walk(path) if path.is_dir() else [path])
    return files


def _walk(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        hidden = any(part.startswith(".") for part in path.relative_to(folder).parts)
        if path.is_file() and not hidden:
            yield path


class Command(BaseCommand):
    help = (
        "Import files (or every non-hidden file under folders) into the media "
        "library. Exits with 1 when any file was rejected."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--user", default="", help="Record this uploader.")
        parser.add_argument(
            "--mirror-to-all",
            action="store_true",
            help="Queue each added file for every active app and CommBox channel.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user_id = _user_id(options["user"])
        files = collect_files(options["paths"])
        tally = Tally()
        for done, path in enumerate(files, start=1):
            line = self._import_one(path, user_id, tally)
            self._report(line, done, len(files))
        if self.stderr.isatty() and files:
            self.stderr.write("", style_func=str)
        if options["mirror_to_all"]:
            self._mirror(tally.new_files, user_id)
        self.stdout.write(str(tally))
        if tally.rejected:
            raise CommandError(f"{tally.rejected} file(s) rejected", returncode=1)

    def _import_one(self, path: Path, user_id: int | None, tally: Tally) -> str:
        try:
            with path.open("rb") as fh:
                result = services.media_file_create(
                    fileobj=fh, name=path.name, user_id=user_id
                )
        except MediaRejected as exc:
            tally.rejected += 1
            return f"{path}: rejected: {exc.message}"
        if result.created:
            tally.added += 1
            tally.new_files.append(result.media_file)
            return f"{path}: added"
        tally.duplicates += 1
        return f"{path}: already in library (as {result.media_file})"

    def _report(self, line: str, done: int, total: int) -> None:
        if not self.stderr.isatty():
            self.stdout.write(line)
            self.stderr.write(f"[{done}/{total}] {line}", style_func=str)
            return
        # Clear the bar, print the line, redraw the bar below it.
        # style_func=str: progress is not an error, so not painted red.
        self.stderr.write("\r\x1b[K", style_func=str, ending="")
        self.stderr.flush()
        self.stdout.write(line)
        self.stdout.flush()
        self.stderr.write(progress_bar(done, total), style_func=str, ending="")
        self.stderr.flush()

    def _mirror(self, new_files: list[MediaFile], user_id: int | None) -> None:
        apps = selectors.mirror_target_apps()  # CAPI apps: the others cannot
        channels = list(CommBoxChannel.objects.filter(is_active=True))
        for media_file in new_files:
            services.media_mirror_request(
                media_file=media_file, apps=apps, channels=channels, user_id=user_id
            )
        targets = len(apps) + len(channels)
        self.stdout.write(
            f"Queued {len(new_files)} file(s) for mirroring to {targets} target(s)."
        )


def progress_bar(done: int, total: int) -> str:
    filled = BAR_WIDTH * done // total if total else BAR_WIDTH
    return f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}"


def _user_id(username: str) -> int | None:
    """The id of USERNAME; raises CommandError when there is no such user."""
    if not username:
        return None
    user = User.objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No such user: {username}")
    return user.pk
