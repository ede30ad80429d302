# Copyright (c) securelab.gpu_notebook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One nftables table kept as declared: the script nft_table writes and loads, and how its drift is judged.

The module securelab.gpu_notebook.nft_table applies (writes the script, loads it, records the kernel's listing);
the filter resources_drift (kind nft_table) judges the same things from a host_state read, so the site playbook's
no-op run needs no remote task for the firewall. Both use the script, the listing command and the reasons below.
"""

from __future__ import annotations

HEADER = ("#!/usr/sbin/nft -f\n"
          "# Managed by Ansible (securelab.gpu_notebook.nft_table): edits are reverted by the next run.\n"
          "# Replaces table {family} {name} only, in one transaction; every other table stays as it is.\n"
          "table {family} {name}\n"
          "delete table {family} {name}\n")

# The file and the record are root's, mode 0600 (the boot unit loads the file as root).
OWNED = {"type": "file", "owner": "root", "group": "root", "mode": "0600"}


def script(family: str, name: str, content: str) -> str:
    """The nft -f script that replaces table ``family name`` with ``content`` and touches no other table."""
    return HEADER.format(family=family, name=name) + content.rstrip("\n") + "\n"


def listing_argv(family: str, name: str, nft: str = "nft") -> list[str]:
    """The kernel's listing of the table, without counters (what the record holds)."""
    return [nft, "-s", "list", "table", family, name]


def reasons(family: str, name: str, path: str, state_path: str, *, file_missing: bool, file_differs: bool,
            file_owned: bool, record_missing: bool, record_owned: bool, live_missing: bool,
            live_differs: bool) -> list[str]:
    """Why the table must be loaded again (empty: the file and the kernel are as loaded last)."""
    found = []
    if file_missing:
        found.append(f"{path} is missing")
    elif file_differs:
        found.append(f"{path} differs")
    for where, missing, owned in ((path, file_missing, file_owned), (state_path, record_missing, record_owned)):
        if not missing and not owned:
            found.append(f"{where} is not root-owned with mode 0600")
    if live_missing:
        found.append(f"table {family} {name} is missing from the kernel")
    elif record_missing:
        found.append(f"no record of the last load ({state_path})")
    elif live_differs:
        found.append(f"table {family} {name} in the kernel differs from what was loaded (edited by hand?)")
    return found
