"""TEST ONLY (site scenario, tasks/undeclared.yml): what a converge changed on this host that no role declares.

Reads a JSON object (its one argument): {"declared": [paths, "~user/..." allowed], "allowed": [regexes of by-products],
"roots": [directories to scan]}. Prints a JSON list of the paths that are
  - files or links newer than /etc/hostname (Docker writes it when the container is created, before any converge)
    and owned by no Debian package, or
  - files of a package whose content differs from the package's (dpkg --verify),
and neither declared by a role's read nor a by-product in "allowed". Run as root; it only reads (lstat, no open
through a link).
"""

import json
import os
import re
import subprocess
import sys


def dpkg_paths() -> set:
    owned = set()
    info = "/var/lib/dpkg/info"
    for name in os.listdir(info):
        if name.endswith(".list"):
            with open(os.path.join(info, name), encoding="utf-8", errors="replace") as handle:
                owned.update(line.rstrip("\n") for line in handle)
    return owned


def modified_package_files() -> set:
    out = subprocess.run(["dpkg", "--verify"], capture_output=True, text=True, check=False).stdout
    return {line.split()[-1] for line in out.splitlines() if line[2:3] == "5"}


def main() -> None:
    spec = json.loads(sys.argv[1])
    declared = {os.path.expanduser(p) for p in spec["declared"]}
    allowed = [re.compile(r) for r in spec["allowed"]]
    since = os.lstat("/etc/hostname").st_mtime
    owned = dpkg_paths()
    found = set(modified_package_files())
    for root in spec["roots"]:
        for top, dirs, files in os.walk(root):
            for name in files + [d for d in dirs if os.path.islink(os.path.join(top, d))]:
                path = os.path.join(top, name)
                if os.lstat(path).st_mtime > since and path not in owned:
                    found.add(path)
    print(json.dumps(sorted(p for p in found if p not in declared and not any(r.search(p) for r in allowed))))


main()
