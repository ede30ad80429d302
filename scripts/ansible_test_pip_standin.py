"""Cache a stand-in for the pip bootstrap script that ``ansible-test --venv`` downloads.

ansible-test fetches ``get-pip-<ver>.py`` from a host that this build machine cannot reach,
unless ``~/.ansible/test/cache/get_pip_<ver>.py`` exists. The stand-in written here does the same
job with what Python ships: ``ensurepip``, then ``pip install`` of the requested packages from
PyPI, passing the system CA bundle explicitly (ansible-test drops PIP_CERT from the environment).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

STANDIN = '''\
"""Stand-in for get-pip.py written by securelab scripts/ansible_test_pip_standin.py."""
import os
import subprocess
import sys

CA = "/etc/ssl/certs/ca-certificates.crt"
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"],
                      stdout=subprocess.DEVNULL)
cert = ["--cert", CA] if os.path.exists(CA) else []
subprocess.check_call([sys.executable, "-m", "pip", "install", *cert, *args])
'''


def pip_version() -> str:
    import ansible_test  # imported late: from the venv running this script

    source = Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
    match = re.search(r"pip='([0-9.]+)'", source.read_text())
    if not match:
        raise SystemExit(f"cannot find ansible-test's pip version in {source}")
    return match.group(1)


def main() -> None:
    version = pip_version()
    cache = Path(os.path.expanduser("~/.ansible/test/cache"))
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"get_pip_{version.replace('.', '_')}.py"
    if not target.exists() or target.read_text() != STANDIN:
        target.write_text(STANDIN)
    print(f"pip bootstrap stand-in: {target}")


if __name__ == "__main__":
    main()
