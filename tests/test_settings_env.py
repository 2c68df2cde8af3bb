from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from vigie.lib.env import envbool, envint, envlist


def test_envbool_is_strict(monkeypatch):
    monkeypatch.setenv("X_FLAG", "yes")
    assert envbool("X_FLAG", False) is True
    monkeypatch.setenv("X_FLAG", "0")
    assert envbool("X_FLAG", True) is False
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured):
        envbool("X_FLAG", False)


def test_envint_is_strict(monkeypatch):
    monkeypatch.setenv("X_PORT", "8080")
    assert envint("X_PORT", 1) == 8080
    monkeypatch.setenv("X_PORT", "eighty")
    with pytest.raises(ImproperlyConfigured):
        envint("X_PORT", 1)
    monkeypatch.setenv("X_PORT", "0")
    with pytest.raises(ImproperlyConfigured):
        envint("X_PORT", 1, minimum=1)


def test_envlist_splits_on_commas(monkeypatch):
    monkeypatch.setenv("X_HOSTS", "a.fr, b.fr,,")
    assert envlist("X_HOSTS", []) == ["a.fr", "b.fr"]
    monkeypatch.delenv("X_HOSTS")
    assert envlist("X_HOSTS", ["d"]) == ["d"]


def test_production_settings_require_a_secret_key(tmp_path):
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "DEBUG": "0", "VIGIE_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", "import vigie.settings"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off." in result.stderr


@pytest.mark.parametrize(
    ("redis_url", "cache", "sessions"),
    [
        ("", "DatabaseCache", "backends.cached_db"),
        ("redis://127.0.0.1:6379/9", "RedisCache", "backends.cached_db"),
    ],
)
def test_sessions_are_cached_in_a_cache_every_process_shares(tmp_path, redis_url, cache, sessions):
    """A per-process cache would keep a signed-out session alive in the other processes:
    sessions go through the `default` cache, a table or Redis, which every process shares."""
    import subprocess
    import sys

    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "1",
        "VIGIE_VAR_DIR": str(tmp_path),
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "REDIS_URL": redis_url,
    }
    code = (
        "import vigie.settings as s; "
        "print(s.CACHES['default']['BACKEND'], s.SESSION_ENGINE, s.CACHES['lookups']['BACKEND'])"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    default, engine, lookups = result.stdout.split()
    assert default.endswith(cache) and engine.endswith(sessions)
    assert lookups.endswith("LocMemCache")
