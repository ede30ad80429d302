"""Run every molecule scenario (molecule/<name>/molecule.yml) as one pytest test.

Each scenario runs its full sequence (create, check, converge, idempotence, verify, destroy)
against real systemd containers. The log of each run goes to tests/output/molecule/<name>.log;
a failure shows its tail. Select with ``-k <scenario>``; set SECURELAB_MOLECULE_KEEP=1 to
keep the containers of a failed run for debugging (``molecule login -s <name>``).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(
    p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml") if p.parent.name != "shared"
)
LOGDIR = ROOT / "tests" / "output" / "molecule"


@pytest.mark.molecule
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(scenario: str) -> None:
    LOGDIR.mkdir(parents=True, exist_ok=True)
    log = LOGDIR / f"{scenario}.log"
    cmd = ["molecule", "test", "-s", scenario]
    if os.environ.get("SECURELAB_MOLECULE_KEEP"):
        cmd += ["--destroy", "never"]
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=False)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-80:])
        pytest.fail(f"molecule test -s {scenario} exited {proc.returncode} after {elapsed:.0f}s; "
                    f"full log: {log}\n{tail}", pytrace=False)
