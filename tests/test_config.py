"""Settings: environment variables, validation at startup, and the table in docs/configuration.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector import config
from collector import create_app

CONFIGURATION = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"


def test_environment_variables_are_read_and_typed(monkeypatch, tmp_path):
    monkeypatch.setenv("COLLECTOR_DATABASE_URL", f"sqlite:///{tmp_path}/x.sqlite3")
    monkeypatch.setenv("COLLECTOR_MAX_BATCH_EVENTS", "42")
    monkeypatch.setenv("COLLECTOR_IP_STORAGE", "full")
    app = create_app()
    assert app.config["MAX_BATCH_EVENTS"] == 42
    assert app.config["IP_STORAGE"] == "full"


@pytest.mark.parametrize(("name", "value", "message"), [
    ("MAX_BATCH_EVENTS", "many", "must be an integer"),
    ("IP_STORAGE", "partial", "IP_STORAGE must be one of"),
    ("SQLITE_SYNCHRONOUS", "SOMETIMES", "SQLITE_SYNCHRONOUS must be one of"),
    ("DATABASE_URL", "mysql://x", "DATABASE_URL must start with sqlite:/// or postgresql://"),
    ("IPV4_PREFIX", "40", "IPV4_PREFIX must be 0-32"),
])
def test_bad_settings_fail_at_startup(monkeypatch, name, value, message):
    monkeypatch.setenv(f"COLLECTOR_{name}", value)
    with pytest.raises(config.ConfigError, match=message):
        create_app()


def test_docs_document_every_setting_with_its_default():
    text = CONFIGURATION.read_text()
    for name, (default, _) in config.SETTINGS.items():
        row = next((line for line in text.splitlines() if line.startswith(f"| `COLLECTOR_{name}`")), None)
        assert row is not None, f"docs/configuration.md has no row for COLLECTOR_{name}"
        shown = f"`{default}`" if default != "" else "(empty)"
        assert shown in row, f"docs/configuration.md's row for {name} does not show the default {default!r}"
