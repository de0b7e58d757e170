"""Browser tests: real Chromium (Debian's) driven by Playwright against live_server,
with the provider simulator running in-process as a real HTTP server."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Page, sync_playwright

from gupshup_admin.models import PartnerApp
from gupshup_admin.simulator import Simulator, SimulatorConfig
from media_library import services as media_services
from media_library.models import MediaFile, MediaState, ProviderMedia
from tests.factories import SIM_MEDIA_ID

# Playwright's sync API runs an event loop in this thread; the ORM calls made by
# the tests themselves are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "e2e-password-1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test-deps`.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def simulator(settings: Any) -> Iterator[Simulator]:
    sim = Simulator(SimulatorConfig())
    sim.start(host="127.0.0.1", port=0)
    settings.GUPSHUP_API_BASE = sim.base_url
    settings.COMMBOX_API_BASE = sim.commbox_base_url
    yield sim
    sim.stop()


@pytest.fixture
def admin_user(transactional_db: None) -> User:
    return User.objects.create_superuser("admin", "admin@example.com", PASSWORD)


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page: Page, base_url: str, username: str = "admin") -> None:
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: a db_worker process must share the test database, "
    "and the SQLite test database is in this process's memory (`make test` and "
    "`scripts/with-postgres.sh` run it)",
)


def _database_url() -> str:
    db = connection.settings_dict
    user = quote(str(db.get("USER") or ""), safe="")
    password = quote(str(db.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else f"{user}@"
    return f"postgres://{auth}{db['HOST']}:{db['PORT']}/{quote(str(db['NAME']))}"


@pytest.fixture
def worker(
    live_server: Any, simulator: Simulator, settings: Any, tmp_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A real task worker (all queues) on the test database, as in production;
    killed when the test ends. PostgreSQL only: see `needs_postgresql`."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks_db.DatabaseBackend",
            "QUEUES": ["default", "sends", "media", "callbacks"],
        }
    }  # the settings signal resets django_tasks' cached backends
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gupshup_admin.settings",
        "DATABASE_URL": _database_url(),
        "SECRET_KEY": settings.SECRET_KEY,
        "SECRETS_ENCRYPTION_KEYS": ",".join(settings.SECRETS_ENCRYPTION_KEYS),
        "TASKS_BACKEND": "db",
        "GUPSHUP_API_BASE": simulator.base_url,
        "COMMBOX_API_BASE": simulator.commbox_base_url,
        "CAMPAIGN_SENDER_SLICE_SECONDS": "1",
        "PROVIDER_CONNECT_TIMEOUT": "2",
        "PROVIDER_READ_TIMEOUT": "2",
        "CAMPAIGN_STALE_SECONDS": "6",
        "DEBUG": "false",
        "PYTHONUNBUFFERED": "1",
    }
    log_path = tmp_path / "worker.log"
    command = [sys.executable, "manage.py", "db_worker", "--queue-name", "*",
               "--interval", "0.1", "--no-startup-delay", "--no-reload"]  # fmt: skip
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=Path(__file__).resolve().parents[2],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as one
        )
        try:
            yield proc
        finally:
            _stop(proc)
            print(log_path.read_text(errors="replace")[-4000:])  # shown on failure


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def banner(app: PartnerApp) -> MediaFile:
    """A real PNG in the library (pages show it), with a ready media id for `app`."""
    image = Image.new("RGB", (640, 360), (18, 140, 126))
    ImageDraw.Draw(image).text((60, 160), "SPRING SALE", fill=(255, 255, 255))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    buf.seek(0)
    media = media_services.media_file_create(fileobj=buf, name="spring-banner.png")
    now = timezone.now()
    ProviderMedia.objects.create(
        media_file=media.media_file,
        partner_app=app,
        state=MediaState.READY,
        media_id=SIM_MEDIA_ID,
        uploaded_at=now,
        expires_at=now + media_services.media_id_lifetime(),
    )
    return media.media_file
