# Copyright (c) securelab.gpu_notebook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for totp_secret: run the module on the target, draw the QR code on the controller.

The target needs only Debian's python3; the QR code (PNG and terminal text) is rendered here with
segno, and only when the module returned an otpauth:// URI (a secret was created or rotated).
A result that carries secrets is marked no_log so it is never printed by a callback.
"""

from __future__ import annotations

import base64
import io

from ansible.plugins.action import ActionBase

try:
    import segno
except ImportError:
    segno = None

SECRET_KEYS = ('otpauth_uri', 'scratch_codes', 'secret')


def render_qr(uri):
    """(PNG bytes, terminal text) of the QR code of ``uri``."""
    qr = segno.make(uri, error='m', micro=False)
    png = io.BytesIO()
    qr.save(png, kind='png', scale=6, border=4)
    text = io.StringIO()
    qr.terminal(out=text, compact=True, border=2)
    return png.getvalue(), text.getvalue()


class ActionModule(ActionBase):

    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        result.update(self._execute_module(
            module_name='securelab.gpu_notebook.totp_secret',
            module_args=self._task.args,
            task_vars=task_vars,
        ))
        uri = result.get('otpauth_uri')
        if uri:
            if segno is None:
                result.setdefault('warnings', []).append(
                    'totp_secret: the Python package segno is missing on the controller, so no QR code was '
                    'drawn; install segno, or enroll with the otpauth_uri or the secret')
            else:
                png, text = render_qr(uri)
                result['qr_png_base64'] = base64.b64encode(png).decode('ascii')
                result['qr_text'] = text
        if any(key in result for key in SECRET_KEYS):
            result['_ansible_no_log'] = True
        return result
