"""The shape issue 15 asks of the roles, checked on every run so it cannot creep back.

Logic lives in Python (filters, modules, module_utils) with unit tests, not in long Jinja blocks in YAML: no Jinja
expression in ``roles/**/*.yml`` or ``playbooks/*.yml`` spans more than 10 source lines. Each role's tasks are a gate
(``main.yml``) and one file per concern: no task file that only passes control on to others, none that nothing runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MAX_JINJA_LINES = 10
FILES = sorted([*ROOT.glob("roles/**/*.yml"), *ROOT.glob("playbooks/*.yml")])


def jinja_blocks(path: Path) -> list[tuple[int, int]]:
    """(first line, source lines) of every scalar in ``path`` that holds Jinja."""
    source = path.read_text().splitlines()
    found = []

    def walk(node: yaml.Node) -> None:
        if isinstance(node, yaml.ScalarNode):
            if "{{" not in node.value and "{%" not in node.value:
                return
            if node.style in ("|", ">"):
                # A block scalar: its lines are the ones below the indicator indented at least as the first.
                lines, indent = 0, None
                for text in source[node.start_mark.line + 1:node.end_mark.line + 1]:
                    if not text.strip():
                        continue
                    this = len(text) - len(text.lstrip())
                    indent = this if indent is None else indent
                    if this < indent:
                        break
                    lines += 1
            else:
                lines = node.end_mark.line - node.start_mark.line + 1
            found.append((node.start_mark.line + 1, lines))
        elif isinstance(node, yaml.MappingNode):
            for _key, value in node.value:
                walk(value)
        elif isinstance(node, yaml.SequenceNode):
            for value in node.value:
                walk(value)

    for document in yaml.compose_all(path.read_text()):
        if document is not None:
            walk(document)
    return found


def test_the_measure_counts_source_lines(tmp_path: Path) -> None:
    sample = tmp_path / "sample.yml"
    sample.write_text("a: >-\n  {{ x\n     | y }}\n\nb: '{{ z }}'\nc: plain\n")
    assert jinja_blocks(sample) == [(1, 2), (5, 1)]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_long_jinja_block(path: Path) -> None:
    long = [(line, lines) for line, lines in jinja_blocks(path) if lines > MAX_JINJA_LINES]
    assert not long, (f"{path.relative_to(ROOT)}: Jinja blocks longer than {MAX_JINJA_LINES} lines at "
                      f"{', '.join(f'line {line} ({lines} lines)' for line, lines in long)}: "
                      "move the logic into a Python filter or module with unit tests")


# Task files run by something outside the role's main.yml: playbooks/verify_gpu.yml and the docker scenario.
ENTRY_POINTS = {("nvidia_runtime", "verify_gpu.yml"), ("nvidia_runtime", "verify_gpu_users.yml")}
ROLES = sorted(p.parent.parent for p in ROOT.glob("roles/*/tasks/main.yml"))
INCLUDES = ("ansible.builtin.import_tasks", "ansible.builtin.include_tasks")


def task_file_refs(tasks: list) -> tuple[set[str], bool]:
    """The task files ``tasks`` imports or includes, and whether one of its tasks does anything else."""
    refs, works = set(), False
    for task in tasks or []:
        for key in ("block", "rescue", "always"):
            if key in task:
                inner, inner_works = task_file_refs(task[key])
                refs |= inner
                works = works or inner_works
        action = next((k for k in INCLUDES if k in task), None)
        if action:
            arg = task[action]
            refs.add(arg["file"] if isinstance(arg, dict) else arg)
        elif not any(key in task for key in ("block", "rescue", "always")):
            works = True
    return refs, works


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_a_gate_and_one_file_per_concern(role: Path) -> None:
    """main.yml is the gate; every other task file does work of its own (no file that only passes control on, as the
    prepare/read/drift/converge files each role once had) and is reached from main.yml or is a named entry point."""
    files = {p.name: yaml.safe_load(p.read_text()) for p in (role / "tasks").glob("*.yml")}
    plumbing = [name for name, tasks in files.items() if name != "main.yml" and not task_file_refs(tasks)[1]]
    assert not plumbing, f"{role.name}: task files that only import or include others: {plumbing}"
    reached, todo = set(), ["main.yml"] + [name for r, name in ENTRY_POINTS if r == role.name]
    while todo:
        name = todo.pop()
        if name in reached or name not in files:
            continue
        reached.add(name)
        todo.extend(task_file_refs(files[name])[0])
    assert set(files) == reached, f"{role.name}: task files nothing runs: {sorted(set(files) - reached)}"
