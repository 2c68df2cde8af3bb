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
