"""Train the Rasa model only when its inputs changed: `python scripts/model.py`.

The fingerprint covers config.yml, domain.yml, everything under data/, our custom NLU
components (nlu_components/) and the Rasa version. The model is models/assistant.tar.gz; the fingerprint sits beside it.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
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


def main() -> int:
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
