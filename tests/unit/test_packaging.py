"""The collection as users receive it: the built tarball, its docs, the EE definition, the changelog."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
ROLES = sorted(p.parent.parent.name for p in (ROOT / "roles").glob("*/meta/argument_specs.yml"))
FORBIDDEN = (".venv/", ".cache/", "__pycache__", ".pytest_cache", "tests/output/", ".git/", "enrollment/")


def run(*cmd: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build")
    run(str(BIN / "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(out))
    return out / f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"


def test_tarball_has_no_build_leftovers(tarball: Path) -> None:
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    leftovers = [n for n in names if any(f in n + "/" for f in FORBIDDEN) or n.endswith((".pyc", ".tar.gz"))]
    assert leftovers == []
    for required in ("MANIFEST.json", "meta/runtime.yml", "README.md", "COPYING", "playbooks/site.yml"):
        assert required in names, required


def test_manifest_declares_the_collections_we_use(tarball: Path) -> None:
    with tarfile.open(tarball) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))  # type: ignore[arg-type]
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"]) == ("securelab", "gpu_notebook")
    assert set(info["dependencies"]) == {"community.crypto", "community.docker"}
    used = set()
    for path in [*ROOT.glob("roles/**/*.yml"), *ROOT.glob("playbooks/*.yml")]:
        text = path.read_text()
        used |= {dep for dep in info["dependencies"] if f"{dep}." in text}
    assert used == set(info["dependencies"]), "declared dependencies must be the ones the content uses"


@pytest.mark.parametrize("module", MODULES)
def test_module_docs_render(module: str) -> None:
    out = run(str(BIN / "ansible-doc"), "-t", "module", f"securelab.gpu_notebook.{module}").stdout
    assert "EXAMPLES" in out and "RETURN VALUES" in out


@pytest.mark.parametrize("role", ROLES)
def test_role_docs_render(role: str) -> None:
    out = run(str(BIN / "ansible-doc"), "-t", "role", f"securelab.gpu_notebook.{role}").stdout
    assert f"securelab.gpu_notebook.{role}" in out
    spec = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    options = spec["argument_specs"]["main"].get("options", {})
    assert options, f"{role} documents no variables"
    missing = [name for name in options if name not in out]
    assert missing == [], f"ansible-doc does not show {missing}"


def test_changelog_fragments_lint() -> None:
    result = subprocess.run([str(BIN / "antsibull-changelog"), "lint"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


def test_execution_environment_definition_is_valid(tarball: Path, tmp_path: Path) -> None:
    for name in ("execution-environment.yml", "requirements.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copy(tarball, tmp_path / "securelab-gpu_notebook.tar.gz")
    result = subprocess.run(
        [str(BIN / "ansible-builder"), "create", "-f", "execution-environment.yml", "--context", "context"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    context = tmp_path / "context"
    assert (context / "Dockerfile").exists() or (context / "Containerfile").exists()
    assert (context / "_build" / "galaxy" / "securelab-gpu_notebook.tar.gz").exists()
    assert "galaxy/securelab-gpu_notebook.tar.gz" in (context / "_build" / "requirements.yml").read_text()


def test_pre_commit_config_is_valid() -> None:
    result = subprocess.run([str(BIN / "pre-commit"), "validate-config", ".pre-commit-config.yaml"],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    assert {h["id"] for h in hooks} == {"yamllint", "ruff", "ansible-lint"}


def test_reference_docs_are_generated_and_current() -> None:
    """docs/reference/ is antsibull-docs output of DOCUMENTATION + argument_specs, linted, not hand-edited."""
    result = subprocess.run(["bash", str(ROOT / "scripts" / "docs.sh"), "--check"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
