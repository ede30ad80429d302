"""totp_secret action plugin: the QR code decodes back to the URI with a real decoder (zbarimg)."""

from __future__ import annotations

import base64
import shutil
import subprocess
from unittest import mock

import pytest
from ansible.playbook.task import Task
from ansible_collections.securelab.gpu_notebook.plugins.action import totp_secret as action
from ansible_collections.securelab.gpu_notebook.plugins.module_utils import _totp

URIS = [
    _totp.otpauth_uri(_totp.generate_secret(), "alice@gpu1", "securelab"),
    _totp.otpauth_uri(_totp.generate_secret(), "bob smith@höst.lab", "Secure Lab & Co"),
]

needs_zbar = pytest.mark.skipif(not shutil.which("zbarimg"),
                                reason="zbarimg (Debian package zbar-tools) is not installed")


def zbar_decode(path):
    out = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sbinary", str(path)],
                         capture_output=True, check=True).stdout
    return out.decode("utf-8").rstrip("\n")


def text_to_pbm(text, scale=4):
    """Turn segno's compact terminal text back into a bitmap.

    Each character is two modules stacked; a drawn half is a LIGHT module (the text is meant
    for a terminal with a dark background), a blank half is dark.
    """
    halves = {" ": (1, 1), "\u2580": (0, 1), "\u2584": (1, 0), "\u2588": (0, 0)}  # 1 = dark
    rows = []
    for line in text.rstrip("\n").split("\n"):
        pairs = [halves[c] for c in line]
        rows.append([p[0] for p in pairs])
        rows.append([p[1] for p in pairs])
    width = len(rows[0])
    border = [[0] * (width + 8)] * 4
    rows = border + [[0] * 4 + r + [0] * 4 for r in rows] + border
    lines = [" ".join(str(v) for v in r for _col in range(scale)) for r in rows for _row in range(scale)]
    return f"P1\n{len(rows[0]) * scale} {len(lines)}\n" + "\n".join(lines) + "\n"


@needs_zbar
@pytest.mark.parametrize("uri", URIS)
def test_png_decodes_to_the_uri(tmp_path, uri):
    png, _text = action.render_qr(uri)
    assert png.startswith(b"\x89PNG")
    (tmp_path / "qr.png").write_bytes(png)
    assert zbar_decode(tmp_path / "qr.png") == uri


@needs_zbar
@pytest.mark.parametrize("uri", URIS)
def test_terminal_text_decodes_to_the_uri(tmp_path, uri):
    _png, text = action.render_qr(uri)
    (tmp_path / "qr.pbm").write_text(text_to_pbm(text))
    assert zbar_decode(tmp_path / "qr.pbm") == uri


def make_plugin(args):
    task = Task()
    task.args = args
    task.async_val = 0
    plugin = action.ActionModule(task, mock.MagicMock(), mock.MagicMock(check_mode=False),
                                 loader=None, templar=mock.MagicMock(), shared_loader_obj=None)
    return plugin


@pytest.mark.parametrize(("module_result", "qr"), [
    ({"changed": True, "created": True, "otpauth_uri": URIS[0], "scratch_codes": ["12345678"], "secret": "S"}, True),
    ({"changed": False, "created": False, "path": "/home/alice/.google_authenticator"}, False),
    ({"changed": True, "created": False, "migrated": True, "path": "/var/lib/securelab/totp/alice"}, False),
    ({"failed": True, "msg": "user: no account named 'x'"}, False),
])
def test_qr_only_when_a_secret_came_back(module_result, qr):
    plugin = make_plugin({"user": "alice"})
    with mock.patch.object(plugin, "_execute_module", return_value=dict(module_result)) as execute:
        result = plugin.run(task_vars={})
    assert execute.call_args.kwargs["module_name"] == "securelab.gpu_notebook.totp_secret"
    assert execute.call_args.kwargs["module_args"] == {"user": "alice"}
    assert ("qr_png_base64" in result) is qr and ("qr_text" in result) is qr
    assert result.get("_ansible_no_log", False) is qr  # secrets never reach a callback
    if qr:
        assert base64.b64decode(result["qr_png_base64"]).startswith(b"\x89PNG")


def test_no_segno_on_the_controller_warns_and_returns_no_qr(monkeypatch):
    monkeypatch.setattr(action, "segno", None)
    plugin = make_plugin({"user": "alice"})
    with mock.patch.object(plugin, "_execute_module", return_value={"changed": True, "otpauth_uri": URIS[0]}):
        result = plugin.run(task_vars={})
    assert "qr_png_base64" not in result and "qr_text" not in result
    assert any("segno" in w for w in result["warnings"]) and result["otpauth_uri"] == URIS[0]


def test_the_root_layout_options_reach_the_module_unchanged():
    args = {"user": "alice", "owner": "root", "path": "/var/lib/securelab/totp/alice",
            "migrate_from": "/home/alice/.google_authenticator", "rotate": False}
    plugin = make_plugin(dict(args))
    migrated = {"changed": True, "created": False, "migrated": True, "path": args["path"]}
    with mock.patch.object(plugin, "_execute_module", return_value=dict(migrated)) as execute:
        result = plugin.run(task_vars={})
    assert execute.call_args.kwargs["module_args"] == args
    assert result["migrated"] is True and not any(k in result for k in (*action.SECRET_KEYS, "qr_png_base64"))
