"""Production settings pass `manage.py check --deploy`; the demo's stay plain http.

Each case runs manage.py in a subprocess with a clean environment (ENV_FILE=""
so no developer's .env leaks in), as a deployment would start it.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet
from django.conf import settings

REPO = Path(settings.BASE_DIR)


def production_env(**overrides: str) -> dict[str, str]:
    """What a deployment must set; everything else keeps its default."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ENV_FILE": "",
        "DJANGO_SETTINGS_MODULE": "gupshup_admin.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SECRETS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "gupshup-admin.example.com",
        "SITE_URL": "https://gupshup-admin.example.com",
        "DATABASE_URL": "sqlite:////nonexistent-dir/never-opened.sqlite3",
        **overrides,
    }


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return manage("check", "--deploy", "--fail-level", "WARNING", env=env)


def env_example() -> dict[str, str]:
    values = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            name, value = line.split("=", 1)
            values[name] = value
    return values


def test_the_production_defaults_pass_check_deploy() -> None:
    result = check_deploy(production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_values_in_env_example_pass_check_deploy() -> None:
    example = env_example()
    required = production_env()
    env = {**example, **required, "DATABASE_URL": required["DATABASE_URL"]}

    result = check_deploy(env)

    assert result.returncode == 0, result.stdout + result.stderr


def test_turning_an_https_setting_off_fails_check_deploy() -> None:
    result = check_deploy(
        production_env(SECURE_SSL_REDIRECT="false", SESSION_COOKIE_SECURE="false")
    )

    assert result.returncode != 0
    assert "security.W008" in result.stderr
    assert "security.W012" in result.stderr


def test_the_demo_env_serves_plain_http_and_passes_the_ordinary_check(
    tmp_path: Path,
) -> None:
    demo = tmp_path / "demo.env"
    subprocess.run(
        [sys.executable, "scripts/write_env.py", str(demo)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    env = {"PATH": os.environ.get("PATH", ""), "ENV_FILE": str(demo)}
    env["DJANGO_SETTINGS_MODULE"] = "gupshup_admin.settings"
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    names = [
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
    ]
    show = "from django.conf import settings as s; print([getattr(s, n) for n in %r])"

    shown = manage("shell", "-c", show % names, env=env)
    checked = manage("check", env=env)

    last_line = shown.stdout.strip().splitlines()[-1]
    assert last_line == "[False, False, False, 0]", shown.stderr
    assert checked.returncode == 0, checked.stderr


def test_a_malformed_proxy_header_names_the_variable() -> None:
    result = check_deploy(production_env(SECURE_PROXY_SSL_HEADER="X Forwarded Proto"))

    assert result.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER='X Forwarded Proto' is not a header name" in (
        result.stderr
    )
