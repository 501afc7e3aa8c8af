"""Run untrusted, model-written Python programs in a throwaway sandbox.

The public API is :func:`run` and :func:`run_many`; both return
:class:`SandboxResult` objects and never raise for a misbehaving program (only
for bad arguments, with :class:`ValueError`).

Process layout::

    harness (this process; run_many: one thread per worker)
      └─ zygote  warm ``python -I -S -B`` server, root, one per busy worker, reused
          ├─ template  holds the mounts every run shares (read-only), made once
          └─ P   one per program: pid 1 of a fresh pid namespace; built (namespaces, mounts) while the previous
                 run executes, then handed the request; it drops to the run's uid and runs the program, or (test
                 runs) becomes the trusted runner T of the tests, its child C serving the solution's calls

Programs see only the standard library (``-S``: no site-packages; ``exit`` and
``quit`` are provided anyway); common modules (typing, re, math, ...) are
imported once by the zygote, which forks one process per program, so a run
costs a fork instead of an interpreter start.  The harness talks to its zygote
over a socketpair, passing the stdout/stderr capture files and a status pipe.

Isolation, when the harness runs as root (the normal case on the project's
machines):

* every concurrent run gets its own unprivileged uid/gid (no passwd entry, no
  supplementary groups, ``no_new_privs``), so ``RLIMIT_NPROC`` is enforced
  (root is exempt from it) and counts only that run's processes and threads;
  the program cannot write outside its working directory, and it cannot signal,
  trace or inspect the harness;
* fresh pid, mount and IPC namespaces: when the program's main
  process exits (or the run is killed) the kernel kills every process left in
  the pid namespace, including double-forked ``setsid`` daemons; a network
  namespace with no usable interface (not even loopback), one per zygote, joined
  by its runs one after another (never by two runs at once; see
  ``_sandbox_zygote.NET_NS``); ``/tmp``,
  ``/var/tmp``, ``/dev/shm`` and ``/run/lock`` are bind mounts of the run's
  working directory, so the program sees none of the harness' temporary files
  and whatever it leaves there is deleted with the working directory; ``/proc``
  is remounted so that only the run's own processes are visible; a Python
  installed under a directory others cannot enter (pyenv under ``/root``) is
  exposed read-only on an otherwise empty tmpfs.

Test runs (:func:`run_tests`, what code scoring uses): the run's process forks the solution's process, which
drops privileges and serves calls, and stays the trusted runner of the benchmark's tests; it alone holds the
proof socket and echoes the secret when the tests ran to their end.  Only plain data crosses between the two
(see ``_sandbox_runner``): nothing the solution does to its own interpreter changes what the tests see.

Proof of completion of a plain program (:func:`run`): a run passes only if its guard thread (see
``_sandbox_zygote._guard``) echoes the per-run secret the harness put in the run's proof socket.  The guard
holds that socket in a file table no thread of the program shares, and sends only while the main thread stands
on the harness' proof point, which follows a normal return of ``exec()``; seccomp fails
``pidfd_getfd``/``ptrace``/``process_vm_*`` and an audit hook refuses ``sys.settrace``.  Code that writes the
process' memory (ctypes) is not stopped by this (test runs do not depend on it); see README "Sandbox for code
tasks".

Harness faults (a killed server, a failed fork, a broken pipe, a failed setup) rerun the program on a fresh
server; after :data:`HARNESS_ATTEMPTS` the result is ``status="error"``.

Limits: RLIMIT_AS (``memory_mb`` per process, and the run's total proportional
memory is watched), RLIMIT_CPU, RLIMIT_NPROC, RLIMIT_FSIZE (caps the captured
output too), RLIMIT_NOFILE, no core dumps, a wall-clock timeout.

Without root the sandbox degrades to resource limits, a minimal environment, a
throwaway directory and a kill of the process group plus a ``/proc`` scan for
the run's marker environment variable (see :func:`isolation`).
"""

from __future__ import annotations

import atexit
import hmac
import math
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "MARKER_ENV",
    "OUTPUT_CAP",
    "SandboxResult",
    "TestJob",
    "isolation",
    "run",
    "run_many",
    "run_tests",
    "run_tests_many",
]

#: bytes of stdout / stderr kept in a :class:`SandboxResult`
OUTPUT_CAP = 64 * 1024
#: RLIMIT_FSIZE: largest file (including the stdout/stderr capture files) a program may write
FILE_SIZE_LIMIT = 16 * 1024 * 1024
#: RLIMIT_NPROC for a run: processes *and threads* of the program together
MAX_PROCESSES = 32
#: RLIMIT_NOFILE for a run
MAX_OPEN_FILES = 256
#: size of a run's private /tmp (a tmpfs, also its /var/tmp, /dev/shm and /run/lock; root only)
TMP_SIZE_MB = 128
#: smallest accepted ``memory_mb`` (the interpreter itself needs ~20 MiB of address space)
MIN_MEMORY_MB = 32
#: environment variable carrying a per-run random token (the workdir name contains it too)
MARKER_ENV = "THINKPACK_SANDBOX_RUN"
#: prefix of the per-run working directories created in the harness' temp directory
WORKDIR_PREFIX = "thinkpack-sandbox-"

#: attempts a program gets when the harness (not the program) fails: a killed server, a failed fork, a broken pipe
HARNESS_ATTEMPTS = 3

_PROGRAM_NAME = "program.py"
_WATCH_INTERVAL = 0.2  # seconds between checks of the run's total resident memory
_KILL_GRACE = 3.0  # seconds the bootstrap gets to tear its pid namespace down
_MAX_IDLE_ZYGOTES = 16  # warm servers kept per interpreter
_UID_BASE = 1_100_000_000  # sandbox uids: base + (harness pid % 2**22) * 64 + slot
_UID_SLOTS = 64
_PID_MOD = 1 << 22
_STATUSES = ("passed", "failed", "timeout", "memory", "error")

# The zygote: a warm interpreter started once per harness worker
# (``python -I -S -B -c _BOOT <socket fd> <preload> ... _ZYGOTE``) that forks one P per
# program.  It must stay compatible with older interpreters (``python=``, 3.9+).
_ZYGOTE = (Path(__file__).resolve().parent / "_sandbox_zygote.py").read_text()
# the trusted test runner (and the solution's call server), loaded once by every zygote
_RUNNER_PATH = str(Path(__file__).resolve().parent / "_sandbox_runner.py")

# the line of _program's proof point: the guard thread checks that the main thread stands on it
_PROOF_LINE, = (i for i, line in enumerate(_ZYGOTE.splitlines(), 1) if "# <- the proof point" in line)
# The zygote's ``-c`` program: it compiles the zygote (its source is the last argument, taken off ``sys.argv``)
# and the runner in a child and only loads their code objects, so the compiler's memory (~3 MB of heap and
# arenas it leaves fragmented) is never the zygote's, whose every page each run's forks copy; then it runs the
# zygote as ``__main__``.  Without a child (a failed fork), it compiles them itself.
_BOOT = """import marshal, os, sys
def _boot():
    src, runner, pid = sys.argv.pop(7), sys.argv[4], -1
    r, w = os.pipe()
    try:
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                with open(runner, "rb") as f:
                    data = marshal.dumps((compile(src, "<string>", "exec"), compile(f.read(), runner, "exec")))
                while data:
                    data = data[os.write(w, data):]
            finally:
                os._exit(0)
        os.close(w)
        w, chunks = -1, []
        while True:
            b = os.read(r, 1 << 20)
            if not b:
                break
            chunks.append(b)
        return marshal.loads(b"".join(chunks))
    except Exception:
        return compile(src, "<string>", "exec"), None
    finally:
        for fd in (r, w):
            if fd >= 0:
                os.close(fd)
        if pid > 0:
            os.waitpid(pid, 0)
_code, RUNNER_CODE = _boot()
del _boot
exec(_code)
"""

def _harness_dirs() -> list[str]:
    """Where the harness is run from, the project is imported from and the Hugging Face caches sit: a run
    sees them empty wherever they are (a checkout under ``/var/lib/ci``), beside every top-level folder that
    is not the system's (the zygote's ``_host_dirs``).  Folders the interpreter runs from, ``/tmp`` and
    ``/var/tmp`` (a run has its own) are left to the zygote's other mounts."""
    found = []
    extra = [os.getcwd(), str(Path(__file__).resolve().parent.parent)]
    extra += [os.environ[v] for v in ("HF_HOME", "HF_DATASETS_CACHE", "HUGGINGFACE_HUB_CACHE", "XDG_CACHE_HOME")
              if os.environ.get(v)]
    for d in extra:
        d = os.path.realpath(d)
        parts = Path(d).parts
        if (len(parts) >= 3 and parts[1] not in ("usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32",
                                                  "boot", "dev", "proc", "sys", "run", "tmp", "nix", "gnu", "snap")
                and parts[1:3] != ("var", "tmp") and os.path.isdir(d) and "\n" not in d and d not in found):
            found.append(d)
    return found

# modules the zygote imports once so that every program finds them loaded
_PRELOAD = (
    "typing,math,re,collections,itertools,functools,heapq,bisect,string,hashlib,random,"
    "copy,operator,fractions,statistics,json,decimal,datetime"
)


@dataclass(frozen=True)
class SandboxResult:
    """Outcome of one sandboxed program.

    ``status`` is one of ``"passed"`` (the harness received the run's proof that
    the program ran to its end; no exit status counts), ``"failed"`` (it did not:
    an uncaught exception, any exit before its end - exit code 0 included -, a
    signal), ``"timeout"`` (wall clock or CPU limit), ``"memory"`` (``MemoryError``
    or memory limit) and ``"error"`` (the harness failed on every one of
    :data:`HARNESS_ATTEMPTS` attempts: never a verdict on the program).  ``returncode`` is the
    program's exit code, ``-N`` if it was killed by signal ``N``, ``None`` if it
    never ran.  ``stdout``/``stderr`` are decoded as UTF-8 and truncated to
    :data:`OUTPUT_CAP` bytes.  ``duration`` is wall-clock seconds.
    """

    status: str
    returncode: int | None
    stdout: str
    stderr: str
    duration: float

    def __post_init__(self) -> None:
        if self.status not in _STATUSES:
            raise ValueError(f"status must be one of {_STATUSES}, not {self.status!r}")

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass(frozen=True)
class TestJob:
    """A solution and the benchmark's tests, for :func:`run_tests`.

    ``solution`` is the model's program (imported as module ``solution`` in the sandboxed callee: its
    ``if __name__ == "__main__":`` block does not run). ``tests`` is benchmark code, run in the trusted runner
    with every name the solution defines bound to a stand-in that calls it (``check(candidate)`` must be called
    by ``tests`` itself). ``prompt`` is benchmark code too (HumanEval's prompt): its helpers other than
    ``entry_point`` are the runner's own, so the tests use the benchmark's ``poly``, never the solution's.
    """

    __test__ = False  # not a pytest class

    solution: str
    tests: str
    entry_point: str = ""
    prompt: str = ""

    def __post_init__(self) -> None:
        for name in ("solution", "tests", "entry_point", "prompt"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"TestJob.{name} must be a str, not {type(getattr(self, name)).__name__}")


# ---------------------------------------------------------------- arguments


def _check_timeout(timeout: object) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise ValueError(f"timeout must be a number of seconds, not {timeout!r}")
    if not math.isfinite(timeout) or timeout <= 0:
        raise ValueError(f"timeout must be a finite number > 0, not {timeout!r}")
    return float(timeout)


def _check_memory(memory_mb: object) -> int:
    if isinstance(memory_mb, bool) or not isinstance(memory_mb, int):
        raise ValueError(f"memory_mb must be an int (MiB), not {memory_mb!r}")
    if memory_mb < MIN_MEMORY_MB:
        raise ValueError(f"memory_mb must be >= {MIN_MEMORY_MB}, not {memory_mb}")
    return memory_mb


def _check_program(program: object, what: str = "program") -> str:
    if not isinstance(program, str):
        raise ValueError(f"{what} must be a str, not {type(program).__name__}")
    return program


def _check_python(python: object) -> str:
    if python is None:
        python = sys.executable
    if not isinstance(python, str) or not python:
        raise ValueError(f"python must be a non-empty path to an interpreter, not {python!r}")
    return python


# ----------------------------------------------------------- uid allocation


class _UidPool:
    """Hands out one unprivileged uid per concurrent run.

    The search starts in a range derived from the harness pid, and every uid is claimed with an ``flock`` on
    ``/run/lock/thinkpack-sandbox-uid-<uid>.lock`` (held for the run): two evaluations on one machine never
    share a uid at the same time, even with equal pids (containers, pid namespaces), so ``RLIMIT_NPROC``
    (counted per uid) stays per run. At most :data:`_UID_SLOTS` runs per harness process at once.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._held: dict[int, int] = {}  # uid -> fd of its lock file
        self._pid = -1

    @staticmethod
    def _lock_path(uid: int) -> str:
        base = "/run/lock" if os.path.isdir("/run/lock") and os.access("/run/lock", os.W_OK) else tempfile.gettempdir()
        return os.path.join(base, f"thinkpack-sandbox-uid-{uid}.lock")

    @classmethod
    def _claim(cls, uid: int) -> int | None:
        import fcntl

        path = cls._lock_path(uid)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(fd).st_ino != os.stat(path, follow_symlinks=False).st_ino:
                raise OSError("lock file replaced")  # released and unlinked by its holder meanwhile
        except OSError:
            os.close(fd)
            return None
        return fd

    def acquire(self) -> int:
        with self._cond:
            if self._pid != os.getpid():  # first use, or we are a forked copy: its locks are not ours
                self._pid, self._held = os.getpid(), {}
            while len(self._held) >= _UID_SLOTS:
                self._cond.wait()
            first = (self._pid % _PID_MOD) * _UID_SLOTS
            for i in range(_PID_MOD * _UID_SLOTS):
                uid = _UID_BASE + (first + i) % (_PID_MOD * _UID_SLOTS)
                if uid in self._held:
                    continue
                fd = self._claim(uid)
                if fd is not None:
                    self._held[uid] = fd
                    return uid
        raise OSError("no free sandbox uid")  # pragma: no cover - 2**28 uids all claimed

    def release(self, uid: int) -> None:
        with self._cond:
            fd = self._held.pop(uid, None) if self._pid == os.getpid() else None
            if fd is not None:
                try:
                    os.unlink(self._lock_path(uid))  # unlinked while still locked: see _claim's inode check
                except OSError:
                    pass
                os.close(fd)
            self._cond.notify()


_UIDS = _UidPool()


# ----------------------------------------------------------- /proc scanning


def _proc_status(pid: str) -> dict[str, str] | None:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            data = f.read().decode("ascii", "replace")
    except OSError:
        return None
    out = {}
    for line in data.splitlines():
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out


def _has_marker(pid: str, marker: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return marker in f.read()
    except OSError:
        return False


def _run_processes(uid: int | None, marker: bytes) -> list[tuple[int, int]]:
    """(pid, rss KiB) of live processes of a run: by uid when we have one, else by marker."""
    found = []
    me = os.getpid()
    try:
        names = os.listdir("/proc")
    except OSError:
        return found
    for name in names:
        if not name.isdigit() or int(name) == me:
            continue
        st = _proc_status(name)
        if st is None or st.get("State", "").startswith(("Z", "X")):
            continue
        if uid is not None:
            uids = st.get("Uid", "").split()
            if str(uid) not in uids[:2]:
                continue
        elif not _has_marker(name, marker):
            continue
        found.append((int(name), _memory_kb(name, st)))
    return found


def _memory_kb(pid: str, status: dict[str, str]) -> int:
    """Proportional set size (shared pages split between their users), else RSS."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    rss = status.get("VmRSS", "0 kB").split()[0]
    return int(rss) if rss.isdigit() else 0


def _kill_leftovers(uid: int | None, marker: bytes) -> None:
    """SIGKILL every process of the run until none is left (bounded)."""
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        procs = _run_processes(uid, marker)
        if not procs:
            return
        for pid, _ in procs:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)


def _user_tasks(uid: int) -> int:
    """Tasks (threads included) currently owned by ``uid``: RLIMIT_NPROC's count."""
    total = 0
    try:
        names = os.listdir("/proc")
    except OSError:
        return 0
    for name in names:
        if name.isdigit():
            st = _proc_status(name)
            if st and st.get("Uid", "").split()[:1] == [str(uid)]:
                threads = st.get("Threads", "1")
                total += int(threads) if threads.isdigit() else 1
    return total


# ---------------------------------------------------------------- running


def _read_capped(f) -> str:
    size = os.fstat(f.fileno()).st_size
    f.seek(0)
    data = f.read(OUTPUT_CAP)
    text = data.decode("utf-8", "replace")
    if size > OUTPUT_CAP:
        text += f"\n[sandbox: output truncated, {size} bytes written, {OUTPUT_CAP} kept]\n"
    return text


def _work_base(is_root: bool) -> str | None:
    """Where runs' working directories are made. As root, a run works in a tmpfs of its own and its working
    directory is only the fallback's: it goes to ``/dev/shm`` (memory), since removing a directory from a disk
    mounted with ``discard`` costs ~3 ms (measured on the project's machine). Else the temp directory."""
    if is_root and os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK | os.X_OK):
        return "/dev/shm"
    return None


def work_dirs() -> list[str]:
    """The run working directories that exist now (of any harness on this machine): none outlives its run."""
    import glob

    found = set()
    for base in {"/dev/shm", tempfile.gettempdir()}:
        found.update(glob.glob(os.path.join(base, f"{WORKDIR_PREFIX}*")))
    return sorted(found)


def _scratch_file():
    """An anonymous read-write file (stdout, stderr, the tests): in memory, no file system work."""
    try:
        return open(os.memfd_create("thinkpack-sandbox", os.MFD_CLOEXEC), "w+b")  # noqa: SIM115
    except (AttributeError, OSError):
        return tempfile.TemporaryFile()


def _minimal_env(workdir: str, token: str) -> dict[str, str]:
    # built from scratch: nothing of the harness' environment (tokens, keys) is inherited
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": workdir,
        "TMPDIR": workdir,
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        MARKER_ENV: token,
    }


def _classify(
    rc: int, killed: str | None, info: bytes, cpu: float, cpu_limit: int, maxrss_kb: int, memory_mb: int
) -> str:
    """Status of a run that sent no proof of completion (it never counts as passed)."""
    lines = info.decode("ascii", "replace").splitlines()
    if killed is not None:
        return killed  # "timeout" (wall clock) or "memory" (the run's total resident memory)
    if "M" in lines[1:]:
        return "memory"  # uncaught MemoryError (RLIMIT_AS)
    if "T" in lines[1:]:
        return "timeout"  # the solution's process of a test run reached its CPU limit
    if rc >= 0:
        return "failed"  # no proof: whatever the exit status, the program did not run to its end
    sig = -rc
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= cpu_limit - 0.05):
        return "timeout"  # RLIMIT_CPU
    if maxrss_kb >= 0.9 * memory_mb * 1024 and sig in (
        signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS
    ):
        return "memory"  # died at the address-space limit, or the kernel's OOM killer
    return "failed"


class _ZygoteError(Exception):
    pass


class _Zygote:
    """A warm interpreter that forks one sandboxed run at a time, on request."""

    def __init__(self, python: str) -> None:
        import socket

        self.python = python
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = subprocess.Popen(
                [python, "-I", "-S", "-B", "-c", _BOOT, str(theirs.fileno()), _PRELOAD, str(_PROOF_LINE),
                 _RUNNER_PATH, str(TMP_SIZE_MB * 1024), "\n".join(_harness_dirs()), _ZYGOTE],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                close_fds=True,
                cwd="/",
                env=_minimal_env("/nonexistent", ""),
                start_new_session=True,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.sock = ours
        self.poller = select.poll()
        self.poller.register(ours, select.POLLIN)

    def recv(self, seconds: float | None) -> bytes | None:
        """Next message, ``None`` if none came within ``seconds``; EOF raises."""
        ms = None if seconds is None else max(0, int(seconds * 1000) + 1)
        if not self.poller.poll(ms):
            return None
        data = self.sock.recv(256)
        if not data:
            raise _ZygoteError("the sandbox server exited")
        return data

    def close(self) -> None:
        self.sock.close()  # EOF: the zygote tears down whatever runs and exits
        try:
            self.proc.wait(_KILL_GRACE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class _ZygotePool:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[str, list[_Zygote]] = {}
        self._pid = os.getpid()

    def acquire(self, python: str) -> _Zygote:
        with self._lock:
            if self._pid != os.getpid():  # a forked copy of the harness: start afresh
                self._pid, self._idle = os.getpid(), {}
            idle = self._idle.get(python)
            if idle:
                return idle.pop()
        return _Zygote(python)

    def release(self, zygote: _Zygote, healthy: bool) -> None:
        if healthy and zygote.proc.poll() is None:
            with self._lock:
                idle = self._idle.setdefault(zygote.python, [])
                if self._pid == os.getpid() and len(idle) < _MAX_IDLE_ZYGOTES:
                    idle.append(zygote)
                    return
        zygote.close()

    def close_all(self) -> None:
        with self._lock:
            zygotes = [z for idle in self._idle.values() for z in idle] if self._pid == os.getpid() else []
            self._idle = {}
        for zygote in zygotes:
            zygote.close()


_ZYGOTES = _ZygotePool()
atexit.register(_ZYGOTES.close_all)


class _HarnessFault(Exception):
    """The harness, not the program, failed this attempt: the program is run again on a fresh server."""


def _run_one(program: str, timeout: float, memory_mb: int, python: str,
             job: TestJob | None = None) -> tuple[SandboxResult, str]:
    """Run ``program`` (or ``job``); an attempt lost to a harness fault is retried, up to
    :data:`HARNESS_ATTEMPTS` in all."""
    start = time.monotonic()
    size = len((program if job is None else job.solution).encode("utf-8", "surrogatepass"))
    if size > FILE_SIZE_LIMIT:  # it could not be written where the program runs: its own failure, not the harness'
        why = f"sandbox: the program is {size} bytes, more than the file size limit ({FILE_SIZE_LIMIT})\n"
        return SandboxResult("failed", None, "", why, time.monotonic() - start), ""
    faults = []
    for _ in range(HARNESS_ATTEMPTS):
        try:
            return _attempt(program, timeout, memory_mb, python, job)
        except _HarnessFault as e:
            faults.append(str(e))
    dur = time.monotonic() - start
    detail = "; ".join(dict.fromkeys(faults))
    return SandboxResult("error", None, "", f"sandbox: harness failure ({len(faults)} attempts): {detail}\n", dur), ""


def _attempt(program: str, timeout: float, memory_mb: int, python: str,
             job: TestJob | None = None) -> tuple[SandboxResult, str]:
    import json
    import socket

    start = time.monotonic()
    is_root = os.geteuid() == 0
    token = uuid.uuid4().hex
    marker = f"{MARKER_ENV}={token}".encode()
    uid = _UIDS.acquire() if is_root else None
    cpu_limit = int(math.ceil(timeout)) + 1
    workdir = None
    files: list = []
    fds: list[int] = []
    socks: list = []
    zygote = None
    healthy = False
    pid = None
    try:
        workdir = tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{token}-", dir=_work_base(is_root))
        os.chmod(workdir, 0o700)
        if uid is not None:
            os.chown(workdir, uid, uid)
        if job is not None:
            program = job.solution
        prog_path = os.path.join(workdir, _PROGRAM_NAME if job is None else "solution.py")
        with open(prog_path, "wb") as f:
            f.write(program.encode("utf-8", "surrogatepass"))
        prog_file = open(prog_path, "rb")  # noqa: SIM115 - the run reads it from this fd (its /tmp is covered)
        files.append(prog_file)
        out = _scratch_file()
        files.append(out)
        err = _scratch_file()
        files.append(err)
        passed_fds = [out.fileno(), err.fileno()]
        if job is not None:
            # the tests: an unlinked file outside the run's directory, read by the trusted runner only
            tests = _scratch_file()
            files.append(tests)
            tests.write(json.dumps({"tests": job.tests, "prompt": job.prompt, "entry_point": job.entry_point})
                        .encode("utf-8", "surrogatepass"))
            tests.flush()
            tests.seek(0)
        rfd, wfd = os.pipe()
        fds += [rfd, wfd]
        # the proof channel: the run's guard thread echoes the secret only after the tests returned
        proof, proof_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        socks += [proof, proof_theirs]
        secret = secrets.token_bytes(32)
        proof.send(secret)
        nproc = MAX_PROCESSES + 1 if is_root else _user_tasks(os.getuid()) + MAX_PROCESSES + 2
        request = [
            "RUN" if job is None else "TEST", str(uid if uid is not None else -1), str(cpu_limit),
            str(memory_mb * 1024 * 1024), str(nproc), str(FILE_SIZE_LIMIT), str(MAX_OPEN_FILES), prog_path, workdir,
        ] + [f"{k}={v}" for k, v in _minimal_env(workdir, token).items()]  # fmt: skip
        payload = "\0".join(request).encode("utf-8", "surrogateescape")

        try:
            zygote = _ZYGOTES.acquire(python)
        except (OSError, ValueError, subprocess.SubprocessError) as e:
            raise _HarnessFault(f"could not start {python!r}: {e!r}") from None
        try:
            send = passed_fds + [wfd, proof_theirs.fileno(), prog_file.fileno()] + (
                [tests.fileno()] if job is not None else [])
            socket.send_fds(zygote.sock, [payload], send)
            msg = zygote.recv(_KILL_GRACE + 10.0)
            if msg is None or not msg.startswith(b"P "):
                raise _ZygoteError(f"unexpected answer {msg!r}")
            pid = int(msg[2:])
        except (OSError, _ZygoteError, ValueError) as e:
            raise _HarnessFault(f"server failure: {e!r}") from None
        os.close(wfd)
        fds.remove(wfd)
        proof_theirs.close()

        deadline = start + timeout
        killed = None
        answer = None
        try:
            while answer is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    killed = "timeout"
                    break
                answer = zygote.recv(min(remaining, _WATCH_INTERVAL))
                if answer is None and sum(rss for _, rss in _run_processes(uid, marker)) > memory_mb * 1024:
                    # RLIMIT_AS is per process: the run's total resident memory is
                    # watched so that many forked children cannot exhaust the machine
                    killed = "memory"
                    break
            if killed:
                zygote.sock.send(b"K")
                answer = zygote.recv(2 * _KILL_GRACE + 10.0)
            if answer is None or not answer.startswith(b"E "):
                raise _ZygoteError(f"unexpected answer {answer!r}")
            _, wstatus, cpu, maxrss = answer.split()
        except (OSError, _ZygoteError, ValueError) as e:
            raise _HarnessFault(f"the server died during the run: {e!r}") from None
        healthy = True
        if int(wstatus) < 0:
            raise _HarnessFault("the server could not fork the run")
        duration = time.monotonic() - start
        returncode = os.waitstatus_to_exitcode(int(wstatus))

        os.set_blocking(rfd, False)
        try:
            info = os.read(rfd, 4096)
        except OSError:
            info = b""
        flags = info.split(b"\n", 1)[0].decode("ascii", "replace")
        if "pid" not in flags.split():
            # no pid namespace took the run's processes down with it: kill its
            # process group and whatever carries its uid (root) or marker
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
            _kill_leftovers(uid, marker)
        if not flags.startswith("R "):
            raise _HarnessFault(f"the run's setup failed: {_read_capped(err).strip()[:500]!r}")
        try:
            proven = hmac.compare_digest(proof.recv(256, socket.MSG_DONTWAIT), secret)
        except OSError:  # nothing sent (BlockingIOError), or the run closed its end unread (reset)
            proven = False
        status = "passed" if proven else _classify(returncode, killed, info, float(cpu), cpu_limit,
                                                   int(maxrss), memory_mb)
        stdout = _read_capped(out)
        stderr = _read_capped(err)
        if status == "failed" and returncode == 0:
            stderr += "[sandbox: exit status 0, but the program did not run to its end]\n"
        return SandboxResult(status, returncode, stdout, stderr, duration), flags
    except _HarnessFault:
        raise
    except Exception as e:  # internal error: a harness fault, never a verdict on the program
        raise _HarnessFault(f"internal error: {e!r}") from e
    finally:
        if zygote is not None:
            _ZYGOTES.release(zygote, healthy)  # an unhealthy zygote is closed: that kills its run
        if not healthy and pid is not None:  # the server died with the run started: nothing of it may survive
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
            _kill_leftovers(uid, marker)
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass
        for sock in socks:
            sock.close()
        for f in files:
            try:
                f.close()
            except OSError:
                pass
        try:
            if workdir is not None:
                _remove_tree(workdir)
        finally:
            if uid is not None:
                _UIDS.release(uid)


def _remove_pass(path: str) -> None:
    """One pass at removing a run's directory, whatever the program built in it.

    Iterative, and every directory is first moved up to the top level, so depth costs neither recursion
    nor path length (a 100,000-deep tree is removed like a wide one); directories the program made
    unreadable (chmod 000) are opened up first; symlinks are removed, never followed.
    """
    moved = 0
    try:
        todo = [path]
        while todo:
            d = todo.pop()
            try:
                os.chmod(d, 0o700)  # never a symlink: only real directories are queued
            except OSError:
                pass
            try:
                with os.scandir(d) as it:
                    entries = [(e.name, e.is_dir(follow_symlinks=False)) for e in it]
            except OSError:
                entries = []
            for name, is_dir in entries:
                p = os.path.join(d, name)
                if not is_dir:
                    try:
                        os.unlink(p)
                    except OSError:
                        pass
                    continue
                if d != path:  # flatten: the subdirectory goes to the top, its path stays short
                    moved += 1
                    flat = os.path.join(path, f".rm{moved}")
                    try:
                        os.rename(p, flat)
                        p = flat
                    except OSError:
                        pass
                todo.append(p)
            if d != path:
                try:
                    os.rmdir(d)
                except OSError:
                    pass  # a child could not be moved up: the next pass removes it
        os.rmdir(path)
    except OSError:
        pass


def _remove_tree(path: str) -> None:
    """Remove a run's directory, whatever the program built in it; never raises (see _remove_pass)."""
    try:
        for _ in range(3):
            _remove_pass(path)
            if not os.path.lexists(path):
                return
        shutil.rmtree(path, ignore_errors=True)
    except BaseException:  # noqa: BLE001 - cleanup must never cost a verdict
        pass


# ---------------------------------------------------------------- public API


def run(program: str, *, timeout: float = 10.0, memory_mb: int = 1024, python: str | None = None) -> SandboxResult:
    """Run ``program`` (Python source) in a fresh sandboxed interpreter.

    ``timeout`` is the wall-clock limit in seconds (the CPU limit is
    ``ceil(timeout) + 1`` s), ``memory_mb`` the address-space limit of each
    process of the program (the run's total resident memory is watched against
    the same number), ``python`` the interpreter (default ``sys.executable``).
    Raises :class:`ValueError` for bad arguments only.
    """
    program = _check_program(program)
    timeout = _check_timeout(timeout)
    memory_mb = _check_memory(memory_mb)
    python = _check_python(python)
    return _run_one(program, timeout, memory_mb, python)[0]


def run_many(
    programs: Sequence[str],
    *,
    timeout: float = 10.0,
    memory_mb: int = 1024,
    workers: int | None = None,
    python: str | None = None,
) -> list[SandboxResult]:
    """Run many programs, ``workers`` at a time (default: ``os.cpu_count()``).

    Results are in input order.  Same limits per program as :func:`run`.
    """
    if isinstance(programs, (str, bytes)) or not isinstance(programs, Sequence):
        raise ValueError("programs must be a sequence of str (a single str is not accepted)")
    for i, program in enumerate(programs):
        _check_program(program, f"programs[{i}]")
    timeout = _check_timeout(timeout)
    memory_mb = _check_memory(memory_mb)
    python = _check_python(python)
    return _pooled(programs, lambda p: _run_one(p, timeout, memory_mb, python)[0], workers)


def _pooled(items: Sequence[Any], one: Callable[[Any], SandboxResult], workers: int | None) -> list[SandboxResult]:
    """``one`` over ``items``, ``workers`` at a time (default ``os.cpu_count()``), results in input order."""
    if workers is None:
        workers = os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an int >= 1 or None, not {workers!r}")
    if not items:
        return []
    if workers == 1 or len(items) == 1:
        return [one(x) for x in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(one, items))


def run_tests(job: TestJob, *, timeout: float = 10.0, memory_mb: int = 1024,
              python: str | None = None) -> SandboxResult:
    """Run ``job``'s tests against its solution: ``passed`` only when the trusted runner ran the tests to
    their end (the solution runs sandboxed as the callee; its process never holds the proof).

    Same limits as :func:`run`, for the run as a whole; ``stdout``/``stderr`` hold the solution's output and
    the tests' (a failing assertion's traceback). Raises :class:`ValueError` for bad arguments only.
    """
    if not isinstance(job, TestJob):
        raise ValueError(f"job must be a TestJob, not {type(job).__name__}")
    timeout = _check_timeout(timeout)
    memory_mb = _check_memory(memory_mb)
    python = _check_python(python)
    return _run_one("", timeout, memory_mb, python, job)[0]


def run_tests_many(
    jobs: Sequence[TestJob],
    *,
    timeout: float = 10.0,
    memory_mb: int = 1024,
    workers: int | None = None,
    python: str | None = None,
) -> list[SandboxResult]:
    """:func:`run_tests` for many jobs, ``workers`` at a time (default ``os.cpu_count()``), in input order."""
    if not isinstance(jobs, Sequence) or isinstance(jobs, (str, bytes)):
        raise ValueError("jobs must be a sequence of TestJob")
    for i, job in enumerate(jobs):
        if not isinstance(job, TestJob):
            raise ValueError(f"jobs[{i}] must be a TestJob, not {type(job).__name__}")
    timeout = _check_timeout(timeout)
    memory_mb = _check_memory(memory_mb)
    python = _check_python(python)
    return _pooled(jobs, lambda j: _run_one("", timeout, memory_mb, python, j)[0], workers)


_ISOLATION: frozenset[str] | None = None
_ISOLATION_LOCK = threading.Lock()


def isolation() -> frozenset[str]:
    """What this machine's sandbox actually enforces (probed once, then cached).

    Members: ``"uid"`` (own unprivileged uid, so RLIMIT_NPROC and file
    permissions apply), ``"pid"`` (pid namespace: no process outlives a run),
    ``"net"`` (no network), ``"mnt"``/``"tmp"``/``"proc"`` (private /tmp, a
    tmpfs of :data:`TMP_SIZE_MB`, and /proc), ``"host"`` (every top-level folder
    that is not the system's, and the harness' own folders, empty), ``"nosite"`` (the interpreter's site-packages
    empty), ``"ipc"`` (private SysV IPC), ``"nonewprivs"`` (setuid binaries
    cannot raise privileges), ``"seccomp"`` (the filter of
    ``_sandbox_zygote._fd_theft_filter``).  Resource limits, the minimal environment and the
    throwaway working directory are always in force.
    """
    global _ISOLATION
    with _ISOLATION_LOCK:
        if _ISOLATION is None:
            result, flags = _run_one("pass", 10.0, 256, sys.executable)
            _ISOLATION = frozenset(flags.split()[1:]) if result.passed else frozenset()
        return _ISOLATION
