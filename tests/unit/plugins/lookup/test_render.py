"""The render lookup returns what ansible.builtin.template's lookup returns, without deep-copying the task's
variables and without adding template_vars to them.

Both lookups are loaded by ansible-core's own PluginLoader and run with a real DataLoader and Templar. The
collection finder is not installed in this process (tests/conftest.py puts the collection on sys.path, and other
tests import it directly), so the render plugin is loaded from the collection's plugins/lookup directory, as
ansible loads a playbook's or role's lookup_plugins/ directory.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.errors import AnsibleError
from ansible.module_utils.datatag import native_type_name
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import PluginLoader
from ansible.template import Templar, trust_as_template

ROOT = Path(__file__).resolve().parents[4]
RENDER_PY = ROOT / "plugins" / "lookup" / "render.py"


@pytest.fixture(scope="module")
def plugin_loader() -> PluginLoader:
    return PluginLoader(
        "LookupModule", "ansible.plugins.lookup", [str(RENDER_PY.parent)], "lookup_plugins",
        required_base_class="LookupBase",
    )


def lookup(plugin_loader: PluginLoader, name: str):
    loader = DataLoader()
    plugin = plugin_loader.get(name, loader=loader, templar=Templar(loader=loader))
    assert plugin is not None, name
    return plugin


@pytest.fixture
def render(plugin_loader):
    plugin = lookup(plugin_loader, "render")
    assert Path(plugin._original_path) == RENDER_PY  # the collection's file, not some other "render"
    return plugin


@pytest.fixture
def builtin(plugin_loader):
    plugin = lookup(plugin_loader, "template")
    assert plugin.ansible_name == "ansible.builtin.template"
    return plugin


def task_vars(tmp_path: Path, **more) -> dict:
    return {
        "ansible_search_path": [str(tmp_path)],
        "name": "alice",
        "port": 8080,
        "users": ["ann", "bob"],
        "conf": {"base_port": 8000, "hosts": ["a", "b"]},
        # a variable that is itself a (trusted) template, as role defaults are; it is resolved lazily and sees
        # template_vars
        "greeting": trust_as_template("hello {{ name }}"),
        **more,
    }


# (id, template file text, lookup options, extra task variables, expected result)
CASES = [
    ("plain", "Hello {{ name }}, port {{ port }}\n", {}, {}, "Hello alice, port 8080\n"),
    ("for_loop", "{% for u in users %}\n- {{ u }}\n{% endfor %}\nend\n", {}, {}, "- ann\n- bob\nend\n"),
    ("for_loop_no_trim", "{% for u in users %}\n- {{ u }}\n{% endfor %}\nend\n", {"trim_blocks": False}, {},
     "\n- ann\n\n- bob\n\nend\n"),
    ("template_vars", "{{ extra }} {{ name }} {{ greeting }}\n", {"template_vars": {"extra": "x", "name": "tv"}}, {},
     "x tv hello tv\n"),
    ("own_dict_update",
     "{% set d = {} %}{% set _ = d.update({'who': name, 'port': port}) %}{{ d | to_json }}\n", {}, {},
     '{"who": "alice", "port": 8080}\n'),
    ("nested_variables", "{{ conf.base_port + 1 }} {{ conf.hosts | join(',') }}\n", {}, {}, "8001 a,b\n"),
    ("trailing_newlines", "line {{ name }}\n\n\n", {}, {}, "line alice\n\n\n"),
    ("no_trailing_newline", "{{ name }}", {}, {}, "alice"),
    ("expression_alone_is_an_int", "{{ 1 }}", {}, {}, 1),
    ("expression_alone_is_a_list", "{{ users }}", {}, {}, ["ann", "bob"]),
    ("yaml_true_literal", "true", {}, {}, "true"),
    ("json_literal", '{"a": 1}\n', {}, {}, '{"a": 1}\n'),
    ("variable_delimiters", "[% name %] {{ name }}\n",
     {"variable_start_string": "[%", "variable_end_string": "%]"}, {}, "alice {{ name }}\n"),
    ("comment_delimiters", "a{## hidden ##}b {# shown #}\n",
     {"comment_start_string": "{##", "comment_end_string": "##}"}, {}, "ab {# shown #}\n"),
    ("template_path_and_default_ansible_managed", "{{ template_path }}: {{ ansible_managed }}\n", {}, {},
     "template_path_and_default_ansible_managed.j2: Ansible managed\n"),
    ("user_ansible_managed_kept", "{{ ansible_managed }}\n", {}, {"ansible_managed": "mine"}, "mine\n"),
]


@pytest.mark.parametrize("case_id, text, options, extra, expected", CASES, ids=[c[0] for c in CASES])
def test_output_equals_the_builtin_template_lookup(render, builtin, tmp_path, case_id, text, options, extra,
                                                   expected):
    (tmp_path / f"{case_id}.j2").write_text(text)
    term = f"{case_id}.j2"

    (ours,) = render.run([term], variables=task_vars(tmp_path, **extra), **options)
    (theirs,) = builtin.run([term], variables=task_vars(tmp_path, **extra), **options)

    assert theirs == expected  # the case means what it says (builtin behaviour of this ansible-core)
    assert ours == theirs
    assert native_type_name(ours) == native_type_name(theirs)


def test_include_from_the_templates_directory_of_the_search_path(render, builtin, tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "main.j2").write_text("main {{ name }}\n{% include 'part.j2' %}")
    (templates / "part.j2").write_text("part {{ port }}\n")

    (ours,) = render.run(["main.j2"], variables=task_vars(tmp_path))
    (theirs,) = builtin.run(["main.j2"], variables=task_vars(tmp_path))

    assert theirs == "main alice\npart 8080"  # the included file's last newline is dropped, by both
    assert ours == theirs


def test_several_terms_and_absolute_path(render, builtin, tmp_path):
    (tmp_path / "one.j2").write_text("1 {{ name }}\n")
    (tmp_path / "two.j2").write_text("2 {{ port }}\n")
    terms = ["one.j2", str(tmp_path / "two.j2")]

    ours = render.run(terms, variables=task_vars(tmp_path))

    assert ours == builtin.run(terms, variables=task_vars(tmp_path)) == ["1 alice\n", "2 8080\n"]


def test_template_vars_do_not_leak_into_the_callers_variables(render, tmp_path):
    (tmp_path / "t.j2").write_text("{{ extra }} {{ name }} {{ template_path }}\n")
    variables = task_vars(tmp_path)
    before = dict(variables)
    search_path_before = list(variables["ansible_search_path"])

    (out,) = render.run(["t.j2"], variables=variables, template_vars={"extra": "x", "name": "tv"})

    assert out == "x tv t.j2\n"
    assert variables.keys() == before.keys()  # no extra, template_path, ansible_managed, ...
    assert variables["name"] == "alice"
    assert all(variables[key] is before[key] for key in before)
    assert variables["ansible_search_path"] == search_path_before


class DeepCopyRecorder(dict):
    """A variable value that counts the deep copies made of it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.deep_copies = 0

    def __deepcopy__(self, memo):
        self.deep_copies += 1
        return DeepCopyRecorder(self)


def test_builtin_deep_copies_the_variables(builtin, tmp_path):
    """Control for the next test: the recorder does see the builtin lookup's deep copy."""
    (tmp_path / "t.j2").write_text("{{ probe.k }}\n")
    probe = DeepCopyRecorder(k="v")

    assert builtin.run(["t.j2"], variables=task_vars(tmp_path, probe=probe)) == ["v\n"]
    assert probe.deep_copies == 1


def test_render_does_not_deep_copy_the_variables(render, tmp_path):
    (tmp_path / "t.j2").write_text("{{ probe.k }} {{ extra }}\n")
    probe = DeepCopyRecorder(k="v")
    variables = task_vars(tmp_path, probe=probe)

    assert render.run(["t.j2"], variables=variables, template_vars={"extra": "x"}) == ["v x\n"]
    assert probe.deep_copies == 0
    assert variables["probe"] is probe


@pytest.mark.parametrize("term", ["no_such_template.j2", "sub/no_such_template.j2"])
def test_missing_template_is_an_error_naming_the_file(render, tmp_path, term):
    with pytest.raises(AnsibleError, match=f"the template file {term} could not be found"):
        render.run([term], variables=task_vars(tmp_path))


def test_a_roles_template_from_a_task_outside_the_role(render, builtin, tmp_path):
    # The site playbook's play-level tasks work out the roles' declarations: their search path is the playbook's, so
    # role= names the role whose templates/ holds the file. Same text as the builtin lookup from inside the role.
    role_dir = ROOT / "roles" / "time_sync"
    variables = task_vars(tmp_path, ansible_managed="Ansible managed")

    ours = render.run(["no-clock-control.conf.j2"], variables=variables, role="time_sync")

    inside = task_vars(role_dir, ansible_managed="Ansible managed")
    assert ours == builtin.run(["no-clock-control.conf.j2"], variables=inside)
    assert "Ansible managed" in ours[0]
    with pytest.raises(AnsibleError, match="could not be found"):
        render.run(["no-clock-control.conf.j2"], variables=variables)  # not in the caller's search path


@pytest.mark.parametrize("role", ["no_such_role", "../time_sync", "Time_Sync", ""])
def test_a_role_that_is_not_the_collections_is_refused(render, tmp_path, role):
    with pytest.raises(AnsibleError, match="is not one of this collection's roles"):
        render.run(["chrony.conf.j2"], variables=task_vars(tmp_path), role=role)
