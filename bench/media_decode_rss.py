"""Peak-RSS growth of checking the worst image uploads the limits accept, and of
refusing the 9,400 x 9,400 WebP bomb, beside a naive Pillow decode of the same.

The worst accepted uploads: a WebP of MEDIA_MAX_CONVERT_PIXELS (4,096 x 4,096,
with transparency, so it is flattened) converted to JPEG, and a PNG (RGBA) and a
JPEG (baseline and progressive) of MEDIA_MAX_IMAGE_PIXELS, each through the real
``check_upload``; the naive way is ``Image.open(f).load()`` plus a convert to RGB
(and, for WebP, the JPEG encode), with Pillow's default limit. Prints one JSON
object. Every measurement runs in a fresh child process (this script with
--child MODE KIND PATH), which reads ``ru_maxrss`` before and after the call, so
one cannot inflate another's peak; the files are made in a child too, because a
child starts with the high-water mark of the process it was forked from.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _django_env import REPO, django_setup

TARGET_MAX_GROWTH_MB = 300
BOMB = REPO / "tests" / "media_library" / "data" / "bomb-9400x9400.webp"
# kind → (file name, Pillow format, mode, save options); sizes come from settings.
KINDS: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "webp": ("limit.webp", "WEBP", "RGBA", {"lossless": True}),
    "png": ("limit.png", "PNG", "RGBA", {}),
    "jpeg": ("limit.jpg", "JPEG", "RGB", {"quality": 90}),
    "jpeg_progressive": (
        "limit-progressive.jpg",
        "JPEG",
        "RGB",
        {"quality": 90, "progressive": True},
    ),
}


def peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux


def limits() -> tuple[int, int]:
    """(image pixel limit, WebP conversion pixel limit) from the settings."""
    from django.conf import settings

    return settings.MEDIA_MAX_IMAGE_PIXELS, settings.MEDIA_MAX_CONVERT_PIXELS


def dimensions(pixels: int) -> tuple[int, int]:
    """The widest 4:3-ish width x height with at most `pixels` pixels."""
    height = int((pixels * 3 / 4) ** 0.5)
    return pixels // height, height


def child_make(workdir: Path) -> dict[str, Any]:
    django_setup(workdir, migrate=False)
    from PIL import Image

    image_limit, convert_limit = limits()
    made = {}
    for kind, (name, fmt, mode, options) in KINDS.items():
        size = dimensions(convert_limit if kind == "webp" else image_limit)
        # A vertical gradient, half transparent: a real alpha channel to flatten,
        # and small files (each must fit the 5 MB image limit to be decoded).
        alpha = Image.linear_gradient("L").resize(size)
        image = Image.merge(mode, [alpha] * len(mode))
        if mode == "RGBA":
            image.putalpha(128)
        image.save(workdir / name, fmt, **options)
        made[kind] = {"size": size, "kb": round((workdir / name).stat().st_size / 1024)}
    shutil.copy(BOMB, workdir / BOMB.name)
    return {"made": made, "image_limit": image_limit, "convert_limit": convert_limit}


def child_checked(workdir: Path, path: Path) -> dict[str, Any]:
    """check_upload on `path`: growth, seconds and what it answered."""
    django_setup(workdir, migrate=False)
    from PIL import Image

    from media_library.upload_rules import MediaRejected
    from media_library.validation import check_upload

    for fmt in ("PNG", "JPEG", "WEBP"):  # warm up the plugins and the code
        warm = workdir / f"warm.{fmt.lower()}"
        Image.new("RGB", (8, 8)).save(warm, fmt)
        with warm.open("rb") as fh:
            check_upload(fh, name=warm.name)[1].close()
    before, started = peak_rss_kb(), time.perf_counter()
    try:
        with path.open("rb") as fh:
            media, stream = check_upload(fh, name=path.name)
            stream.close()
        outcome = f"accepted as {media.content_type} {media.width}x{media.height}"
    except MediaRejected as exc:
        outcome = f"refused ({exc.code})"
    seconds = time.perf_counter() - started
    return {"growth_kb": peak_rss_kb() - before, "seconds": seconds, "outcome": outcome}


def child_naive(path: Path) -> dict[str, Any]:
    """Image.open(f).load() + convert (+ the JPEG encode of a WebP), as a
    process that never heard of these limits would (Pillow's default limit)."""
    import io

    from PIL import Image

    Image.new("RGB", (8, 8)).convert("RGB")  # warm up
    before, started = peak_rss_kb(), time.perf_counter()
    with path.open("rb") as fh:
        image = Image.open(fh)
        image.load()
        rgb = image.convert("RGB")
        if image.format == "WEBP":
            rgb.save(io.BytesIO(), "JPEG", quality=90)
    seconds = time.perf_counter() - started
    return {"growth_kb": peak_rss_kb() - before, "seconds": seconds, "outcome": "ok"}


def run_child(*args: str) -> dict[str, Any]:
    child = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=os.environ.copy(),
    )
    if child.returncode:
        raise RuntimeError(f"{args[0]} {args[-1]} failed:\n{child.stderr}")
    result: dict[str, Any] = json.loads(child.stdout)
    return result


def mb(result: dict[str, Any]) -> float:
    return round(float(result["growth_kb"]) / 1024, 1)


def main() -> None:
    sys.path.insert(0, str(REPO))
    if sys.argv[1:2] == ["--child"]:
        mode, folder = sys.argv[2:4]
        workdir = Path(folder)
        if mode == "make":
            result = child_make(workdir)
        elif mode == "checked":
            result = child_checked(workdir, workdir / sys.argv[4])
        else:
            result = child_naive(workdir / sys.argv[4])
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory(prefix="bench-decode-") as tmp:
        made = run_child("make", tmp)
        report: dict[str, Any] = {
            "image_pixel_limit": made["image_limit"],
            "convert_pixel_limit": made["convert_limit"],
        }
        accepted_ok = True
        for kind, (name, *_) in KINDS.items():
            checked = run_child("checked", tmp, name)
            naive = run_child("naive", tmp, name)
            width, height = made["made"][kind]["size"]
            report[f"{kind}_pixels"] = f"{width}x{height}"
            report[f"{kind}_file_kb"] = made["made"][kind]["kb"]
            report[f"{kind}_outcome"] = checked["outcome"]
            report[f"{kind}_rss_growth_mb"] = mb(checked)
            report[f"{kind}_seconds"] = round(checked["seconds"], 2)
            report[f"{kind}_naive_rss_growth_mb"] = mb(naive)
            accepted_ok &= checked["outcome"].startswith("accepted")
            accepted_ok &= mb(checked) <= TARGET_MAX_GROWTH_MB
        bomb = run_child("checked", tmp, BOMB.name)
        naive_bomb = run_child("naive", tmp, BOMB.name)
    report |= {
        "bomb_pixels": "9400x9400",
        "bomb_file_kb": round(BOMB.stat().st_size / 1024, 1),
        "bomb_outcome": bomb["outcome"],
        "bomb_refuse_seconds": round(bomb["seconds"], 4),
        "bomb_rss_growth_mb": mb(bomb),
        "bomb_naive_rss_growth_mb": mb(naive_bomb),
        "bomb_naive_seconds": round(naive_bomb["seconds"], 2),
        "target_max_growth_mb": TARGET_MAX_GROWTH_MB,
    }
    report["ok"] = accepted_ok and bomb["outcome"] == "refused (too_large)"
    print(json.dumps(report))


if __name__ == "__main__":
    main()
