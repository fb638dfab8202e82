"""Dependency direction (DESIGN.md section 2) and no work at import time."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import ROOT

FORBIDDEN = {
    "bot": {"flask", "werkzeug", "rasa", "rasa_sdk", "webhook", "actions", "twilio.request_validator",
            "twilio.twiml"},
    "actions": {"flask", "webhook", "rasa"},
    "webhook": {"actions", "rasa", "rasa_sdk"},
    "nlu_components": {"flask", "werkzeug", "webhook", "actions", "rasa_sdk", "bot"},
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_import_only_in_the_allowed_direction(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        for name in _imports(path):
            for forbidden in FORBIDDEN[package]:
                assert not (name == forbidden or name.startswith(forbidden + ".")), \
                    f"{path.relative_to(ROOT)} imports {name}"


def test_importing_every_module_connects_to_nothing() -> None:
    """With every service address pointing nowhere, importing all our code still works."""
    modules = [".".join(p.relative_to(ROOT).with_suffix("").parts)
               for pkg in ("bot", "actions", "webhook", "nlu_components") for p in (ROOT / pkg).rglob("*.py")]
    code = "import importlib\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "REDIS_URL": "redis://127.0.0.1:1/0",
           "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "RASA_URL": "http://127.0.0.1:1"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
