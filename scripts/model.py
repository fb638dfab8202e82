"""Train the models only when their inputs changed: `python scripts/model.py`.

The Rasa model's fingerprint covers config.yml, domain.yml, everything under data/, our custom NLU
components (nlu_components/) and the Rasa version. The model is models/assistant.tar.gz; the fingerprint sits beside it.
The safety screen's learned signal (bot/safety_signal.py) and the report kinds (bot/reports/kinds.py)
take seconds to train: models/safety.pkl and models/report_kinds.pkl, retrained when their data changed.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "assistant.tar.gz"
FINGERPRINT = ROOT / "models" / "assistant.fingerprint"


def fingerprint() -> str:
    digest = hashlib.sha256(f"rasa {version('rasa')}\n".encode())
    inputs = [ROOT / "config.yml", ROOT / "domain.yml", *sorted((ROOT / "data").rglob("*.yml")),
              *sorted((ROOT / "nlu_components").rglob("*.py"))]
    for path in inputs:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def classifiers() -> None:
    """The safety signal and the report kinds: seconds each, retrained only when data changed."""
    sys.path.insert(0, str(ROOT))
    from bot.reports.kinds import process_kinds
    from bot.safety_signal import process_signal
    from bot.settings import Settings

    settings = Settings.from_env()
    started = time.monotonic()
    process_signal(ROOT / "data", settings.safety_model)
    process_kinds(ROOT / "data", settings.report_kinds_model)
    print(f"safety signal and report kinds ready ({time.monotonic() - started:.1f} s)")


def main() -> int:
    classifiers()
    wanted = fingerprint()
    if MODEL.exists() and FINGERPRINT.exists() and FINGERPRINT.read_text().strip() == wanted:
        print(f"model is up to date ({MODEL.relative_to(ROOT)})")
        return 0
    print("training data or config changed: training the model (a few minutes)...", flush=True)
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    rasa = str(Path(sys.executable).parent / "rasa")
    result = subprocess.run(
        [rasa, "train", "--config", "config.yml", "--domain", "domain.yml", "--data", "data",
         "--out", "models", "--fixed-model-name", "assistant"],
        cwd=ROOT, env=env,
    )
    if result.returncode != 0:
        return result.returncode
    FINGERPRINT.write_text(wanted + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
