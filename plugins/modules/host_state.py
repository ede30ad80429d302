#!/usr/bin/python
# Copyright (c) securelab.gpu_notebook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: host_state
short_description: Read, in one round-trip, the host state a role compares with its desired state
version_added: 0.2.0
description:
  - A read-only probe. It never changes the host and always reports RV(ignore:changed=false).
  - The collection's roles call it once at their start and compare the result with what they would
    write (template checksums, package and service states, accounts, containers). When nothing
    differs they skip their converge tasks, so a no-op re-run costs one round-trip per role instead of
    one per task. When anything differs, or the probe cannot tell, the role runs every task as usual.
  - Secrets are never returned, except the password hashes of O(jupyter_configs) (put C(no_log) on the task
    that asks for them). Files are reported by metadata and SHA-1 checksum, TOTP files only as
    valid or not, C(/etc/shadow) only as locked and expiry date. O(read_lines) returns file content -
    give it public files only (public host keys).
  - "B(Never through a link.) Every file is opened with C(O_NOFOLLOW) and C(O_NONBLOCK) and checked on the open
    descriptor - a symlink, FIFO or directory where a file is expected is reported (type V(link) or V(other), or
    not valid), never read. Under a home directory only the user's own entries are looked at (C(lstat))."
author:
  - securelab.gpu_notebook maintainers (@securelab)
options:
  packages:
    description: Debian package names; RV(packages) maps each to its installed version or V(null).
    type: list
    elements: str
    default: []
  files:
    description:
      - Paths to C(lstat); RV(files) maps each to its type, mode, owner and (regular files) SHA-1 checksum.
      - A path may start with C(~USER/) (as in V(~alice/.ssh/authorized_keys)), resolved on the host; the result is
        keyed by the resolved path, so one read needs no earlier read of the passwd database. When USER does not
        exist the path stays as given and is reported missing. The same holds for O(read_lines) and the paths of
        O(totp_files).
    type: list
    elements: path
    default: []
  read_lines:
    description:
      - Public text files whose lines RV(lines) returns (at most 256 KiB each), for example public host keys.
      - A path that is a symlink or not a regular file reads as V(null) (missing).
    type: list
    elements: path
    default: []
  dirs:
    description: Directories whose entry names RV(dirs) returns (V(null) when missing).
    type: list
    elements: path
    default: []
  units:
    description: systemd units; RV(units) maps each to its load, active and unit-file state.
    type: list
    elements: str
    default: []
  accounts:
    description:
      - Account names; RV(accounts) gives passwd fields, lock and expiry, and how many processes run as the account.
    type: list
    elements: str
    default: []
  totp_files:
    description:
      - Map of a google_authenticator file path to the user who must own it. RV(totp_files) says whether
        each is a regular file, owned by that user, mode 0400 or 0600, and parses as a valid secret file
        (what M(securelab.gpu_notebook.totp_secret) leaves alone). The content is never returned.
    type: dict
    default: {}
  commands:
    description:
      - Map of a name to an argv list of a read-only command (for example V([ssh, -Q, kex])). RV(commands)
        maps each name to its C(rc), C(stdout) and C(stderr). A command that is not installed gives C(rc=127).
    type: dict
    default: {}
  facts:
    description:
      - Also set a few facts, cheaper than M(ansible.builtin.setup) with C(gather_subset=min) - C(env) (the
        environment of the module, as C(setup) reports it; over SSH it holds C(SSH_CLIENT)), C(getent_passwd)
        (the passwd database, shaped as M(ansible.builtin.getent) sets it), C(interfaces) (the network
        interfaces' names, as C(setup) reports them) and, on Debian and Ubuntu, C(distribution) and
        C(distribution_release) from C(/etc/os-release).
      - "Under C(become) (sudo resets the environment), C(SSH_CLIENT) and C(SSH_CONNECTION) are taken from the
        SSH session the module runs in: from the nearest ancestor process (the login shell of the connection,
        or sudo itself) whose initial environment holds them. C(setup) under C(become) reports neither, so the
        controller's address it gives is empty."
    type: bool
    default: false
  capabilities:
    description: Return RV(cap_bnd), the capability bounding set of PID 1 (what the host's containers may hold).
    type: bool
    default: false
  daemon_json:
    description:
      - Check whether Docker's daemon.json already holds O(daemon_json.keys) and none of O(daemon_json.remove),
        with the merge rules of M(securelab.gpu_notebook.docker_daemon_config). RV(daemon_json) C(in_sync) is
        V(false) when that module would change the file (or the file is unusable).
      - This is also that module's dry run (read-only) - RV(daemon_json) C(invalid) says why the current file
        cannot be merged into, C(problems) what dockerd would refuse in the merged result.
    type: dict
    suboptions:
      path:
        description: The daemon configuration file.
        type: path
        default: /etc/docker/daemon.json
      keys:
        description: As O(securelab.gpu_notebook.docker_daemon_config#module:keys).
        type: dict
        default: {}
      remove:
        description: As O(securelab.gpu_notebook.docker_daemon_config#module:remove).
        type: list
        elements: raw
        default: []
      remove_if:
        description: As O(securelab.gpu_notebook.docker_daemon_config#module:remove_if).
        type: dict
        default: {}
  containers:
    description:
      - Docker container names; RV(containers) gives what the notebook role compares (asked over the Docker socket).
    type: list
    elements: str
    default: []
  images:
    description: Docker image references; RV(images) maps each to its image ID or V(null).
    type: list
    elements: str
    default: []
  networks:
    description: Docker network names; RV(networks) gives whether each exists and its driver, IPv6 and labels.
    type: list
    elements: str
    default: []
  jupyter_configs:
    description:
      - Jupyter JSON config files; RV(jupyter_configs) gives, for each, the password hashes it holds, so the
        notebook role can check on the controller whether the hash still verifies the password.
      - "B(The result holds password hashes): use it only on a task with C(no_log: true)."
    type: list
    elements: path
    default: []
  openpgp_keys:
    description:
      - OpenPGP public key files (apt keyrings, ASCII-armored or binary); RV(openpgp_keys) gives the fingerprints of the
        primary keys each holds, so a role can compare them with the fingerprint it pins.
    type: list
    elements: path
    default: []
    version_added: 0.6.0
  docker_socket:
    description: The Docker engine's socket, for O(containers), O(images) and O(networks).
    type: path
    default: /run/docker.sock
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module never changes anything.
  diff_mode:
    support: none
  platform:
    platforms: debian
notes:
  - Runs on Debian and Ubuntu (C(dpkg-query), C(systemctl)); the rest is the Python standard library.
seealso:
  - module: securelab.gpu_notebook.docker_daemon_config
  - module: securelab.gpu_notebook.totp_secret
"""

EXAMPLES = r"""
- name: Read what time_sync manages, in one round-trip
  securelab.gpu_notebook.host_state:
    packages: [chrony, systemd-timesyncd]
    files: [/etc/chrony/chrony.conf, /etc/default/chrony]
    units: [chrony.service]
    capabilities: true
  register: probe

- name: Show whether chrony.conf is what the template renders
  ansible.builtin.debug:
    msg: >-
      {{ probe.files['/etc/chrony/chrony.conf']
         | securelab.gpu_notebook.file_differs(lookup('ansible.builtin.template', 'chrony.conf.j2'), mode='0644') }}
"""

RETURN = r"""
packages:
  description: Installed version of each package of O(packages), V(null) when not installed.
  returned: always
  type: dict
  sample: {chrony: "4.3-2+deb12u1", systemd-timesyncd: null}
files:
  description:
    - For each path of O(files) - C(exists), C(type) (V(file), V(directory), V(link), V(other)), C(mode) (octal
      string), C(uid), C(gid), C(owner), C(group), C(size) and, for regular files, C(checksum) (SHA-1).
  returned: always
  type: dict
  sample:
    /etc/chrony/chrony.conf: {exists: true, type: file, mode: "0644", owner: root, group: root, checksum: "8c1f..."}
lines:
  description: Lines of each file of O(read_lines) (without line ends), V(null) when missing.
  returned: always
  type: dict
dirs:
  description: Sorted entry names of each directory of O(dirs), V(null) when missing.
  returned: always
  type: dict
units:
  description: For each unit of O(units) - C(load_state), C(active_state), C(unit_file_state).
  returned: always
  type: dict
  sample: {chrony.service: {load_state: loaded, active_state: active, unit_file_state: enabled}}
accounts:
  description:
    - For each name of O(accounts) - C(exists), and when it exists C(uid), C(gid), C(home), C(shell), C(locked)
      (password field starts with C(!)), C(expires) (days since 1970 or V(null)), C(processes) (how many
      processes run with that effective UID, as C(pgrep -u) counts them).
  returned: always
  type: dict
passwd:
  description: The whole passwd database, shaped like M(ansible.builtin.getent)'s C(getent_passwd) fact.
  returned: when O(accounts) is given
  type: dict
totp_files:
  description:
    - For each path of O(totp_files) - C(exists), C(valid) and C(problem) (why not valid, never the content).
    - The checks are M(securelab.gpu_notebook.totp_secret)'s own - every directory from C(/) down owned by root or the
      owner and not writable by others, no link - so a file the module would refuse is never valid here.
  returned: always
  type: dict
commands:
  description: For each name of O(commands) - C(rc), C(stdout), C(stderr).
  returned: always
  type: dict
ansible_facts:
  description: >-
    C(env), C(getent_passwd), C(interfaces) and, on Debian and Ubuntu, C(distribution) and
    C(distribution_release).
  returned: when O(facts=true)
  type: dict
cap_bnd:
  description: PID 1's capability bounding set as an integer.
  returned: when O(capabilities=true)
  type: int
daemon_json:
  description:
    - C(in_sync) (bool) and C(reason) (why not).
    - C(invalid) - the parse error when the current file is not a JSON object (V('') otherwise);
      M(securelab.gpu_notebook.docker_daemon_config) then refuses unless its
      O(securelab.gpu_notebook.docker_daemon_config#module:on_invalid) is V(backup_and_replace).
    - C(problems) - what dockerd would refuse in the file that module would write (the merge result; for an invalid
      file, the merge into an empty object), the type checks of that module; V([]) when C(in_sync).
  returned: when O(daemon_json) is given
  type: dict
  sample: {in_sync: false, reason: keys differ, invalid: '', problems: ['log-opts values must be strings']}
containers:
  description:
    - For each name of O(containers) - C(exists), C(running), C(health), C(image) (ID), C(labels), C(memory),
      C(memory_swap), C(nano_cpus), C(pids_limit), C(restart_policy), C(networks) (names). V(null) values when
      Docker does not answer.
  returned: always
  type: dict
images:
  description: Image ID of each reference of O(images), V(null) when the image is not there.
  returned: always
  type: dict
networks:
  description:
    - For each name of O(networks) - C(exists) and, when it exists, C(driver), C(enable_ipv6), C(internal),
      C(labels), C(options) (the driver options, such as C(com.docker.network.bridge.name)).
      C(exists=null) when Docker does not answer.
  returned: always
  type: dict
  sample: {securelab-nb-alice: {exists: true, driver: bridge, enable_ipv6: false, internal: false, labels: {}}}
jupyter_configs:
  description:
    - For each path of O(jupyter_configs) - C(exists), C(valid) (parses as a Jupyter JSON config) and C(hashes),
      a map of C(Section.key) (C(PasswordIdentityProvider.hashed_password), C(IdentityProvider.hashed_password),
      C(ServerApp.password), C(NotebookApp.password)) to the hash found there.
    - Secret material (password hashes).
  returned: always
  type: dict
openpgp_keys:
  description:
    - For each path of O(openpgp_keys) - C(exists), C(fingerprints) (upper-case hex, primary keys only, in file order)
      and C(error) (why the file is not a key file, V('') otherwise).
  returned: always
  type: dict
  sample:
    /etc/apt/keyrings/docker.asc: {exists: true, fingerprints: [9DC858229FC7DD38854AE2D88D81803C0EBFCD88], error: ''}
docker:
  description: Whether the Docker socket answered (only asked when O(containers), O(images) or O(networks) is given).
  returned: always
  type: bool
"""

import errno
import grp
import hashlib
import http.client
import json
import os
import pwd
import socket
import stat
import subprocess
import urllib.parse

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.securelab.gpu_notebook.plugins.module_utils import (
    _daemon_json,
    _jupyter_password,
    _openpgp,
    _totp,
    _user_file,
)

TOTP_MODES = (0o400, 0o600)
MAX_LINES_BYTES = 256 * 1024
MAX_JUPYTER_CONFIG_BYTES = 1024 * 1024


def _run(argv):
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False,
                              env=dict(os.environ, LC_ALL='C'))
    except (FileNotFoundError, PermissionError) as exc:
        return dict(rc=127, stdout='', stderr=str(exc))
    return dict(rc=proc.returncode, stdout=proc.stdout, stderr=proc.stderr)


def packages(names):
    result = dict.fromkeys(names)
    if not names:
        return result
    out = _run(['dpkg-query', '-W', '-f', '${Package}\t${db:Status-Abbrev}\t${Version}\n', '--', *names])
    for line in out['stdout'].splitlines():
        parts = line.split('\t')
        if len(parts) == 3 and parts[0] in result and parts[1].startswith('ii'):
            result[parts[0]] = parts[2]
    return result


def _name(lookup, ident):
    try:
        return lookup(ident)[0]
    except KeyError:
        return str(ident)


def _unresolved(path):
    # A ~USER path whose user does not exist stays as given (as type=path options resolve it): it names no file.
    return path.startswith('~')


def _home_path(path):
    """~USER/rest as the options of type path resolve it (their home from passwd); anything else unchanged."""
    if not path.startswith('~'):
        return path
    user, sep, rest = path[1:].partition('/')
    try:
        home = pwd.getpwnam(user).pw_dir if user else os.environ.get('HOME', '')
    except KeyError:
        return path
    return (home.rstrip('/') + sep + rest) or '/' if home else path


_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0)


def _open_regular(path):
    """(file object, stat) of ``path`` if it is a regular file, else None.

    Opened with O_NOFOLLOW (root never reads through a link a user planted, e.g. ~/.ssh/authorized_keys pointing
    at /etc/shadow) and O_NONBLOCK (a FIFO in its place cannot hang the read); the type is checked on the open
    descriptor, so a file swapped between a check and the read is never followed either.
    """
    try:
        fd = os.open(path, _READ_FLAGS)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO, errno.ENOTDIR, errno.EACCES):
            return None
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        return None
    return os.fdopen(fd, 'rb'), st


def file_info(path):
    if _unresolved(path):
        return dict(exists=False)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return dict(exists=False)
    kind = ('file' if stat.S_ISREG(st.st_mode) else 'directory' if stat.S_ISDIR(st.st_mode)
            else 'link' if stat.S_ISLNK(st.st_mode) else 'other')
    info = dict(exists=True, type=kind, mode=f'{stat.S_IMODE(st.st_mode):04o}', uid=st.st_uid, gid=st.st_gid,
                owner=_name(pwd.getpwuid, st.st_uid), group=_name(grp.getgrgid, st.st_gid), size=st.st_size)
    if kind == 'file':
        opened = _open_regular(path)
        if opened is None:  # replaced by something else since the lstat: report no checksum (differs)
            info['checksum'] = None
            return info
        digest = hashlib.sha1()  # noqa: S324 - a file checksum (what the template module compares), not security
        with opened[0] as handle:
            for chunk in iter(lambda: handle.read(65536), b''):
                digest.update(chunk)
        info['checksum'] = digest.hexdigest()
    return info


def read_lines(path):
    if _unresolved(path):
        return None
    opened = _open_regular(path)
    if opened is None:  # missing, a link or not a regular file: nothing is read through it
        return None
    with opened[0] as handle:
        data = handle.read(MAX_LINES_BYTES + 1)
    if len(data) > MAX_LINES_BYTES:
        raise ValueError(f'read_lines: {path} is larger than {MAX_LINES_BYTES} bytes')
    return data.decode('utf-8', errors='replace').splitlines()


def dir_entries(path):
    try:
        return sorted(os.listdir(path))
    except (FileNotFoundError, NotADirectoryError):
        return None


def units(names):
    result = {n: dict(load_state=None, active_state=None, unit_file_state=None) for n in names}
    if not names:
        return result
    out = _run(['systemctl', 'show', '--property=Id,LoadState,ActiveState,UnitFileState', '--', *names])
    # One block per unit, in the order asked, separated by empty lines.
    blocks = [b for b in out['stdout'].split('\n\n') if b.strip()]
    for name, block in zip(names, blocks):  # noqa: B905 - fewer blocks only when systemctl failed
        props = dict(line.split('=', 1) for line in block.splitlines() if '=' in line)
        result[name] = dict(load_state=props.get('LoadState') or None, active_state=props.get('ActiveState') or None,
                            unit_file_state=props.get('UnitFileState') or None)
    return result


def _shadow():
    entries = {}
    try:
        with open('/etc/shadow', encoding='utf-8') as handle:
            for line in handle:
                fields = line.rstrip('\n').split(':')
                if len(fields) >= 8:
                    entries[fields[0]] = (fields[1].startswith('!'), int(fields[7]) if fields[7].isdigit() else None)
    except OSError:
        pass
    return entries


def _process_counts():
    """Processes per effective UID, as pgrep -u counts them.

    The owner of /proc/<pid> is not enough: a non-dumpable process (an sshd session) shows as root there,
    so the Uid line of /proc/<pid>/status (real, effective, saved, filesystem) is read instead.
    """
    counts = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/status', encoding='ascii', errors='replace') as handle:
                for line in handle:
                    if line.startswith('Uid:'):
                        uid = int(line.split()[2])
                        counts[uid] = counts.get(uid, 0) + 1
                        break
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
    return counts


def accounts(names):
    shadow, procs = _shadow(), _process_counts()
    result = {}
    for name in names:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            result[name] = dict(exists=False)
            continue
        locked, expires = shadow.get(name, (None, None))
        result[name] = dict(exists=True, uid=entry.pw_uid, gid=entry.pw_gid, home=entry.pw_dir, shell=entry.pw_shell,
                            locked=locked, expires=expires, processes=procs.get(entry.pw_uid, 0))
    return result


def passwd_db():
    return {e.pw_name: [e.pw_passwd, str(e.pw_uid), str(e.pw_gid), e.pw_gecos, e.pw_dir, e.pw_shell]
            for e in pwd.getpwall()}


def totp_file(path, user):
    """Whether totp_secret would leave ``path`` alone: the same directory checks (module_utils._user_file, every
    component owned by root or the owner, none writable by others, no link), then a regular file owned by ``user``,
    mode 0400 or 0600, that parses. ``problem`` says why not, without the content."""
    if _unresolved(path):
        return dict(exists=False, valid=False, problem='the user does not exist')
    try:
        owner = pwd.getpwnam(user)
    except KeyError:
        return dict(exists=os.path.lexists(path), valid=False, problem=f'no account {user}')
    directory, name = os.path.split(path)
    try:
        dir_fd = _user_file.open_user_dir(directory, owner.pw_uid)
    except _user_file.MissingPathError:
        return dict(exists=False, valid=False, problem=f'{directory} does not exist')
    except (_user_file.UnsafePathError, OSError) as exc:
        return dict(exists=os.path.lexists(path), valid=False, problem=f'{directory}: {exc}')
    try:
        if _user_file.lstat_at(dir_fd, name) is None:
            return dict(exists=False, valid=False, problem='missing')
        try:
            data, st = _user_file.read_file_at(dir_fd, name, 65536)
        except (_user_file.UnsafePathError, _user_file.FileTooLargeError, OSError) as exc:
            return dict(exists=True, valid=False, problem=str(exc))
    finally:
        os.close(dir_fd)
    if st.st_uid != owner.pw_uid or st.st_gid != owner.pw_gid or stat.S_IMODE(st.st_mode) not in TOTP_MODES:
        return dict(exists=True, valid=False, problem='owner or mode differs')
    try:
        _totp.parse(data.decode('utf-8'))
    except (UnicodeDecodeError, _totp.TotpFileError):
        return dict(exists=True, valid=False, problem='not a valid secret file')
    return dict(exists=True, valid=True, problem='')


def jupyter_config(path):
    if not os.path.lexists(path):
        return dict(exists=False, valid=False, hashes={})
    opened = _open_regular(path)
    if opened is None:
        return dict(exists=True, valid=False, hashes={})
    with opened[0] as handle:
        data = handle.read(MAX_JUPYTER_CONFIG_BYTES + 1)
    try:
        if len(data) > MAX_JUPYTER_CONFIG_BYTES:
            raise ValueError('too large')
        config = _jupyter_password.parse_config(data.decode('utf-8'))
    except ValueError:  # UnicodeDecodeError and json.JSONDecodeError are ValueErrors
        return dict(exists=True, valid=False, hashes={})
    hashes = {}
    for section, key in _jupyter_password.ALL_KEYS:
        value = config.get(section, {}).get(key)
        if value is not None:
            hashes[f'{section}.{key}'] = value
    return dict(exists=True, valid=True, hashes=hashes)


def openpgp_key(path):
    if not os.path.lexists(path):
        return dict(exists=False, fingerprints=[], error='missing')
    opened = _open_regular(path)
    if opened is None:
        return dict(exists=True, fingerprints=[], error='not a regular file')
    with opened[0] as handle:
        data = handle.read(MAX_LINES_BYTES + 1)
    if len(data) > MAX_LINES_BYTES:
        return dict(exists=True, fingerprints=[], error=f'larger than {MAX_LINES_BYTES} bytes')
    try:
        return dict(exists=True, fingerprints=_openpgp.fingerprints(data), error='')
    except _openpgp.OpenPGPError as exc:
        return dict(exists=True, fingerprints=[], error=str(exc))


SESSION_KEYS = ('SSH_CLIENT', 'SSH_CONNECTION')
MAX_ANCESTORS = 32


def _proc_environ(pid):
    with open(f'/proc/{pid}/environ', 'rb') as handle:
        data = handle.read(1024 * 1024)
    return dict(item.split(b'=', 1) for item in data.split(b'\0') if b'=' in item)


def _proc_ppid(pid):
    with open(f'/proc/{pid}/status', encoding='ascii', errors='replace') as handle:
        for line in handle:
            if line.startswith('PPid:'):
                return int(line.split()[1])
    return 0


def session_env(environ=None, start_pid=None):
    """The module's environment, with SSH_CLIENT/SSH_CONNECTION of the SSH session it runs in.

    sudo (become) starts its command with a fresh environment; the shell that sshd started for the connection, and
    sudo itself, still have the variables in their initial environment (/proc/<pid>/environ). Only this process's
    own ancestors are read (a local user cannot become one of them), nearest first; PID 1 is never read.
    """
    env = dict(os.environ if environ is None else environ)
    if all(key in env for key in SESSION_KEYS):
        return env
    pid = os.getppid() if start_pid is None else start_pid
    for _depth in range(MAX_ANCESTORS):
        if pid <= 1:
            break
        try:
            found = _proc_environ(pid)
            parent = _proc_ppid(pid)
        except (OSError, ValueError, IndexError):
            break
        if b'SSH_CLIENT' in found or b'SSH_CONNECTION' in found:
            for key in SESSION_KEYS:
                if key not in env and key.encode() in found:
                    env[key] = found[key.encode()].decode('utf-8', errors='replace')
            break
        pid = parent
    return env


def os_release():
    """distribution and distribution_release as setup names them, for the distributions the roles support."""
    fields = {}
    try:
        with open('/etc/os-release', encoding='utf-8') as handle:
            for line in handle:
                key, sep, value = line.strip().partition('=')
                if sep:
                    fields[key] = value.strip('"\'')
    except OSError:
        return {}
    names = {'debian': 'Debian', 'ubuntu': 'Ubuntu'}
    if fields.get('ID') not in names or not fields.get('VERSION_CODENAME'):
        return {}
    return dict(distribution=names[fields['ID']], distribution_release=fields['VERSION_CODENAME'])


def interfaces():
    """The network interfaces' names (setup's ansible_interfaces)."""
    try:
        return sorted(os.listdir('/sys/class/net'))
    except OSError:
        return []


def cap_bnd():
    with open('/proc/1/status', encoding='ascii') as handle:
        for line in handle:
            if line.startswith('CapBnd:'):
                return int(line.split()[1], 16)
    return None


def daemon_json(spec):
    try:
        with open(spec['path'], encoding='utf-8') as handle:
            text = handle.read()
    except FileNotFoundError:
        text = None
    except (OSError, UnicodeDecodeError) as exc:
        return dict(in_sync=False, reason=str(exc), invalid=f'cannot be read: {exc}', problems=[])
    invalid = ''
    try:
        _daemon_json.parse(text)
    except _daemon_json.DaemonJsonError as exc:
        invalid = str(exc)
    try:
        # With an invalid file: what docker_daemon_config writes with on_invalid=backup_and_replace.
        before, after, _invalid = _daemon_json.plan(text, spec['keys'], spec['remove'], spec['remove_if'],
                                                    replace_invalid=bool(invalid))
    except _daemon_json.DaemonJsonError as exc:  # the requested change itself (a key path of remove)
        return dict(in_sync=False, reason=str(exc), invalid=invalid, problems=[f'remove: {exc}'])
    if invalid:
        reason = invalid
    elif text is None:
        reason = 'the file does not exist'
    elif before != after:
        reason = 'keys differ'
    else:
        return dict(in_sync=True, reason='', invalid='', problems=[])
    return dict(in_sync=False, reason=reason, invalid=invalid, problems=_daemon_json.check(after))


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__('localhost', timeout=20)
        self._path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def _docker_get(sock_path, url):
    conn = _UnixHTTPConnection(sock_path)
    try:
        conn.request('GET', url)
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    if resp.status == 404:
        return None
    if resp.status != 200:
        raise OSError(f'Docker answered {resp.status} to GET {url}')
    return json.loads(body)


def docker_objects(sock_path, containers, images, networks=()):
    cont = {n: dict(exists=None) for n in containers}
    imgs = dict.fromkeys(images)
    nets = {n: dict(exists=None) for n in networks}
    if not containers and not images and not networks:
        return cont, imgs, nets, False
    try:
        for name in containers:
            data = _docker_get(sock_path, '/containers/{}/json'.format(urllib.parse.quote(name, safe='')))
            if data is None:
                cont[name] = dict(exists=False)
                continue
            state, host, config = data.get('State') or {}, data.get('HostConfig') or {}, data.get('Config') or {}
            cont[name] = dict(
                exists=True, running=bool(state.get('Running')), health=(state.get('Health') or {}).get('Status'),
                image=data.get('Image'), labels=config.get('Labels') or {}, memory=host.get('Memory'),
                memory_swap=host.get('MemorySwap'), nano_cpus=host.get('NanoCpus'), pids_limit=host.get('PidsLimit'),
                restart_policy=(host.get('RestartPolicy') or {}).get('Name'),
                networks=sorted(((data.get('NetworkSettings') or {}).get('Networks') or {}).keys()))
        for ref in images:
            data = _docker_get(sock_path, '/images/{}/json'.format(urllib.parse.quote(ref, safe='')))
            imgs[ref] = data.get('Id') if data else None
        for name in networks:
            data = _docker_get(sock_path, '/networks/{}'.format(urllib.parse.quote(name, safe='')))
            # The API also finds a network by ID prefix or another spelling: only the exact name counts.
            if data is None or data.get('Name') != name:
                nets[name] = dict(exists=False)
                continue
            nets[name] = dict(exists=True, driver=data.get('Driver'), enable_ipv6=bool(data.get('EnableIPv6')),
                              internal=bool(data.get('Internal')), labels=data.get('Labels') or {},
                              options=data.get('Options') or {})
    except (OSError, ValueError):
        return ({n: dict(exists=None) for n in containers}, dict.fromkeys(images),
                {n: dict(exists=None) for n in networks}, False)
    return cont, imgs, nets, True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            packages=dict(type='list', elements='str', default=[]),
            files=dict(type='list', elements='path', default=[]),
            read_lines=dict(type='list', elements='path', default=[]),
            dirs=dict(type='list', elements='path', default=[]),
            units=dict(type='list', elements='str', default=[]),
            accounts=dict(type='list', elements='str', default=[]),
            totp_files=dict(type='dict', default={}),
            commands=dict(type='dict', default={}),
            facts=dict(type='bool', default=False),
            capabilities=dict(type='bool', default=False),
            daemon_json=dict(type='dict', options=dict(
                path=dict(type='path', default='/etc/docker/daemon.json'),
                keys=dict(type='dict', default={}, no_log=False),
                remove=dict(type='list', elements='raw', default=[]),
                remove_if=dict(type='dict', default={}),
            )),
            containers=dict(type='list', elements='str', default=[]),
            images=dict(type='list', elements='str', default=[]),
            networks=dict(type='list', elements='str', default=[]),
            jupyter_configs=dict(type='list', elements='path', default=[]),
            openpgp_keys=dict(type='list', elements='path', default=[], no_log=False),
            docker_socket=dict(type='path', default='/run/docker.sock'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    for name, argv in p['commands'].items():
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            module.fail_json(msg=f'commands.{name}: must be a non-empty list of strings (an argv)')
    try:
        result = dict(
            changed=False,
            packages=packages(p['packages']),
            files={path: file_info(path) for path in p['files']},
            lines={path: read_lines(path) for path in p['read_lines']},
            dirs={path: dir_entries(path) for path in p['dirs']},
            units=units(p['units']),
            accounts=accounts(p['accounts']),
            totp_files={path: totp_file(path, user) for path, user in
                        ((_home_path(path), user) for path, user in p['totp_files'].items())},
            commands={name: _run(argv) for name, argv in p['commands'].items()},
            jupyter_configs={path: jupyter_config(path) for path in p['jupyter_configs']},
            openpgp_keys={path: openpgp_key(path) for path in p['openpgp_keys']},
        )
        passwd = passwd_db() if p['accounts'] or p['facts'] else None
        if p['accounts']:
            result['passwd'] = passwd
        if p['facts']:
            result['ansible_facts'] = dict(env=session_env(), getent_passwd=passwd, interfaces=interfaces(),
                                           **os_release())
        if p['capabilities']:
            result['cap_bnd'] = cap_bnd()
        if p['daemon_json'] is not None:
            result['daemon_json'] = daemon_json(p['daemon_json'])
        result['containers'], result['images'], result['networks'], result['docker'] = docker_objects(
            p['docker_socket'], p['containers'], p['images'], p['networks'])
    except (OSError, ValueError) as exc:
        module.fail_json(msg=f'cannot read the host state: {exc}')
    module.exit_json(**result)


if __name__ == '__main__':
    main()
