"""The shape issue 15 asks of the roles, checked on every run so it cannot creep back.

Logic lives in Python (filters, modules, module_utils) with unit tests, not in long Jinja blocks in YAML: no Jinja
expression in ``roles/**/*.yml`` or ``playbooks/*.yml`` spans more than 10 source lines.
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
