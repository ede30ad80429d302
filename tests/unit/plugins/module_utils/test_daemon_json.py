"""Pure logic of docker_daemon_config: parse, merge, remove, check, render."""

from __future__ import annotations

import json

import pytest
from ansible_collections.securelab.gpu_notebook.plugins.module_utils._daemon_json import (
    KNOWN_TOP_LEVEL_KEYS,
    DaemonJsonError,
    check,
    deep_merge,
    parse,
    plan,
    remove_paths,
    render,
    split_path,
)

NVIDIA = {"runtimes": {"nvidia": {"path": "nvidia-container-runtime", "args": []}}}


@pytest.mark.parametrize(
    "text, expected",
    [
        (None, {}),
        ("", {}),
        ("  \n", {}),
        ("{}", {}),
        ('{"registry-mirrors": ["https://m.lab"]}', {"registry-mirrors": ["https://m.lab"]}),
    ],
)
def test_parse_accepts(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text, fragment",
    [
        ('{"a": 1,}', "not valid JSON"),
        ("{'a': 1}", "not valid JSON"),
        ("[1, 2]", "JSON list, not an object"),
        ('"x"', "JSON str, not an object"),
    ],
)
def test_parse_rejects(text, fragment):
    with pytest.raises(DaemonJsonError, match=fragment):
        parse(text)


@pytest.mark.parametrize(
    "current, owned, expected",
    [
        ({}, {"live-restore": True}, {"live-restore": True}),
        ({"registry-mirrors": ["a"]}, {"log-opts": {"max-size": "10m"}},
         {"registry-mirrors": ["a"], "log-opts": {"max-size": "10m"}}),
        # objects merge recursively: existing log-opts keys survive
        ({"log-opts": {"labels": "x", "max-size": "1g"}}, {"log-opts": {"max-size": "10m"}},
         {"log-opts": {"labels": "x", "max-size": "10m"}}),
        # another runtime survives when nvidia is added
        ({"runtimes": {"kata": {"path": "/usr/bin/kata"}}}, NVIDIA,
         {"runtimes": {"kata": {"path": "/usr/bin/kata"}, "nvidia": {"path": "nvidia-container-runtime", "args": []}}}),
        # lists and scalars replace as a whole
        ({"dns": ["1.1.1.1"]}, {"dns": ["9.9.9.9"]}, {"dns": ["9.9.9.9"]}),
        ({"log-opts": "oops"}, {"log-opts": {"max-size": "10m"}}, {"log-opts": {"max-size": "10m"}}),
        ({"features": {"buildkit": True}}, {"features": {"cdi": True}}, {"features": {"buildkit": True, "cdi": True}}),
    ],
)
def test_deep_merge(current, owned, expected):
    snapshot = json.dumps(current)
    assert deep_merge(current, owned) == expected
    assert json.dumps(current) == snapshot  # input left alone


def test_merge_keeps_existing_key_order():
    merged = deep_merge({"b": 1, "a": 2}, {"a": 3, "c": 4})
    assert list(merged) == ["b", "a", "c"]


@pytest.mark.parametrize(
    "path, parts",
    [("default-runtime", ["default-runtime"]), ("runtimes.nvidia", ["runtimes", "nvidia"]),
     (["log-opts", "labels.regex"], ["log-opts", "labels.regex"])],
)
def test_split_path(path, parts):
    assert split_path(path) == parts


@pytest.mark.parametrize("path", ["", "a..b", [], 3])
def test_split_path_rejects(path):
    with pytest.raises(DaemonJsonError):
        split_path(path)


@pytest.mark.parametrize(
    "config, remove, if_equal, expected",
    [
        ({"a": 1, "b": 2}, ["a"], None, {"b": 2}),
        ({"a": 1}, ["missing", "x.y.z"], None, {"a": 1}),
        # the emptied parent goes too
        (NVIDIA, ["runtimes.nvidia"], None, {}),
        ({"runtimes": {"nvidia": {}, "kata": {"path": "k"}}}, ["runtimes.nvidia"], None,
         {"runtimes": {"kata": {"path": "k"}}}),
        ({"default-runtime": "nvidia"}, None, {"default-runtime": "nvidia"}, {}),
        ({"default-runtime": "kata"}, None, {"default-runtime": "nvidia"}, {"default-runtime": "kata"}),
        ({"features": {"cdi": True, "buildkit": True}}, None, {"features.cdi": True}, {"features": {"buildkit": True}}),
    ],
)
def test_remove_paths(config, remove, if_equal, expected):
    assert remove_paths(config, remove, if_equal) == expected


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}},
        {"live-restore": True, "userns-remap": "default"},
        dict(NVIDIA, **{"default-runtime": "nvidia", "features": {"cdi": True}}),
        {"default-runtime": "runc"},
        {"registry-mirrors": ["https://mirror.lab"], "storage-driver": "vfs"},
    ],
)
def test_check_accepts(config):
    assert check(config, strict_keys=True) == []


@pytest.mark.parametrize(
    "config, fragment",
    [
        ({"log-opts": {"max-size": "10 parsecs"}}, "max-size"),
        ({"log-opts": {"max-file": 3}}, "log-opts.max-file must be a string"),
        ({"log-opts": {"max-file": "0"}}, "max-file must be a whole number"),
        ({"live-restore": "yes"}, "live-restore must be true or false"),
        ({"userns-remap": ""}, "userns-remap must not be empty"),
        ({"registry-mirrors": "https://m"}, "registry-mirrors must be a list"),
        ({"runtimes": {"nvidia": {"args": []}}}, "needs a string path"),
        ({"runtimes": {"nvidia": {"path": "x", "args": "-v"}}}, "args must be a list"),
        ({"runtimes": {"runc": {"path": "x"}}}, "cannot be redefined"),
        ({"default-runtime": "nvidia"}, "not runc and not a key of runtimes"),
        ({"features": {"cdi": "true"}}, "features.cdi must be true or false"),
    ],
)
def test_check_rejects(config, fragment):
    problems = check(config)
    assert any(fragment in p for p in problems), problems


def test_unknown_keys_only_in_strict_mode():
    config = {"live-restor": True}
    assert check(config) == []
    assert "live-restor" in check(config, strict_keys=True)[0]


def test_known_keys_cover_what_the_roles_write():
    assert {"log-driver", "log-opts", "live-restore", "userns-remap", "runtimes", "default-runtime",
            "features", "registry-mirrors", "storage-driver"} <= KNOWN_TOP_LEVEL_KEYS


def test_render_round_trips():
    config = {"b": [1], "a": {"x": "ü"}}
    text = render(config)
    assert text.endswith("}\n") and json.loads(text) == config and list(json.loads(text)) == ["b", "a"]


@pytest.mark.parametrize(
    "text, kwargs, before, after, invalid",
    [
        ('{"registry-mirrors": ["m"]}', {"keys": NVIDIA}, {"registry-mirrors": ["m"]},
         dict({"registry-mirrors": ["m"]}, **NVIDIA), None),
        ("{broken", {"keys": {"live-restore": True}, "replace_invalid": True}, {}, {"live-restore": True},
         "not valid JSON"),
        ('{"default-runtime": "nvidia", "runtimes": {"nvidia": {"path": "p"}}}',
         {"remove": ["runtimes"], "remove_if": {"default-runtime": "nvidia"}}, None, {}, None),
    ],
)
def test_plan(text, kwargs, before, after, invalid):
    got_before, got_after, got_invalid = plan(text, **kwargs)
    if before is not None:
        assert got_before == before
    assert got_after == after
    assert (got_invalid is None) if invalid is None else (invalid in got_invalid)


def test_plan_refuses_invalid_by_default():
    with pytest.raises(DaemonJsonError, match="not valid JSON"):
        plan("{broken", {"live-restore": True})
