#!/usr/bin/env python3
"""Fleet benchmark: the site playbook on N lab hosts, against a floor playbook.

For each N in --hosts (default 1,4,8) it starts N Debian 12 systemd containers (docker connection,
no SSH, no registry), then measures in one run:
  converge  the site playbook's first run,
  rerun     its no-op re-run (asserts changed=0 on every host),
  floor     fact gathering + ping on the same hosts,
and prints a table (wall seconds, rerun/floor ratio) plus the tasks that cost the most in the
re-run. The hosts are removed afterwards unless --keep.

    .venv/bin/python benchmarks/fleet.py                 # 1, 4, 8 hosts
    .venv/bin/python benchmarks/fleet.py --hosts 8 --top 15
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PREFIX = "securelab-bench-"
IMAGE = "securelab/debian-systemd:12"
# The dind cap set of molecule/shared/create.yml: dockerd runs inside, chrony cannot step our clock.
DIND = ["--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE", "--cap-drop", "SYS_TIME",
        "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined"]


def sh(*cmd: str, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def start_hosts(n: int) -> list[str]:
    names = [f"{PREFIX}{i:02d}" for i in range(n)]
    for name in names:
        sh("docker", "rm", "-f", name)
        sh("docker", "run", "-d", "--name", name, "--hostname", name, *DIND, "--cgroupns=host",
           "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock",
           "--tmpfs", "/tmp:exec", "--label", "securelab.test=bench", IMAGE, "/sbin/init")
    for name in names:
        subprocess.run(["docker", "exec", name, "systemctl", "is-system-running", "--wait"],
                       capture_output=True, check=False)
    return names


def remove_hosts(names: list[str]) -> None:
    if names:
        subprocess.run(["docker", "rm", "-f", *names], capture_output=True, check=False)


def load_images(names: list[str], images: list[str]) -> None:
    """Stream local images into each host's nested engine after its first converge."""
    for image in images:
        for name in names:
            save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
            subprocess.run(["docker", "exec", "-i", name, "docker", "load"], stdin=save.stdout,
                           capture_output=True, check=True)
            save.wait()


def run_playbook(playbook: Path, inventory: Path, extra: list[str]) -> tuple[float, dict]:
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_FORKS="10", ANSIBLE_PIPELINING="1",
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"),
               ANSIBLE_ROLES_PATH=str(ROOT / "roles"))
    started = time.monotonic()
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), str(playbook), *extra],
                          env=env, text=True, capture_output=True, check=False)
    elapsed = time.monotonic() - started
    try:
        result = json.loads(proc.stdout[proc.stdout.index("{"):])
    except ValueError:
        result = {}
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-2000:])
        raise SystemExit(f"{playbook.name} failed (rc={proc.returncode})")
    return elapsed, result


def task_costs(result: dict) -> dict[str, float]:
    """Wall time of each task (slowest host), summed over plays."""
    costs: dict[str, float] = defaultdict(float)
    for play in result.get("plays", []):
        for task in play.get("tasks", []):
            dur = task["task"].get("duration", {})
            if dur.get("start") and dur.get("end"):
                fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
                seconds = (datetime.strptime(dur["end"], fmt) - datetime.strptime(dur["start"], fmt)).total_seconds()
                costs[task["task"]["name"]] += seconds
    return costs


def write_inventory(path: Path, names: list[str], vars_file: Path | None) -> None:
    lines = ["[gpu_notebook_hosts]", *names, "", "[gpu_notebook_hosts:vars]",
             "ansible_connection=community.docker.docker", "ansible_python_interpreter=/usr/bin/python3"]
    path.write_text("\n".join(lines) + "\n")
    if vars_file:
        gv = path.parent / "group_vars"
        gv.mkdir(exist_ok=True)
        (gv / "gpu_notebook_hosts.yml").write_text(vars_file.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", default="1,4,8", help="comma-separated fleet sizes (default 1,4,8)")
    ap.add_argument("--playbook", default=str(ROOT / "playbooks" / "site.yml"))
    ap.add_argument("--vars", default=str(ROOT / "benchmarks" / "fleet_vars.yml"),
                    help="group_vars for the fleet (default benchmarks/fleet_vars.yml)")
    ap.add_argument("--load-image", action="append", default=[],
                    help="local image to stream into each host's nested Docker before the converge")
    ap.add_argument("--top", type=int, default=10, help="how many of the costliest re-run tasks to list")
    ap.add_argument("--keep", action="store_true", help="keep the hosts afterwards")
    args = ap.parse_args()

    floor = ROOT / "benchmarks" / "floor.yml"
    rows = []
    tops: dict[int, list[tuple[str, float]]] = {}
    for n in [int(x) for x in args.hosts.split(",")]:
        names: list[str] = []
        try:
            print(f"[{n} host(s)] starting lab hosts ...", flush=True)
            names = start_hosts(n)
            with tempfile.TemporaryDirectory() as tmp:
                inv = Path(tmp) / "hosts.ini"
                write_inventory(inv, names, Path(args.vars) if Path(args.vars).exists() else None)
                print(f"[{n} host(s)] first converge ...", flush=True)
                converge = run_playbook(Path(args.playbook), inv, [])[0]
                print(f"[{n} host(s)] no-op re-run ...", flush=True)
                rerun, result = run_playbook(Path(args.playbook), inv, [])
                changed = {h: s.get("changed", 0) for h, s in result.get("stats", {}).items()}
                if any(changed.values()):
                    raise SystemExit(f"re-run was not a no-op: changed={changed}")
                print(f"[{n} host(s)] floor (facts + ping) ...", flush=True)
                floor_s = run_playbook(floor, inv, [])[0]
            rows.append((n, converge, rerun, floor_s))
            tops[n] = sorted(task_costs(result).items(), key=lambda kv: -kv[1])[: args.top]
        finally:
            if not args.keep:
                remove_hosts(names)

    print("\n| hosts | first converge (s) | no-op re-run (s) | floor (s) | re-run / floor |")
    print("|---:|---:|---:|---:|---:|")
    for n, converge, rerun, floor_s in rows:
        print(f"| {n} | {converge:.1f} | {rerun:.1f} | {floor_s:.1f} | {rerun / floor_s:.2f}x |")
    for n, top in tops.items():
        print(f"\nCostliest tasks of the no-op re-run on {n} host(s) (wall s, slowest host):")
        for name, seconds in top:
            print(f"  {seconds:6.2f}  {name}")


if __name__ == "__main__":
    main()
