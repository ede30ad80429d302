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
    .venv/bin/python benchmarks/fleet.py --hosts 8 --repeat 5      # medians of 5 re-runs and 5 floors
    .venv/bin/python benchmarks/fleet.py --hosts 1 --load-image securelab/jupyter-lab:2.21.1
    .venv/bin/python benchmarks/fleet.py --hosts 8 --repeat 5 --baseline ad0854d   # and the code at ad0854d
    .venv/bin/python benchmarks/fleet.py --hosts 8 --repeat 5 --reuse --state DIR --baseline 7c80c15   # kept hosts

The first host of each fleet is a forced-GPU host (--gpu-hosts): nvidia_runtime_force on the docker scenario's
TEST-ONLY stand-in NVIDIA repository, built and served inside that host (stand-in packages, no NVIDIA code).
With --baseline REF the same hosts are first converged and measured with the collection at REF, then converged
with this version and measured again, so both figures come from one run on the same hosts. With --reuse as well,
neither version converges: both re-runs are measured on the kept hosts as they are (REF must find them in sync too,
which holds when the two versions declare the same host; every re-run must report changed=0 either way).

The Jupyter image reaches each host's nested Docker either through the notebook role
(notebook_image_archives: an archive saved once on the controller, the air-gapped path users take;
the default) or, with --load-image, streamed in by this script after a docker_engine-only prepare
run (that prepare run is then not part of the first converge's figure).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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


def start_hosts(names: list[str]) -> None:
    for name in names:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)  # a leftover of a killed run
        sh("docker", "run", "-d", "--name", name, "--hostname", name, *DIND, "--cgroupns=host",
           "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock",
           "--tmpfs", "/tmp:exec", "--label", "securelab.test=bench", IMAGE, "/sbin/init")
    for name in names:
        deadline = time.monotonic() + 120
        while True:  # until systemd's bus is up, then until it has finished booting
            boot = subprocess.run(["docker", "exec", name, "systemctl", "is-system-running", "--wait"],
                                  capture_output=True, text=True, check=False)
            if boot.stdout.strip() in ("running", "degraded"):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{name}: systemd did not boot ({boot.stdout.strip() or boot.stderr.strip()})")
            time.sleep(0.5)


def settle(limit: float) -> float:
    """Wait (at most ``limit`` s) until the 1-minute load average is below the number of cores: right after a
    first converge the hosts are still busy (Jupyter servers starting, dockerd, apt's timers), which would
    count against the re-run but not against the floor measured after it. Returns the seconds waited."""
    started = time.monotonic()
    cores = os.cpu_count() or 1
    while time.monotonic() - started < limit and os.getloadavg()[0] >= cores:
        time.sleep(5)
    return time.monotonic() - started


def remove_hosts(names: list[str]) -> None:
    if names:
        subprocess.run(["docker", "rm", "-f", *names], capture_output=True, check=False)


def load_images(names: list[str], images: list[str]) -> None:
    """Stream local images into each host's nested engine (dockerd must already run there)."""
    for image in images:
        for name in names:
            save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
            load = subprocess.run(["docker", "exec", "-i", name, "docker", "load"], stdin=save.stdout,
                                  capture_output=True, text=True, check=False)
            save.stdout.close()
            if save.wait() != 0 or load.returncode != 0:
                raise SystemExit(f"{name}: could not load {image}: {load.stderr.strip()[-500:]}")


def make_state(state: Path) -> None:
    """Runtime-generated, test-only SSH keys of the fleet's users and automation account."""
    (state / "enrollment").mkdir(mode=0o700)
    for user in ("alice", "bob", "ansible"):
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{user}@bench (test-only)",
           "-f", str(state / f"{user}_ed25519"))


def image_archive(image: str) -> Path:
    """An archive of the local Jupyter image, saved once and reused while the image id is unchanged."""
    image_id = sh("docker", "image", "inspect", "-f", "{{.Id}}", image).stdout.strip()
    cache = ROOT / ".cache" / "images"
    # molecule/site saves the same image; reuse its archive when it is current (read-only here).
    for archive in (cache / "site-jupyter-lab.tar", cache / "bench-jupyter-lab.tar"):
        stamp = archive.with_name(archive.name + ".id")
        if archive.is_file() and stamp.is_file() and stamp.read_text().strip() == image_id:
            return archive
    archive = cache / "bench-jupyter-lab.tar"
    cache.mkdir(parents=True, exist_ok=True)
    print(f"saving {image} to {archive} ...", flush=True)
    sh("docker", "save", "-o", str(archive) + ".tmp", image)
    os.replace(str(archive) + ".tmp", archive)
    archive.with_name(archive.name + ".id").write_text(image_id + "\n")
    return archive


def failures(result: dict) -> list[str]:
    """host: task: message for every failed or unreachable host result of a json-callback run."""
    out = []
    for play in result.get("plays", []):
        for task in play.get("tasks", []):
            for host, res in task.get("hosts", {}).items():
                if res.get("failed") or res.get("unreachable"):
                    msg = res.get("msg") or res.get("stderr") or ""
                    if not msg and isinstance(res.get("results"), list):
                        msg = "; ".join(str(r.get("msg", "")) for r in res["results"] if r.get("failed"))
                    out.append(f"{host}: {task['task']['name']}: {str(msg)[:400]}")
    return out


def ansible_env(collections: str) -> dict[str, str]:
    return dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_FORKS="10",
                ANSIBLE_PIPELINING="1", ANSIBLE_COLLECTIONS_PATH=collections)


COLLECTIONS = str(ROOT / ".cache" / "collections")


def run_playbook(playbook: Path, inventory: Path, extra: list[str],
                 collections: str = COLLECTIONS) -> tuple[float, dict]:
    started = time.monotonic()
    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), str(playbook), *extra],
                          env=ansible_env(collections), text=True, capture_output=True, check=False)
    elapsed = time.monotonic() - started
    try:
        result = json.loads(proc.stdout[proc.stdout.index("{"):])
    except ValueError:
        result = {}
    if proc.returncode != 0:
        failed = failures(result)
        sys.stderr.write("\n".join(failed) + "\n" if failed else proc.stdout[-4000:] + proc.stderr[-2000:])
        raise SystemExit(f"{playbook.name} failed (rc={proc.returncode}) after {elapsed:.0f} s")
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


CONTROLLER_ACTIONS = {"set_fact", "assert", "debug", "fail", "include_tasks", "include_role", "import_tasks",
                      "meta", "validate_argument_spec", "ansible.builtin.set_fact", "ansible.builtin.assert",
                      "ansible.builtin.debug", "ansible.builtin.fail", "ansible.builtin.include_tasks",
                      "ansible.builtin.include_role", "ansible.builtin.meta", "ansible.builtin.validate_argument_spec"}


def host_work(result: dict) -> tuple[dict[str, int], dict[str, set[str]]]:
    """Per role: tasks that ran on a host (not skipped, not controller-only), summed over hosts; and the
    fast path's drift reasons (the roles' __<role>_drift facts) that made a role converge."""
    remote: dict[str, int] = defaultdict(int)
    drift: dict[str, set[str]] = defaultdict(set)
    for play in result.get("plays", []):
        for task in play.get("tasks", []):
            name = task["task"]["name"]
            role = name.split(" : ", 1)[0].rsplit(".", 1)[-1] if " : " in name else "(play)"
            for res in task.get("hosts", {}).values():
                facts = res.get("ansible_facts") or {}
                for key, value in facts.items():
                    if key.endswith("_drift") and isinstance(value, list):
                        drift[role].update(str(v) for v in value)
                if res.get("skipped") or res.get("action") in CONTROLLER_ACTIONS:
                    continue
                if res.get("results") and all(r.get("skipped") for r in res["results"]):
                    continue
                remote[role] += 1
    return remote, drift


STANDIN = ROOT / "molecule" / "docker" / "files" / "build_standin_repo.sh"


def start_standin_repo(name: str) -> str:
    """TEST ONLY: the docker scenario's signed stand-in NVIDIA repository (stand-in packages under the real names,
    no NVIDIA code), built and served on the host's 127.0.0.1:8765, so that nvidia_runtime_force runs the whole GPU
    path there. Returns the throwaway key's fingerprint (pinned in the host's variables)."""
    fpr = subprocess.run(["docker", "exec", name, "cat", "/srv/standin-repos/key.fpr"],
                         capture_output=True, text=True, check=False)
    if fpr.returncode != 0:
        sh("docker", "exec", name, "sh", "-c", "apt-get update -qq && apt-get install -y -qq apt-utils >/dev/null")
        sh("docker", "cp", str(STANDIN), f"{name}:/usr/local/sbin/build_standin_repo.sh")
        sh("docker", "exec", name, "sh", "/usr/local/sbin/build_standin_repo.sh", "/srv/standin-repos")
        fpr = subprocess.run(["docker", "exec", name, "cat", "/srv/standin-repos/key.fpr"],
                             capture_output=True, text=True, check=True)
    subprocess.run(["docker", "exec", name, "systemd-run", "--unit=securelab-standin-repo",
                    "--property=Restart=on-failure", "python3", "-m", "http.server", "8765", "--bind", "127.0.0.1",
                    "--directory", "/srv/standin-repos"], capture_output=True, check=False)  # already running: fine
    for _attempt in range(40):
        up = subprocess.run(["docker", "exec", name, "python3", "-c",
                             "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8765/nvidia/gpgkey')"],
                            capture_output=True, check=False)
        if up.returncode == 0:
            return fpr.stdout.strip()
        time.sleep(0.5)
    raise SystemExit(f"{name}: the stand-in repository did not come up")


def gpu_host_vars(fingerprint: str) -> str:
    """The forced-GPU host's variables: the docker scenario's deb13 host (default runtime, CDI), on the stand-in."""
    return json.dumps({
        "nvidia_runtime_force": True, "nvidia_runtime_default_runtime": True, "nvidia_runtime_cdi": True,
        "nvidia_runtime_repo_base_url": "http://127.0.0.1:8765/nvidia",
        "nvidia_runtime_repo_key_url": "http://127.0.0.1:8765/nvidia/gpgkey",
        "nvidia_runtime_toolkit_version": "1.17.8-1", "nvidia_runtime_repo_key_fingerprint": fingerprint,
    }, indent=2) + "\n"


def write_inventory(path: Path, names: list[str], vars_file: Path | None, host_vars: dict[str, str]) -> None:
    lines = ["[gpu_notebook_hosts]", *names, "", "[gpu_notebook_hosts:vars]",
             "ansible_connection=community.docker.docker", "ansible_python_interpreter=/usr/bin/python3"]
    path.write_text("\n".join(lines) + "\n")
    if vars_file:
        gv = path.parent / "group_vars"
        gv.mkdir(exist_ok=True)
        (gv / "gpu_notebook_hosts.yml").write_text(vars_file.read_text())
    hv = path.parent / "host_vars"
    hv.mkdir(exist_ok=True)
    for name, text in host_vars.items():
        (hv / f"{name}.yml").write_text(text)


def baseline_collections(ref: str, where: Path) -> tuple[str, Path]:
    """The collection as it was at git ref REF (git archive, no checkout of this tree is touched), first on the
    collections path so it shadows this version; the dependencies come from the usual path. Returns that path
    and REF's site playbook."""
    tree = where / "gpu_notebook"
    tree.mkdir(parents=True)
    archive = subprocess.Popen(["git", "-C", str(ROOT), "archive", ref], stdout=subprocess.PIPE)
    sh("tar", "-x", "-C", str(tree), stdin=archive.stdout)
    archive.stdout.close()
    if archive.wait() != 0:
        raise SystemExit(f"--baseline {ref}: git archive failed")
    link = where / "root" / "ansible_collections" / "securelab"
    link.mkdir(parents=True)
    (link / "gpu_notebook").symlink_to(tree)
    return f"{where / 'root'}:{COLLECTIONS}", tree / "playbooks" / "site.yml"


def measure(label: str, n: int, inv: Path, playbook: Path, collections: str, extra: list[str],
            repeat: int) -> tuple[list[float], list[float], dict]:
    """K no-op re-runs and K floors, alternating; every re-run must report changed=0 on every host."""
    floor = ROOT / "benchmarks" / "floor.yml"
    reruns: list[float] = []
    floors: list[float] = []
    result: dict = {}
    for i in range(repeat):
        count = f" {i + 1}/{repeat}" if repeat > 1 else ""
        print(f"[{n} host(s), {label}] no-op re-run{count} ...", flush=True)
        rerun_s, result = run_playbook(playbook, inv, extra, collections)
        changed = {h: s.get("changed", 0) for h, s in result.get("stats", {}).items()}
        if any(changed.values()):
            changed_tasks = [f"{h}: {t['task']['name']}" for p in result.get("plays", [])
                             for t in p.get("tasks", []) for h, r in t.get("hosts", {}).items() if r.get("changed")]
            raise SystemExit(f"{label}: re-run was not a no-op: changed={changed}\n  " + "\n  ".join(changed_tasks))
        reruns.append(rerun_s)
        print(f"[{n} host(s), {label}] floor (facts + ping){count} ...", flush=True)
        floors.append(run_playbook(floor, inv, extra)[0])
    return reruns, floors, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", default="1,4,8", help="comma-separated fleet sizes (default 1,4,8)")
    ap.add_argument("--playbook", default=str(ROOT / "playbooks" / "site.yml"))
    ap.add_argument("--vars", default=str(ROOT / "benchmarks" / "fleet_vars.yml"),
                    help="group_vars for the fleet (default benchmarks/fleet_vars.yml)")
    ap.add_argument("--gpu-hosts", type=int, default=1, metavar="K",
                    help="the first K hosts of each fleet are forced-GPU hosts (nvidia_runtime_force, default runtime "
                         "and CDI) on the docker scenario's TEST-ONLY stand-in NVIDIA repository (default 1)")
    ap.add_argument("--baseline", metavar="REF",
                    help="also measure the collection at git ref REF, on the same hosts in the same run: converged "
                         "and measured with REF first, then converged with this version and measured again (with "
                         "--reuse: both measured on the kept hosts, no converge)")
    ap.add_argument("--load-image", action="append", default=[],
                    help="local image to stream into each host's nested Docker before the converge "
                         "(after a docker_engine-only prepare run); default: the notebook role loads "
                         "the Jupyter image from an archive")
    ap.add_argument("--image", default="securelab/jupyter-lab:2.21.1",
                    help="the Jupyter image the fleet runs (saved to an archive unless --load-image has it)")
    ap.add_argument("--top", type=int, default=10, help="how many of the costliest re-run tasks to list")
    ap.add_argument("--keep", action="store_true", help="keep the hosts afterwards")
    ap.add_argument("--state", metavar="DIR",
                    help="keep the run's test-only keys and enrollment files in DIR (default: a temporary directory)")
    ap.add_argument("--reuse", action="store_true",
                    help="hosts kept by an earlier --keep --state DIR run: skip start and first converge, "
                         "measure only the re-run and the floor")
    ap.add_argument("--save-json", metavar="DIR", help="also write each re-run's json-callback result to DIR")
    ap.add_argument("--settle", type=float, default=180, metavar="SECONDS",
                    help="after a converge, wait at most this long for the load average to drop below "
                         "the number of cores before measuring (default 180)")
    ap.add_argument("--repeat", type=int, default=1, metavar="K",
                    help="measure the no-op re-run and the floor K times each, alternating, and report the medians "
                         "(the spread is printed too); every re-run must be a no-op")
    args = ap.parse_args()

    vars_file = Path(args.vars)
    if not vars_file.is_file():
        raise SystemExit(f"--vars {vars_file}: no such file (the fleet's group_vars)")
    if args.keep and not args.state:
        raise SystemExit("--keep needs --state DIR (the keys the kept hosts trust)")
    archive = "" if args.image in args.load_image else str(image_archive(args.image))
    rows = []
    tops: dict[str, list[tuple[str, float]]] = {}
    works: dict[str, tuple[int, dict[str, int], dict[str, set[str]]]] = {}
    spreads: dict[str, tuple[list[float], list[float]]] = {}
    for n in [int(x) for x in args.hosts.split(",")]:
        names: list[str] = []
        try:
            with tempfile.TemporaryDirectory(prefix="securelab-bench-") as tmp:
                state = Path(args.state) / f"hosts-{n}" if args.state else Path(tmp) / "state"
                if not args.reuse:
                    state.mkdir(mode=0o700, parents=True)
                    make_state(state)
                elif not (state / "ansible_ed25519.pub").is_file():
                    raise SystemExit(f"--reuse: no state of an earlier run in {state}")
                extra = ["-e", json.dumps({"bench_state": str(state), "bench_image_archive": archive})]
                inv = Path(tmp) / "hosts.ini"
                names = [f"{PREFIX}{i:02d}" for i in range(n)]
                gpu = names[: args.gpu_hosts]
                if not args.reuse:
                    print(f"[{n} host(s)] starting lab hosts ({len(gpu)} forced-GPU) ...", flush=True)
                    start_hosts(names)
                write_inventory(inv, names, vars_file, {g: gpu_host_vars(start_standin_repo(g)) for g in gpu})
                designs = [("this version", Path(args.playbook), COLLECTIONS)]
                if args.baseline:
                    designs.insert(0, (f"baseline {args.baseline}",
                                       *reversed(baseline_collections(args.baseline, Path(tmp) / "baseline"))))
                for index, (label, playbook, collections) in enumerate(designs):
                    converge = float("nan")
                    if not args.reuse:
                        if args.load_image and index == 0:
                            print(f"[{n} host(s)] prepare: docker_engine only, then docker load {args.load_image} ...",
                                  flush=True)
                            run_playbook(ROOT / "benchmarks" / "prepare_docker.yml", inv, extra, collections)
                            load_images(names, args.load_image)
                        what = "first converge" if index == 0 else "converge over the previous version"
                        print(f"[{n} host(s), {label}] {what} ...", flush=True)
                        converge = run_playbook(playbook, inv, extra, collections)[0]
                        waited = settle(args.settle)
                        print(f"[{n} host(s)] settled for {waited:.0f} s (load average {os.getloadavg()[0]:.1f})",
                              flush=True)
                    reruns, floors, result = measure(label, n, inv, playbook, collections, extra, args.repeat)
                    key = f"{n} host(s), {label}"
                    rerun, floor_s = statistics.median(reruns), statistics.median(floors)
                    if args.repeat > 1:
                        spreads[key] = (reruns, floors)
                    if args.save_json:
                        Path(args.save_json).mkdir(parents=True, exist_ok=True)
                        slug = "" if label == "this version" else "-baseline"
                        (Path(args.save_json) / f"rerun-{n}{slug}.json").write_text(json.dumps(result))
                    works[key] = (n, *host_work(result))
                    rows.append((n, len(gpu), label, converge, rerun, floor_s))
                    tops[key] = sorted(task_costs(result).items(), key=lambda kv: -kv[1])[: args.top]
                    print(f"[{key}] converge {converge:.1f} s, re-run {rerun:.1f} s, floor {floor_s:.1f} s",
                          flush=True)
        finally:
            if not args.keep:
                remove_hosts(names)
            elif names:
                print(f"kept: {' '.join(names)}" + (f" (state: {args.state})" if args.state else ""), flush=True)

    print("\n| hosts | forced-GPU | code | converge (s) | no-op re-run (s) | floor (s) | re-run / floor |")
    print("|---:|---:|---|---:|---:|---:|---:|")
    for n, gpus, label, converge, rerun, floor_s in rows:
        print(f"| {n} | {gpus} | {label} | {converge:.1f} | {rerun:.1f} | {floor_s:.1f} | {rerun / floor_s:.2f}x |")
    for key, (reruns, floors) in spreads.items():
        print(f"\n{key}, medians of {len(reruns)} runs each: re-run {' '.join(f'{x:.1f}' for x in reruns)} s; "
              f"floor {' '.join(f'{x:.1f}' for x in floors)} s; "
              f"ratios of the pairs {' '.join(f'{a / b:.2f}x' for a, b in zip(reruns, floors, strict=True))}")
    for key, (n, remote, drift) in works.items():
        total = sum(remote.values())
        print(f"\nRemote tasks of the no-op re-run, {key}: {total / n:.1f} per host "
              f"({', '.join(f'{role} {count / n:.1f}' for role, count in sorted(remote.items())) or 'none'})")
        for role, reasons in sorted(drift.items()):
            if reasons:
                print(f"  {role} took its converge path: {'; '.join(sorted(reasons))}")
    for key, top in tops.items():
        print(f"\nCostliest tasks of the no-op re-run, {key} (wall s, slowest host):")
        for name, seconds in top:
            print(f"  {seconds:6.2f}  {name}")


if __name__ == "__main__":
    main()
