"""The sandbox's zygote: a warm interpreter that forks one sandboxed process per program.

Not imported: ``sandbox.py`` reads this file and runs it through ``python -I -S -B -c <sandbox._BOOT> <socket fd>
<modules to preload> <line of the proof point> <path of _sandbox_runner.py> <tmp size> <harness dirs> <this
file>`` (the boot compiles this file and the runner in a child and runs the code as ``__main__``), so it uses the
standard library only and stays compatible with Python 3.9+.

Two kinds of request: ``RUN`` (a whole program; its pass is the in-process proof of completion, see _program)
and ``TEST`` (a solution and the benchmark's tests: the run's process P forks the solution's process C, which
drops privileges and serves calls, and P itself becomes the trusted runner T; see _sandbox_runner).

The mounts every run shares are made once, in a template mount namespace (_start_template). Each run's P is
forked and builds its sandbox before its request comes, while the previous run executes (_prepare_next); for a
test run its C is forked then too and waits for the run's uid (_fork_callee).
"""

import _thread
import atexit
import builtins
import ctypes
import gc
import os
import resource
import select
import signal
import socket
import sys
import time
import types

for _name in sys.argv[2].split(","):
    try:
        __import__(_name)
    except Exception:
        pass
libc = ctypes.CDLL(None, use_errno=True)
for _name in ("prctl", "unshare", "setns", "mount"):
    getattr(libc, _name)  # looked up once here: ctypes makes (and caches) a function object per name
SOCK = socket.socket(fileno=int(sys.argv[1]))
SETUP_EXIT = 70
PROOF_LINE = int(sys.argv[3])  # the line of _program's proof point in this file (sandbox.py finds it)
PROOF_FD = 4  # the run's end of the proof socket (see _program); only the guard thread keeps it
JOB_FD = 5  # TEST runs: the tests (read by T only after C was forked, so C never holds them)
LINK_FD = 6  # P's end of the link to a C prepared before the request (see _fork_callee)
RUNNER = types.ModuleType("_thinkpack_runner")  # not in sys.modules: the program cannot import it
_code = globals().pop("RUNNER_CODE", None)  # compiled by sandbox._BOOT's child
if _code is None:
    with open(sys.argv[4], "rb") as _f:
        _code = compile(_f.read(), sys.argv[4], "exec")
exec(_code, RUNNER.__dict__)
del _code
# the first compile() of a process builds the interpreter's AST types (~3 ms and ~120 page faults in a forked
# run); T and C compile the tests and the solution: built once here
compile("", "<string>", "exec")
CLONE_FILES = 0x00000400
# events the program may not raise: a trace function can set f_lineno and so jump over the tests
REFUSED_EVENTS = frozenset(("sys.settrace", "sys.monitoring.register_callback", "sys.monitoring.set_events",
                            "sys.monitoring.set_local_events"))
ROOT = os.geteuid() == 0
NS = (("mnt", 0x00020000), ("ipc", 0x08000000), ("net", 0x40000000))
CLONE_NEWPID = 0x20000000
PARENT = os.getpid()
try:
    OWN_PIDNS = os.open("/proc/self/ns/pid", os.O_RDONLY) if ROOT else -1
except OSError:
    OWN_PIDNS = -1


def _blocked(path):
    # topmost proper ancestor of ``path`` that other users cannot traverse
    cur = "/"
    for part in path.split("/")[1:-1]:
        cur = os.path.join(cur, part)
        if not os.stat(cur).st_mode & 1:
            return cur
    return None


# directories the program's interpreter imports from (standard library), and the folder sys.executable is
# reached through: with -S a venv's root is not sys.prefix, yet a program may run sys.executable
_exe_dir = os.path.dirname(os.path.abspath(sys.executable))
_venv = os.path.dirname(_exe_dir)
_exe_root = _venv if os.path.exists(os.path.join(_venv, "pyvenv.cfg")) else _exe_dir
NEED = []
for _d in [sys.base_prefix, sys.prefix, _exe_root] + sys.path:
    _d = os.path.realpath(_d or ".")
    if os.path.isdir(_d) and not any(_d == n or _d.startswith(n + "/") for n in NEED):
        NEED = [n for n in NEED if not n.startswith(_d + "/")] + [_d]


# top-level folders of the operating system (and package stores the interpreter may map files from); every other
# top-level folder holds projects, checkouts, venvs or data (benchmark files among them) and is empty for the
# program, listed at each run (a folder made after the zygote started is covered too), as are the harness' own
# folders sandbox._harness_dirs names (its working directory, the project, the Hugging Face caches)
SYSTEM_TOP = frozenset(("bin", "boot", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "run", "sbin", "sys",
                        "usr", "var", "tmp", "nix", "gnu", "snap"))
HARNESS_DIRS = tuple(d for d in (sys.argv[6].split("\n") if len(sys.argv) > 6 else ()) if d.startswith("/"))


def _host_dirs():
    found = set(HARNESS_DIRS)
    for name in os.listdir("/"):
        path = "/" + name
        if name not in SYSTEM_TOP and os.path.isdir(path) and not os.path.islink(path):
            found.add(path)
    found = sorted(d for d in found if os.path.isdir(d) and not os.path.islink(d))
    return [d for d in found if not any(d.startswith(o + "/") for o in found)]  # one mount covers what is below


RUNNER_UID = 1099999999  # the uid the trusted test runners run as: sandbox._UID_BASE - 1, below every run's uid
TMP_KB = int(sys.argv[5]) if len(sys.argv) > 5 else 128 * 1024  # the run's /tmp (a tmpfs): size cap
TMP_INODES = 65536  # and files + directories


def _site_dirs():
    # every site-packages / dist-packages folder of the interpreter's prefixes
    ver = "python%d.%d" % sys.version_info[:2]
    found = []
    for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, _exe_root, "/usr", "/usr/local"}:
        for lib in ("lib", "lib64"):
            for d in (os.path.join(p, lib, ver, "site-packages"), os.path.join(p, lib, ver, "dist-packages"),
                      os.path.join(p, lib, "python3", "dist-packages")):
                d = os.path.realpath(d)
                if os.path.isdir(d) and d not in found:
                    found.append(d)
    return found


SITE_DIRS = _site_dirs()
TRUSTED_PATH = []  # in a test run's runner: its view of SITE_DIRS (set up by _child)


class _Quitter(object):
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "Use %s() or Ctrl-D (i.e. EOF) to exit" % self.name

    def __call__(self, code=None):
        raise SystemExit(code)


builtins.exit = _Quitter("exit")
builtins.quit = _Quitter("quit")


def _fail(what):
    try:
        os.write(2, ("sandbox setup error: %s\n" % (what,)).encode("utf-8", "replace"))
    finally:
        os._exit(SETUP_EXIT)


class _Prepared(object):
    # what _prepare built before the request: flags, the top-level folders it covered, the interpreter folders
    # bound back, and an exception if it failed (reported when the request comes, as a setup error)
    def __init__(self):
        self.flags = []
        self.hosts = []
        self.top = frozenset()  # the names in / when the host folders were listed
        self.rebound = set()  # interpreter folders bound back (reachable as they are)
        self.stdlib_ok = True  # the unprivileged uid can import the standard library
        self.error = None
        self.callee = None  # (pid, fd of T's end of the link) of a prepared C: see _callee_waiting


COVERED = ("/var/tmp", "/dev/shm", "/run/lock", "/tmp")  # the run's tmpfs /tmp, bound over the other three
TEMPLATE = None  # the mounts every run shares, built once (see _start_template): what they are
TEMPLATE_NS = -1  # and an fd of their mount namespace
# A network namespace with no usable interface (loopback down), made once with the template and joined by every
# run of this zygote that has a pid namespace: this zygote's runs come one at a time, and the kernel has ended
# every process of a run (its pid namespace) before the next run's request is handed over, so no two runs are
# in it at once and no socket of one outlives it.  A fresh one per run cost ~2 x 0.7 ms of CPU (its setup, and
# its teardown in a kernel worker).
NET_NS = -1


def _under(d, dirs):
    return any(d == c or d.startswith(c + "/") for c in dirs)


def _mounts(prep, part, pidns):
    # The run's mounts (MS_PRIVATE is in place).  part "all": every one; "static": those every run shares (host
    # folders covered, the runner's packages, interpreter folders bound back, site-packages emptied), made once in
    # the template namespace and then read-only; "run": the run's own, in a copy of the template (its tmpfs /tmp,
    # the interpreter folders under it bound back, /proc).
    flags, hosts, rebound = prep.flags, prep.hosts, prep.rebound
    static, own = part in ("all", "static"), part in ("all", "run")
    # interpreter directories under a covered dir (a venv in /tmp or /work, as in a CI checkout) stay
    # visible: hold them now, bind them back read-only at the same path afterwards
    kept = []
    for d in NEED:
        if (own and _under(d, COVERED)) or (static and _under(d, hosts)):
            try:
                kept.append((d, os.open(d, os.O_PATH | os.O_DIRECTORY)))
            except OSError:
                pass
    site_held = []  # the interpreter's site-packages, for the trusted runner only (see below)
    for d in SITE_DIRS if ROOT and static else ():
        try:
            site_held.append(os.open(d, os.O_PATH | os.O_DIRECTORY))
        except OSError:
            pass
    if own:
        # a fresh tmpfs (size and inode caps) over /tmp, bound over the other world-writable dirs: what the
        # program writes there dies with the namespace; root's until the request names the run's uid (_child
        # chowns it then)
        opts = ("mode=700,size=%dk,nr_inodes=%d" % (TMP_KB, TMP_INODES)).encode()
        ok = libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 2 | 4, opts) == 0  # nosuid nodev
        for d in COVERED[:-1]:
            if ok and os.path.isdir(d) and libc.mount(b"/tmp", d.encode(), None, 0x1000, None) != 0:
                ok = False
        if ok:
            flags.append("tmp")
    shared = []  # the tmpfs every run shares: read-only once set up
    if static:
        # empty tmpfs over the host's data dirs
        if all(libc.mount(b"tmpfs", h.encode(), b"tmpfs", 2 | 4, b"mode=755,size=64k") == 0 for h in hosts):
            flags.append("host")
            shared += hosts
    # the benchmark's tests may use the harness' packages (EvalPlus' assertion imports numpy): bound
    # read-only into a folder of the runner's uid (mode 700) in a covered host dir the solution cannot
    # write to, so the solution cannot read or replace them
    if site_held and "host" in flags:
        base = os.path.join(hosts[0], ".thinkpack-runner")
        try:
            os.mkdir(base, 0o700)
            os.chown(base, RUNNER_UID, RUNNER_UID)
            for i, fd in enumerate(site_held):
                d = os.path.join(base, "site%d" % i)
                os.mkdir(d, 0o755)
                if libc.mount(("/proc/self/fd/%d" % fd).encode(), d.encode(), None, 0x1000 | 0x4000,
                              None) == 0:
                    libc.mount(None, d.encode(), None, 0x20 | 0x1000 | 1, None)  # read-only
                    TRUSTED_PATH.append(d)
        except OSError:
            pass
    for fd in site_held:
        os.close(fd)
    for d, fd in kept:
        try:
            os.makedirs(d, 0o755, exist_ok=True)
            src_fd = ("/proc/self/fd/%d" % fd).encode()
            if libc.mount(src_fd, d.encode(), None, 0x1000 | 0x4000, None) == 0:
                libc.mount(None, d.encode(), None, 0x20 | 0x1000 | 1, None)  # read-only
                rebound.add(d)
        except OSError:
            pass
        finally:
            os.close(fd)
    if own and pidns and libc.mount(b"proc", b"/proc", b"proc", 2 | 4 | 8, None) == 0:
        flags.append("proc")  # nosuid nodev noexec: only the run's processes are visible
    if static:
        # The unprivileged uid must be able to import the standard library.
        # If the interpreter lives where others cannot traverse (a pyenv build
        # under /root), cover that directory with an empty tmpfs and bind
        # only the interpreter's own directories into it, read-only.
        try:
            blocked = {}
            for d in NEED:
                a = None if d in rebound else _blocked(d)
                if a is not None:
                    blocked.setdefault(a, []).append(d)
            for a, dirs in blocked.items():
                held = [(d, os.open(d, os.O_PATH | os.O_DIRECTORY)) for d in dirs]
                if libc.mount(b"tmpfs", a.encode(), b"tmpfs", 2 | 4, b"mode=755,size=64k") == 0:
                    shared.append(a)
                    for d, fd in held:
                        os.makedirs(d, 0o755, exist_ok=True)
                        src_fd = ("/proc/self/fd/%d" % fd).encode()
                        if libc.mount(src_fd, d.encode(), None, 0x1000 | 0x4000, None) == 0:
                            libc.mount(None, d.encode(), None, 0x20 | 0x1000 | 1, None)  # read-only
                for _, fd in held:
                    os.close(fd)
            if blocked:
                flags.append("expose")
        except OSError:
            pass
        # the interpreter's site-packages (the harness' packages, benchmark data in them) become empty
        if all(libc.mount(b"tmpfs", d.encode(), b"tmpfs", 1 | 2 | 4, b"mode=755,size=4k") == 0
               for d in SITE_DIRS if os.path.isdir(d)):
            flags.append("nosite")
    if part == "static":
        for d in shared:  # MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV: shared by every run, written by none
            if libc.mount(None, d.encode(), None, 0x20 | 1 | 2 | 4, None) != 0:
                raise OSError("could not make %s read-only" % d)


def _start_template():
    # The mounts every run shares, built once per zygote in a mount namespace of their own, held by a process
    # that waits for the zygote to go (see _prepare): a run's namespace is a copy of it, plus the run's own
    # mounts.  Their tmpfs are read-only, so nothing of one run can reach the next through them.
    global TEMPLATE, TEMPLATE_NS, NET_NS
    import json

    r, w = os.pipe()
    hold_r, hold_w = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        return
    if pid == 0:
        try:
            os.close(r)
            os.close(hold_w)
            SOCK.close()
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: die with the zygote
            alive = os.getppid() == PARENT
            net = alive and libc.unshare(NS[0][1] | NS[2][1]) == 0  # the runs' network namespace too (NET_NS)
            if alive and (net or libc.unshare(NS[0][1]) == 0) and \
                    libc.mount(None, b"/", None, 0x4000 | 0x40000, None) == 0:
                prep = _Prepared()
                prep.top = frozenset(os.listdir("/"))
                prep.hosts = _host_dirs()
                _mounts(prep, "static", False)
                os.write(w, json.dumps({"flags": prep.flags, "hosts": prep.hosts, "top": sorted(prep.top),
                                        "rebound": sorted(prep.rebound), "trusted": TRUSTED_PATH,
                                        "net": net}).encode())
            os.close(w)
            os.read(hold_r, 1)  # EOF when the zygote exits
        finally:
            os._exit(0)
    os.close(w)
    os.close(hold_r)
    chunks = []
    while True:
        b = os.read(r, 1 << 16)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    try:
        report = json.loads(b"".join(chunks).decode()) if chunks else None
        if report is not None:
            TEMPLATE_NS = os.open("/proc/%d/ns/mnt" % pid, os.O_RDONLY | os.O_CLOEXEC)
            if report.get("net"):
                NET_NS = os.open("/proc/%d/ns/net" % pid, os.O_RDONLY | os.O_CLOEXEC)
            TEMPLATE = report
            TEMPLATE["hold"] = hold_w  # kept open for the zygote's life
            return
    except (OSError, ValueError):
        pass
    os.close(hold_w)


def _prepare(pidns, use_template=True):
    # P's sandbox, everything that does not depend on the request (root only): fresh mount, IPC and network
    # namespaces, a fresh tmpfs over /tmp (owned by root until the run's uid is known), the host folders covered,
    # the interpreter folders bound back, /proc.  The zygote builds it in a fresh process while the previous run
    # executes (see _serve): it is pid 1 of its own pid namespace, reachable by no run, and holds nothing of one.
    prep = _Prepared()
    flags = prep.flags
    template = TEMPLATE if use_template and TEMPLATE_NS >= 0 and libc.setns(TEMPLATE_NS, NS[0][1]) == 0 else None
    todo = NS
    if template is not None and pidns and NET_NS >= 0 and libc.setns(NET_NS, NS[2][1]) == 0:
        flags.append("net")  # the zygote's (see NET_NS): only with a pid namespace, which ends a run whole
        todo = NS[:2]
    if libc.unshare(sum(f for _, f in todo)) == 0:
        flags.extend(n for n, _ in todo)
    else:
        for name, flag in todo:
            if libc.unshare(flag) == 0:
                flags.append(name)
    if template is not None:
        if "mnt" not in flags:  # never mount in the template itself
            raise OSError("could not copy the template mount namespace")
        prep.top = frozenset(template["top"])
        prep.hosts = list(template["hosts"])
        prep.rebound.update(template["rebound"])
        flags.extend(template["flags"])
        TRUSTED_PATH[:] = template["trusted"]
        _mounts(prep, "run", pidns)
    # MS_REC | MS_PRIVATE on "/" first so that nothing propagates to the host
    elif "mnt" in flags and libc.mount(None, b"/", None, 0x4000 | 0x40000, None) == 0:
        prep.top = frozenset(os.listdir("/"))
        prep.hosts = _host_dirs()
        _mounts(prep, "all", pidns)
    if ROOT:
        try:
            prep.stdlib_ok = not any(_blocked(d) for d in NEED if d not in prep.rebound)
        except OSError:
            prep.stdlib_ok = False
    return prep


def _prepared(pidns, zygote_end, ctrl, test):
    # a prepared P (see _serve): build the sandbox (and, when a test run is expected, fork its C, which waits for
    # the run's uid and limits), then wait for the request; it runs as _child
    try:
        zygote_end.close()
        SOCK.close()
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: die with the zygote
        if os.getppid() != (0 if pidns else PARENT):  # 0: the parent is outside our pid namespace
            return  # the zygote is gone already
        os.setsid()
        try:
            prep = _prepare(pidns)
        except Exception as e:
            prep = _Prepared()
            prep.error = e
        if test and prep.error is None:
            prep.callee = _fork_callee(ctrl)
        msg, fds, _, _ = socket.recv_fds(ctrl, 1 << 16, 8)
        ctrl.close()
        if not msg:
            return
        req = msg.decode("utf-8", "surrogateescape").split("\0")
        _child(req[1:], fds, pidns, req[0] == "TEST", prep)
    finally:
        os._exit(SETUP_EXIT)


def _fork_callee(ctrl):
    # C forked before the request (test runs): it waits, root and holding nothing of a run, in the run's namespaces,
    # for what P would have given it at the fork (the run's output, uid, limits, environment); see _callee_waiting
    try:
        t_end, c_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        me = os.getpid()
        cpid = os.fork()
    except Exception:
        return None
    if cpid == 0:
        try:
            t_end.close()
            ctrl.close()
            _callee_waiting(c_end, me)
        finally:
            os._exit(SETUP_EXIT)
    c_end.close()
    return cpid, t_end.detach()


def _read_fd(fd):
    # all of a file from an fd, which is closed; plain os.read: open()'s io objects cost a forked run page faults
    chunks = []
    try:
        while True:
            b = os.read(fd, 1 << 20)
            if not b:
                return b"".join(chunks)
            chunks.append(b)
    finally:
        os.close(fd)


def _set_environ(pairs):
    # os.environ becomes ``pairs``; only what differs from the zygote's is changed, through os.environ's own
    # bytes mapping (its clear() and update() go through the mapping ABC's Python methods: ~90 page faults and
    # ~0.4 ms of CPU in a freshly forked process, twice per test run)
    env = os.environ
    data = getattr(env, "_data", None)
    enc = getattr(env, "encodekey", None), getattr(env, "encodevalue", None)
    if type(data) is not dict or None in enc:
        env.clear()
        env.update(pairs)
        return
    new = dict((enc[0](k), enc[1](v)) for k, v in pairs.items())
    for key in [k for k in data if k not in new]:
        os.unsetenv(key)
        del data[key]
    for key, value in new.items():
        if data.get(key) != value:
            os.putenv(key, value)
            data[key] = value


def _enter_run(req):
    # a request's first six fields (uid, cpu seconds, address space, processes, file size, open files) and its
    # environment (fields 8 on): this process takes the environment and the limits; returns the uid and limits
    uid, cpu, as_, nproc, fsize, nofile = [int(x) for x in req[:6]]
    _set_environ(dict(kv.split("=", 1) for kv in req[8:] if "=" in kv))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (as_, as_))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    if nproc > 0:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    return uid, (cpu, as_, nproc, fsize, nofile)


def _callee_waiting(c_end, parent):
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: die with P
    if os.getppid() != parent:
        return
    msg, fds, _, _ = socket.recv_fds(c_end, 1 << 16, 2)
    if not msg.endswith(b"\0.") or len(fds) != 2:
        return  # P went away (EOF), or a run without tests: nothing to do
    try:
        req = msg[:-2].decode("utf-8", "surrogateescape").split("\0")
        path, stdlib_ok = req[6], req[7] == "1"
        # the state a C forked by P gets: stdin /dev/null, the run's output, the link on fd 3, nothing else
        high = [os.dup(fd) for fd in fds] + [os.dup(c_end.fileno())]
        null = os.open("/dev/null", os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(high[0], 1)
        os.dup2(high[1], 2)
        chan = os.dup2(high[2], 3, inheritable=False)
        os.closerange(4, 65536)
        c_end.detach()
        uid, _ = _enter_run(req)  # once only the run's fds are left
        os.chdir(os.path.dirname(path))
        # written by P; no process of the run's uid has run yet
        src = _read_fd(os.open(path, os.O_RDONLY | os.O_CLOEXEC))
    except BaseException as e:
        _fail(repr(e))
    _become_callee(chan, uid, stdlib_ok, parent, src, path)


def _become_callee(chan, uid, stdlib_ok, parent, src, path):
    # C's last steps, prepared or forked late: drop to the run's uid, tell T which isolation it got, then only
    # answer T's calls on ``chan`` until T is done; C never returns
    try:
        cflags = []
        _drop(cflags, uid, stdlib_ok, parent)
        RUNNER.send_msg(chan, ("S " + " ".join(cflags)).encode())
    except BaseException as e:
        _fail(repr(e))
    try:
        RUNNER.callee(chan, src.decode("utf-8", "surrogateescape"), path)
    finally:
        os._exit(1)


def _child(req, fds, pidns, test, prep=None):
    # P: the run's process.  With a pid namespace it is its pid 1, so when it
    # exits (or is killed) the kernel kills everything it left behind.
    # fds: stdout, stderr, the info pipe, the proof socket, the program, (TEST) the tests
    if prep is None:
        SOCK.close()
    try:
        if prep is None:
            os.setsid()
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: die with the zygote
        src = _read_fd(fds.pop(4))
        link = prep.callee[1] if prep is not None and prep.callee is not None else None
        high = [os.dup(fd) for fd in fds + ([link] if link is not None else [])]
        for fd in fds:
            os.close(fd)
        null = os.open("/dev/null", os.O_RDWR)
        os.dup2(null, 0)
        for target, fd in zip((1, 2, 3, PROOF_FD, JOB_FD if test else LINK_FD, LINK_FD), high):
            os.dup2(fd, target, inheritable=target != LINK_FD)
        if link is not None:  # the prepared C's link, now on LINK_FD
            prep.callee = (prep.callee[0], LINK_FD)
        os.closerange(JOB_FD + 1 if test else PROOF_FD + 1, LINK_FD)
        os.closerange(LINK_FD + 1, 65536)
    except Exception as e:
        _fail(repr(e))
    FD = 3
    flags = ["pid"] if pidns else []
    try:
        uid, limits = _enter_run(req)
        prog, work = req[6], req[7]
    except Exception as e:
        _fail(repr(e))
    late = prep is not None  # prepared before the request: the working directory may be covered by now
    if not late:
        try:
            os.chdir(work)  # before /tmp is covered: the fallback's working directory
        except OSError as e:
            _fail(repr(e))
        if ROOT:
            prep = _prepare(pidns, use_template=False)  # the template's fd went with the fd shuffle above
    if prep is not None and prep.error is not None:
        _fail(repr(prep.error))
    stdlib_ok = True
    if prep is not None:
        flags.extend(prep.flags)
        try:
            if "tmp" in flags:
                if uid >= 0:
                    os.chown("/tmp", uid, uid)
                dest = os.path.join("/tmp", os.path.basename(prog))
                fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
                try:
                    view = memoryview(src)
                    while view:
                        view = view[os.write(fd, view):]
                    if uid >= 0:
                        os.fchown(fd, uid, uid)
                finally:
                    os.close(fd)
            elif late:
                os.chdir(work)
        except OSError as e:
            _fail("could not write the program into the run's /tmp: %r" % (e,))
        if "host" in flags and late and not prep.top.issuperset(os.listdir("/")):
            # a top-level folder made since the sandbox was prepared is covered too
            new = [h for h in _host_dirs() if h not in prep.hosts]
            if not all(libc.mount(b"tmpfs", h.encode(), b"tmpfs", 2 | 4, b"mode=755,size=64k") == 0
                       for h in new):
                flags.remove("host")
        stdlib_ok = prep.stdlib_ok
    callee = prep.callee if prep is not None else None
    if test:
        _split(flags, FD, src, prog, work, uid, stdlib_ok, pidns, callee, limits)
    if callee is not None:  # prepared for a test run, this is a plain one: C goes before the program starts
        _kill(callee[0])
        try:
            os.waitpid(callee[0], 0)
        except OSError:
            pass
        os.close(callee[1])
    _drop(flags, uid, stdlib_ok, PARENT if not pidns else 0)
    try:
        os.write(FD, ("R " + " ".join(flags) + "\n").encode())
    except Exception as e:
        _fail(repr(e))
    _refuse_tracing()
    _program(flags, FD, src, prog, work)


def _drop(flags, uid, stdlib_ok, parent):
    # the run's own uid, no new privileges, the seccomp filter: what every process running model code gets
    try:
        if ROOT and stdlib_ok and uid >= 0:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            if os.getuid() != uid or os.geteuid() != uid or 0 in os.getgroups():
                raise OSError("could not drop privileges")
            flags.append("uid")
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PDEATHSIG again: a uid change clears it
        if os.getppid() != parent:  # 0: the parent is outside our pid namespace
            _fail("the sandbox server went away")
        if libc.prctl(38, 1, 0, 0, 0) == 0:  # PR_SET_NO_NEW_PRIVS
            flags.append("nonewprivs")
            if _deny_fd_theft():
                flags.append("seccomp")
    except Exception as e:
        _fail(repr(e))


def _split(flags, FD, src, prog, work, uid, stdlib_ok, pidns, callee, limits):
    # TEST runs: C (the solution, unprivileged, serving calls) is the prepared one (see _fork_callee), else forked
    # now; this process becomes T (the tests). T reads the tests only after C exists, and C holds no fd but its
    # output and its end of the link.
    if "tmp" in flags:
        work = "/tmp"
        os.environ["HOME"] = os.environ["TMPDIR"] = work
        os.chdir(work)
    path = os.path.join(work, os.path.basename(prog))
    cpid = None
    if callee is not None:
        cpid, t_end = callee
        t_end = socket.socket(fileno=t_end)
        msg = [str(uid)] + [str(x) for x in limits] + [path, "1" if stdlib_ok else "0"]
        msg += ["%s=%s" % kv for kv in os.environ.items()]
        try:
            socket.send_fds(t_end, ["\0".join(msg).encode("utf-8", "surrogateescape") + b"\0."], [1, 2])
        except OSError:  # it died: a fresh one
            _kill(cpid)
            t_end.close()
            cpid = None
    if cpid is None:
        try:
            t_end, c_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            me = os.getpid()
            cpid = os.fork()
        except Exception as e:
            _fail(repr(e))
    else:
        c_end = None
    if cpid == 0:
        try:
            t_end.close()
            for fd in (FD, PROOF_FD, JOB_FD):
                os.close(fd)
            raw = c_end.detach()
            chan = os.dup2(raw, 3, inheritable=False)
            if raw != chan:
                os.close(raw)
        except BaseException as e:
            _fail(repr(e))
        _become_callee(chan, uid, stdlib_ok, me, src, path)
    # T
    if c_end is not None:
        c_end.close()
    chan = t_end.detach()
    try:
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0: no /proc/<T>/mem for anyone without CAP_SYS_PTRACE
        job = _read_fd(JOB_FD)  # read while C sets itself up
        import json
        job = json.loads(job.decode("utf-8", "surrogatepass"))
        drop = ROOT and stdlib_ok and uid >= 0  # C takes the run's uid exactly then (see _drop)
        if drop:
            # the tests are benchmark code: they run unprivileged too, as a uid no solution ever has (so no
            # solution can signal or trace the runner), with no new privileges and the same seccomp filter;
            # done while C sets itself up
            os.setgroups([])
            os.setresgid(RUNNER_UID, RUNNER_UID, RUNNER_UID)
            os.setresuid(RUNNER_UID, RUNNER_UID, RUNNER_UID)
            if os.getuid() != RUNNER_UID or os.geteuid() != RUNNER_UID or 0 in os.getgroups():
                raise OSError("could not drop the runner's privileges")
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PDEATHSIG again: a uid change clears it
            if libc.prctl(38, 1, 0, 0, 0) != 0 or not _deny_fd_theft():
                raise OSError("could not restrict the runner")
            libc.prctl(4, 0, 0, 0, 0)  # non-dumpable again (a uid change resets it)
            sys.path.extend(TRUSTED_PATH)
        elif not ROOT:
            sys.path.extend(SITE_DIRS)  # without root the solution can read them anyway
        line = RUNNER.recv_msg(chan)  # C's setup report, sent before any of the solution runs
        if not line.startswith(b"S "):
            raise OSError("unexpected setup report %r" % (line[:100],))
        cflags = line.decode("ascii", "replace").split()[1:]
        if drop != ("uid" in cflags):
            raise OSError("the solution's process did not take the run's uid")
        if drop:
            cflags.append("runner")
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = "1"  # a package's thread pool would count against the runner uid's process limit
        os.write(FD, ("R " + " ".join(flags + cflags + ["split"]) + "\n").encode())
    except Exception as e:
        _fail("the solution's process failed its setup: %r" % (e,))
    ok = False
    link = {}
    try:
        ok = RUNNER.trusted(chan, job, lambda flag: os.write(FD, (flag + "\n").encode()), link)
    except BaseException as e:
        try:
            sys.stderr.write("sandbox: the test runner failed: %r\n" % (e,))
        except BaseException:
            pass
    if ok:
        try:
            os.close(chan)  # C sees the end of the link and exits while the proof is sent
        except OSError:
            pass
        try:
            os.write(PROOF_FD, os.read(PROOF_FD, 256))  # echo the harness' per-run secret
        except OSError:
            pass
        if not pidns:
            _kill(cpid)  # with a pid namespace the kernel ends C when T (its pid 1) exits
    else:
        _callee_status(cpid, FD, link.get("broken") is not None)
    os._exit(0 if ok else 1)


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def _callee_status(cpid, FD, died):
    # a failed run: if the solution's process died (not killed by us), say whether a limit ended it, for the
    # harness' classification
    _kill(cpid)  # refused once the runner has its own uid: then C ends with T, pid 1 of its namespace
    if not died:
        return
    st = ru = None
    for _ in range(100):  # C closed the link: it is dead or dying; a live one (a protocol error) is not awaited
        try:
            pid, st, ru = os.wait4(cpid, os.WNOHANG)
        except OSError:
            return
        if pid:
            break
        time.sleep(0.005)
    if ru is None:
        return
    if os.WIFSIGNALED(st):
        sig = os.WTERMSIG(st)
        try:
            cpu_limit = resource.getrlimit(resource.RLIMIT_CPU)[0]
            as_limit = resource.getrlimit(resource.RLIMIT_AS)[0]
        except (OSError, ValueError):
            return
        flag = None
        if sig == signal.SIGXCPU or (cpu_limit > 0 and ru.ru_utime + ru.ru_stime >= cpu_limit - 0.05):
            flag = "T"
        elif sig != signal.SIGKILL and as_limit > 0 and ru.ru_maxrss * 1024 >= 0.9 * as_limit:
            flag = "M"
        if flag:
            try:
                os.write(FD, (flag + "\n").encode())
            except OSError:
                pass


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def _fd_theft_filter():
    # A seccomp filter (inherited by every thread and child the program makes) that fails (EPERM):
    # * the calls reaching into another process' or thread's files or memory: pidfd_getfd (438 on every
    #   architecture; it could copy the guard thread's proof socket), on x86-64 also ptrace and
    #   process_vm_readv/writev;
    # * io_uring (425-427 everywhere): its own path to the kernel, outside this filter;
    # * the kernel keyring (add_key, request_key, keyctl; x86-64): keys outlive the run in the uid's keyring;
    # * socket(AF_UNIX, ...) (x86-64): a path-based unix socket of the host is reachable from any network
    #   namespace; socketpair() stays (asyncio needs it, and a pair reaches nothing outside).
    # Built once here.
    LD, JEQ, AND, RET = 0x20, 0x15, 0x54, 0x06
    allow, deny = 0x7FFF0000, 0x00050000 | 1  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM
    everywhere = (425, 426, 427, 438)
    x86_64 = (101, 310, 311, 248, 249, 250)
    code, labels = [], {}

    def emit(op, k, jt=None, jf=None):
        code.append([op, jt, jf, k])

    emit(LD, 4)                               # A = arch
    emit(JEQ, 0xC000003E, None, "other")      # x86-64?
    emit(LD, 0)                               # A = nr
    emit(AND, 0xBFFFFFFF)                     # A &= ~__X32_SYSCALL_BIT
    for nr in x86_64 + everywhere:
        emit(JEQ, nr, "deny")
    emit(JEQ, 41, None, "allow")              # socket(family, ...)
    emit(LD, 16)                              # A = low half of args[0]
    emit(JEQ, 1, "deny", "allow")             # AF_UNIX
    labels["other"] = len(code)
    emit(LD, 0)                               # other architectures: A = nr
    for nr in everywhere:
        emit(JEQ, nr, "deny")
    labels["allow"] = len(code)
    emit(RET, allow)
    labels["deny"] = len(code)
    emit(RET, deny)
    prog = []
    for i, (op, jt, jf, k) in enumerate(code):
        jt = 0 if jt is None else labels[jt] - i - 1
        jf = 0 if jf is None else labels[jf] - i - 1
        prog.append((op, jt, jf, k))
    arr = (_SockFilter * len(prog))(*[_SockFilter(*ins) for ins in prog])
    return arr, _SockFprog(len(prog), arr)


FD_THEFT_FILTER = _fd_theft_filter()


def _deny_fd_theft():
    # PR_SET_SECCOMP, SECCOMP_MODE_FILTER (needs no_new_privs)
    return libc.prctl(22, 2, ctypes.byref(FD_THEFT_FILTER[1]), 0, 0) == 0


def _finish(code, write=None, go=None, read=None, ack=None):
    # what the interpreter does at exit: join threads, atexit, flush; then, from the proof point, wake the
    # guard, which sends the proof and ends the process (if it does not, the run exits without proof)
    try:
        th = sys.modules.get("threading")
        if th is not None:
            th._shutdown()
    except BaseException:
        pass
    try:
        atexit._run_exitfuncs()
    except BaseException:
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    if go is not None:
        try:
            write(go, b"G")
            while read(ack, 1):  # the guard exits the process; EOF: it gave up
                pass
        except BaseException:
            pass
    os._exit(code)


def _exit_code(code):
    if code is None:
        return 0
    if isinstance(code, int) and not isinstance(code, bool):
        return code & 0xFF
    try:
        sys.stderr.write("%s\n" % (code,))
    except BaseException:
        pass
    return 1


def _guard(proof, go, ack, main_frame, proof_line, read, write, exit):
    # The guard thread: the only holder of the run's proof socket.  It keeps the file table it was born with,
    # which the main thread then leaves (see _start_guard): the socket is in no table the program's threads
    # use, so they cannot write, dup or close it.  On each wake-up it looks at _program's frame itself: the
    # proof is sent only while that frame stands on the proof point line, which it reaches only when exec()
    # returned normally (nothing jumps there: tracing is refused), and after the program's exit handlers
    # ran; then the guard ends the process.  Everything it uses was bound before the program started.  If it
    # gives up instead, its file table (with `ack`) goes with it: the main thread wakes and exits unproven.
    try:
        while True:
            if not read(go, 1):
                return
            if main_frame.f_lineno == proof_line:
                write(proof, read(proof, 256))  # echo the harness' per-run secret, read only now
                exit(0)
            # woken by someone else (the program can write to `go`): not the end of the tests, keep waiting
    except BaseException:
        return


def _start_guard():
    # start the guard, then give this (the main) thread a file table of its own without the proof socket and
    # the guard's ends of its pipes: every thread and process the program makes shares this new table
    go_r, go_w = os.pipe()
    ack_r, ack_w = os.pipe()
    caller = sys._getframe(1)
    _thread.start_new_thread(_guard, (PROOF_FD, go_r, ack_w, caller, PROOF_LINE, os.read, os.write, os._exit))
    if libc.unshare(CLONE_FILES) != 0:
        _fail("could not unshare the file table (errno %d)" % ctypes.get_errno())
    for fd in (PROOF_FD, go_r, ack_w):
        os.close(fd)
    return go_w, ack_r


def _program(flags, FD, src, prog, work):
    if "tmp" in flags:  # the workdir is now /tmp; otherwise keep the cwd (= workdir)
        work = "/tmp"
        os.environ["HOME"] = os.environ["TMPDIR"] = work
        os.chdir(work)
    path = os.path.join(work, os.path.basename(prog))
    sys.argv[:] = [path]
    main = type(sys)("__main__")
    main.__file__ = path
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    go, ack = _start_guard()
    write, read = os.write, os.read
    reserve = [bytearray(256 * 1024)]  # freed before a MemoryError is reported, so that reporting has room
    try:
        # compiled as text: a coding cookie in the program cannot re-decode the tests that follow it
        exec(compile(src.decode("utf-8", "surrogateescape"), path, "exec"), main.__dict__)
    except BaseException as e:
        _failed(e, FD, reserve)  # in its own frame: no code of the program runs in this one
    _finish(0, write, go, read, ack)  # <- the proof point: reached only when exec() returned normally




def _failed(e, FD, reserve):
    # the program raised (SystemExit included): report it the way the interpreter would, and exit
    reserve.clear()
    if isinstance(e, SystemExit):
        _finish(_exit_code(e.code))
    if isinstance(e, MemoryError):
        try:
            os.write(FD, b"M\n")
        except OSError:
            pass
    tb = e.__traceback__
    tb = tb.tb_next if tb is not None else None  # hide the sandbox's frame
    try:
        sys.excepthook(type(e), e, e.with_traceback(tb).__traceback__)
    except BaseException:
        pass
    _finish(1)


def _refuse_tracing():
    # An audit hook (they cannot be removed from Python code): a trace function may set a frame's f_lineno,
    # which jumps over the rest of a module or function - over the tests.  No reference to it is kept.
    refused = REFUSED_EVENTS

    def hook(event, args):
        if event in refused:
            raise RuntimeError("sandbox: %s is disabled (tracing could skip the tests)" % event)

    sys.addaudithook(hook)


def _fork(run, *args):
    # fork P, pid 1 of a fresh pid namespace: run(pidns, *args) in the child, which never returns; the pid (-1: no
    # fork)
    pidns = OWN_PIDNS >= 0 and libc.unshare(CLONE_NEWPID) == 0
    try:
        pid = os.fork()
    except OSError:
        pid = -1
    if pid == 0:
        try:
            run(pidns, *args)
        finally:
            os._exit(SETUP_EXIT)
    if pidns:  # back to our own namespace for our own future children
        libc.setns(OWN_PIDNS, CLONE_NEWPID)
    return pid


def _fresh(pidns, req, fds, test):
    # a P forked for the request at hand: it builds its sandbox itself
    _child(req, list(fds), pidns, test)


def _prepare_next(test):
    # the next run's P, its sandbox built now (while the current run executes), with a waiting C if the next run
    # is expected to be a test run as this one: (pid, control socket) or None
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        pid = _fork(_prepared, ours, theirs, test)
    finally:
        theirs.close()
    if pid < 0:
        ours.close()
        return None
    return pid, ours


def _reap(pid):
    _kill_now(pid)
    try:
        os.waitpid(pid, 0)
    except OSError:
        pass


def _serve():
    # a prepared P dies with the zygote (PR_SET_PDEATHSIG), so none outlives it
    ready = _prepare_next(True) if ROOT else None
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(SOCK, 1 << 16, 8)
        except OSError:
            return
        if not msg:
            return
        req = msg.decode("utf-8", "surrogateescape").split("\0")
        test = req[0] == "TEST"
        if not ((req[0] == "RUN" and len(fds) == 5) or (test and len(fds) == 6)):
            for fd in fds:
                os.close(fd)
            if req[0] == "K":  # a kill request that crossed the run's end: nothing to do
                continue
            return
        pid = -1
        if ready is not None:  # hand the request to the prepared P
            pid, ctrl = ready
            ready = None
            try:
                socket.send_fds(ctrl, [msg], fds)
            except OSError:  # it died while preparing: a fresh one below
                _reap(pid)
                pid = -1
            ctrl.close()
        if pid < 0:
            pid = _fork(_fresh, req[1:], fds, test)
        for fd in fds:
            os.close(fd)
        if pid < 0:
            SOCK.send(b"E -1 0 0")
            continue
        SOCK.send(b"P %d" % pid)
        if ROOT:
            ready = _prepare_next(test)
        pidfd = os.pidfd_open(pid)
        waiter = select.poll()
        waiter.register(pidfd, select.POLLIN)
        waiter.register(SOCK, select.POLLIN)
        gone = False
        while True:
            events = dict(waiter.poll())
            if pidfd in events:
                break
            if SOCK.fileno() in events:
                data = b""
                try:
                    data = SOCK.recv(64)
                except OSError:
                    pass
                if data == b"K":
                    _kill_now(pid)
                elif not data:  # the harness went away: tear the run down, then stop
                    gone = True
                    _kill_now(pid)
                    waiter.unregister(SOCK)
        os.close(pidfd)
        _, st, ru = os.wait4(pid, 0)
        if gone:
            return
        SOCK.send(("E %d %r %d" % (st, ru.ru_utime + ru.ru_stime, ru.ru_maxrss)).encode())


def _kill_now(pid):
    # SIGKILL to pid 1 of the namespace takes all of it down; the group kill
    # covers the no-namespace case (the harness scans for the rest)
    for kill in (os.kill, os.killpg):
        try:
            kill(pid, signal.SIGKILL)
        except OSError:
            pass


# objects that exist now are never collected: keeps the collector from touching
# (and so copying) the zygote's pages in every forked run
if __name__ == "__main__":  # run with -c by sandbox.py; importing this file must not start a server
    if ROOT:
        _start_template()
    gc.collect()
    gc.freeze()
    try:  # hand the heap's free pages back (the compiler's among them): fewer pages to copy at every fork
        libc.malloc_trim(0)
    except AttributeError:  # not glibc
        pass
    _serve()
