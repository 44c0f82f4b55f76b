"""Which columns of a section's table its query gives back *unchanged*, read from the query's text.

A result column named as a table column is not always that column's value: ``SELECT UPPER(name) AS name``,
``CAST(amount AS INT) AS amount``, ``COALESCE(a, b) AS a``, ``birth AS dob, '' AS birth`` each name a column
of the table for something else, and the stored value would be in no resource and no sidecar. A column counts
as given back unchanged only where the query's top-level select list has, under that column's own name, a bare
reference to it (``name``, ``p.name``, ``"name"``, ``p.*``, ``*``) on the section's own table, and the query is a
plain ``SELECT … FROM`` over it (no ``DISTINCT``, ``GROUP BY``; the table once in its ``FROM``: by its name, or
in one derived table that gives the column back so itself, as the scaffold's joins do). A ``WITH``'s common table
expressions are read as the derived tables they stand for; a ``UNION`` of such arms with the same select list
counts what every arm gives back. Anything else is not understood, and then no column counts: the caller carries
the originals too (a cell twice in a sidecar is cheap, a lost one is not) and says so (``queries_not_read``).
The same text reads the same on SQLite, MariaDB and PostgreSQL, so the same connector carries the same columns on each.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

#: Tokens of an SQL text: comments and blanks (dropped), strings (PostgreSQL's dollar quotes too), quoted names
#: ("…", `…`, […]), words, numbers, and any other character alone. Strings are read both as standard SQL writes
#: them and with MariaDB's backslash escapes ('it\'s'): a column counts where the readings that make sense (no quote
#: left open) agree.
_TOKEN_PARTS = r"""(?P<skip>\s+|--[^\n]*|/\*.*?\*/)
      | (?P<str>{string}|(?P<tag>\$[A-Za-z_0-9]*\$).*?(?P=tag))
      | (?P<qid>"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\])
      | (?P<word>[^\W\d][\w$]*)
      | (?P<num>\d[\w.]*)
      | (?P<op>.)"""
_TOKENS = (re.compile(_TOKEN_PARTS.format(string=r"'(?:[^']|'')*'"), re.VERBOSE | re.DOTALL),
           re.compile(_TOKEN_PARTS.format(string=r"'(?:[^'\\]|\\.|'')*'"), re.VERBOSE | re.DOTALL))
#: Words that end a ``FROM`` clause at the top level.
_FROM_ENDS = frozenset({"where", "group", "having", "order", "limit", "offset", "fetch", "window", "for", "qualify",
                        "union", "intersect", "except", "minus", "into", "procedure", "lock"})
#: Words that make the query's rows other than the table's (or its text not understood here).
_NOT_PLAIN = frozenset({"union", "intersect", "except", "minus", "group", "distinct", "distinctrow", "having"})
_JOIN_WORDS = frozenset({"join", "left", "right", "inner", "outer", "full", "cross", "natural", "straight_join",
                         "lateral"})
#: Unquoted words that look like a column but are values of the session (PostgreSQL's ``user`` too).
_NOT_COLUMNS = frozenset({"current_date", "current_time", "current_timestamp", "localtime", "localtimestamp",
                          "current_user", "session_user", "user", "null", "true", "false", "default"})
#: Modifiers that may follow SELECT without changing a value (MariaDB's; T-SQL's TOP n is handled apart).
_MODIFIERS = frozenset({"all", "sql_no_cache", "sql_cache", "sql_calc_found_rows", "high_priority", "straight_join",
                        "sql_small_result", "sql_big_result", "sql_buffer_result"})


@dataclass(frozen=True)
class _Token:
    kind: str  # "str" | "qid" | "word" | "num" | "op"
    text: str  # a quoted name without its quotes

    @property
    def word(self) -> str:
        return self.text.lower() if self.kind == "word" else ""

    @property
    def name(self) -> bool:
        return self.kind == "qid" or (self.kind == "word" and self.word not in _NOT_COLUMNS)


def _tokens(sql: str, pattern: re.Pattern[str]) -> list[_Token] | None:
    out: list[_Token] = []
    for match in pattern.finditer(sql):
        kind = match.lastgroup
        if kind == "tag":  # (the dollar quote's tag group ends the match of a string)
            kind = "str"
        if kind == "skip" or kind is None:
            continue
        text = match.group()
        if kind == "qid":
            close = {"[": "]"}.get(text[0], text[0])
            text = text[1:-1].replace(close * 2, close) if close != "]" else text[1:-1]
        elif kind == "op" and text in "'\"`[$" and text != "$":
            return None  # an unclosed quote: not understood
        out.append(_Token(kind, text))
    while out and out[-1].text == ";":
        out.pop()
    return out


def _split_top(tokens: Sequence[_Token], at: str = ",") -> list[list[_Token]]:
    """``tokens`` cut at ``at`` outside parentheses."""
    parts: list[list[_Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.kind == "op" and token.text == "(":
            depth += 1
        elif token.kind == "op" and token.text == ")":
            depth -= 1
        if depth == 0 and token.kind == "op" and token.text == at:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _top_words(tokens: Sequence[_Token]) -> list[tuple[int, str]]:
    """(position, lower-case word) of each word outside parentheses."""
    out, depth = [], 0
    for i, token in enumerate(tokens):
        if token.kind == "op" and token.text == "(":
            depth += 1
        elif token.kind == "op" and token.text == ")":
            depth -= 1
        elif depth == 0 and token.kind == "word":
            out.append((i, token.word))
    return out


def _dotted(tokens: Sequence[_Token]) -> tuple[list[_Token], int]:
    """A dotted name at the start of ``tokens`` (``a``, ``a.b``, ``"a"."b"``): its parts, and how many tokens."""
    parts: list[_Token] = []
    i = 0
    while i < len(tokens) and (tokens[i].kind in ("word", "qid")):
        parts.append(tokens[i])
        if i + 1 < len(tokens) and tokens[i + 1].text == "." and tokens[i + 1].kind == "op":
            i += 2
            continue
        i += 1
        break
    return parts, i


def _same_table(parts: Sequence[str], table: str) -> bool:
    """Whether a FROM's name (its parts) names ``table`` (``visit``, ``his.visit``), case-insensitively."""
    wanted = table.lower().split(".")
    got = [p.lower() for p in parts]
    if got[-1] != wanted[-1]:
        return False
    return len(got) == 1 or len(wanted) == 1 or got[-2] == wanted[-2]


def _qualifiers(from_tokens: Sequence[_Token], table: str, columns: Sequence[str],
                ) -> tuple[set[str], Sequence[str]] | None:
    """The names (lower case) a select item qualifies the section's table by (its alias, else its name), and its
    columns as the query sees them: ``columns``, or of a derived table over it (``(SELECT "A" AS a FROM T) d``)
    those it gives back unchanged. None where the ``FROM`` clause is not understood or does not hold the table
    exactly once (as a plain name or in one derived table)."""
    refs: list[list[_Token]] = []
    for part in _split_top(from_tokens):
        current: list[_Token] = []
        depth = 0
        for token in part:
            if token.text == "(" and token.kind == "op":
                depth += 1
            elif token.text == ")" and token.kind == "op":
                depth -= 1
            if depth == 0 and token.word in _JOIN_WORDS:
                if current:
                    refs.append(current)
                current = []
                continue
            current.append(token)
        if current:
            refs.append(current)
    found: set[str] | None = None
    seen: Sequence[str] = columns
    for ref in refs:
        cut = next((i for i, (_, w) in enumerate(_top_words(ref)) if w in ("on", "using")), None)
        if cut is not None:
            ref = ref[:_top_words(ref)[cut][0]]
        if ref and ref[0].word == "only":  # PostgreSQL: the table's own rows
            ref = ref[1:]
        if ref and ref[0].kind == "op" and ref[0].text == "(":  # a derived table: over the section's table?
            close = _closing(ref)
            inner = unchanged_columns(ref[1:close], table, columns) if close else None
            rest = list(ref[close + 1:]) if close else []
            if rest and rest[0].word == "as":
                rest = rest[1:]
            if inner is None or not rest or rest[0].kind not in ("word", "qid"):
                continue  # not over it (or not read here): another table's columns
            if found is not None:
                return None
            found, seen = {rest[0].text.lower()}, [c for c in columns if c in inner]
            continue
        if not ref or ref[0].kind == "op":
            continue
        parts, n = _dotted(ref)
        if not parts or not _same_table([p.text for p in parts], table):
            continue
        if found is not None:
            return None  # the table twice (a self-join): which one is the row's is not known here
        rest = list(ref[n:])
        if rest and rest[0].word == "as":
            rest = rest[1:]
        if rest and rest[0].kind in ("word", "qid") and rest[0].word not in ("use", "force", "ignore", "tablesample",
                                                                             "with", "natural"):
            found = {rest[0].text.lower()}
        else:
            found = {parts[-1].text.lower(), ".".join(p.text for p in parts).lower()}
    return None if found is None else (found, seen)


def _closing(tokens: Sequence[_Token]) -> int:
    """The position of the parenthesis that closes the one ``tokens`` start with (0 where none does)."""
    depth = 0
    for i, token in enumerate(tokens):
        if token.kind == "op" and token.text == "(":
            depth += 1
        elif token.kind == "op" and token.text == ")":
            depth -= 1
            if depth == 0:
                return i
    return 0


def unchanged_columns(sql: str | Sequence[_Token], table: str, columns: Sequence[str], *,
                      byte_casts: bool = False) -> set[str] | None:
    """The columns of ``table`` (of ``columns``, spelled as there) that ``sql``'s result has under their own name
    as a bare reference to them, the value unchanged; None where the query's text is not understood (see the
    module's docstring): then no column counts as given back unchanged.

    ``byte_casts`` (MariaDB/MySQL): ``CAST(name AS BINARY) AS name`` counts as a bare reference too: the stored
    bytes of the value, as the scaffold reads CP949 text a server declares latin1 (decoded with ``[source]
    encoding``, rebuilt to the same bytes). Not on SQLite, where ``BINARY`` is a numeric affinity ('007' → 7)."""
    if isinstance(sql, str):
        readings = [unchanged_columns(tokens, table, columns, byte_casts=byte_casts) if tokens else None
                    for tokens in (_tokens(sql, pattern) for pattern in _TOKENS)]
        if readings[0] is None or readings[1] is None:
            return readings[1] if readings[0] is None else readings[0]
        return readings[0] & readings[1]
    tokens = list(sql)
    if tokens and tokens[0].word == "with":
        plain = _without_ctes(tokens)
        if plain is None:
            return None
        tokens = plain
    if not tokens or tokens[0].word != "select":
        return None
    words = _top_words(tokens)
    arms = _union_arms(tokens, words)
    if arms is not None:
        # each arm over the table, the same select list in each (so a result column is the same column in every
        # arm): what every arm gives back unchanged
        readings = [unchanged_columns(arm, table, columns, byte_casts=byte_casts) for arm in arms]
        if any(r is None for r in readings):
            return None
        return set.intersection(*(r for r in readings if r is not None))
    if any(w in _NOT_PLAIN for _, w in words):
        return None
    start = 1
    while start < len(tokens) and tokens[start].word in _MODIFIERS:
        start += 1
    if start < len(tokens) and tokens[start].word == "top":  # T-SQL's TOP n / TOP (n): rows, not values
        start += 2 if tokens[start + 1:start + 2] and tokens[start + 1].text != "(" else 4
    from_at = next((i for i, w in words if w == "from"), None)
    if from_at is None:
        return None
    end = next((i for i, w in words if i > from_at and w in _FROM_ENDS), len(tokens))
    resolved = _qualifiers(tokens[from_at + 1:end], table, columns)
    if resolved is None:
        return None
    qualifiers, columns = resolved
    by_lower: dict[str, list[str]] = {}
    for column in columns:
        by_lower.setdefault(column.lower(), []).append(column)

    def column_named(token: _Token) -> str | None:
        found = by_lower.get(token.text.lower(), [])
        if token.kind == "qid" or len(found) > 1:  # quoted: exactly as spelled; two spellings: the one written
            exact = [c for c in found if c == token.text] or [c for c in found if c == token.text.lower()]
            return exact[0] if exact else None
        return found[0] if found else None

    def bare(item: list[_Token]) -> list[str]:
        """The table's columns one select item gives back unchanged under their own names."""
        if byte_casts and len(item) >= 6 and item[0].word == "cast" and item[1].kind == "op" and item[1].text == "(":
            close = _closing(item[1:]) + 1
            inner = item[2:close]
            if close > 1 and len(inner) >= 3 and inner[-2].word == "as" and inner[-1].word == "binary":
                parts, n = _dotted(inner[:-2])
                rest = item[close + 1:]
                if parts and n == len(inner) - 2 and rest:  # an alias is needed: CAST(…)'s own name is no column
                    return bare([*inner[:-2], *rest])
            return []
        if len(item) == 1 and item[0].text == "*" and item[0].kind == "op":
            return list(columns)
        parts, n = _dotted(item)
        if not parts:
            return []
        rest = item[n:]
        if item[n - 1].kind == "op":  # a dot: q.* (else not a name)
            if len(rest) == 1 and rest[0].kind == "op" and rest[0].text == "*" and (
                    ".".join(p.text for p in parts).lower() in qualifiers or parts[-1].text.lower() in qualifiers):
                return list(columns)
            return []
        if not parts[-1].name:
            return []
        if len(parts) > 1 and ".".join(p.text for p in parts[:-1]).lower() not in qualifiers \
                and parts[-2].text.lower() not in qualifiers:
            return []  # another table's column
        column = column_named(parts[-1])
        if column is None:
            return []
        if rest and rest[0].word == "as":
            rest = rest[1:]
        if len(rest) > 1 or (rest and rest[0].kind not in ("word", "qid", "str")):
            return []  # not a bare reference (name COLLATE x, name::text, name || '')
        result = rest[0].text.strip("'") if rest else parts[-1].text
        return [column] if result.lower() == column.lower() else []

    unchanged: set[str] = set()
    others: set[str] = set()  # result names (lower case) given to something else: p.*, UPPER(p.name) AS name
    for item in _split_top(tokens[start:from_at]):
        given = bare(item)
        unchanged.update(given)
        named = _alias(item)
        if not given and named is not None:
            others.add(named.lower())
    return {c for c in unchanged if c.lower() not in others}


def _alias(item: Sequence[_Token]) -> str | None:
    """The name a select item gives its result (``… AS x``, ``… x``, a bare ``t.x``), where it says one."""
    if len(item) >= 2 and item[-1].kind == "str" and item[-2].word == "as":
        return item[-1].text.strip("'")
    if item and item[-1].kind in ("word", "qid"):
        return item[-1].text
    return None


def _without_ctes(tokens: Sequence[_Token]) -> list[_Token] | None:
    """``WITH a AS (…), b AS (…) SELECT …`` as the ``SELECT`` with each name the ``FROM`` clause reads of them made
    the derived table it stands for (``FROM a x`` → ``FROM (…) x``, ``FROM a`` → ``FROM (…) a``); None where that is
    not the query's shape (``RECURSIVE``, a CTE's own column list, a name read outside the top ``FROM``)."""
    bodies: dict[str, list[_Token]] = {}
    i = 1
    while True:
        if i + 2 >= len(tokens) or tokens[i].kind not in ("word", "qid") or tokens[i].word == "recursive":
            return None
        name = tokens[i].text.lower()
        if tokens[i + 1].word != "as" or tokens[i + 2].text != "(" or tokens[i + 2].kind != "op":
            return None  # WITH a (x, y) AS …, MATERIALIZED: not read here
        close = _closing(tokens[i + 2:])
        if not close:
            return None
        bodies[name] = list(tokens[i + 3:i + 2 + close])
        i += 3 + close
        if i < len(tokens) and tokens[i].kind == "op" and tokens[i].text == ",":
            i += 1
            continue
        break
    main = list(tokens[i:])
    words = _top_words(main)
    from_at = next((j for j, w in words if w == "from"), None)
    if from_at is None:
        return None
    end = next((j for j, w in words if j > from_at and w in _FROM_ENDS), len(main))
    out = main[:from_at + 1]
    j = from_at + 1
    while j < end:
        token = main[j]
        before = main[j - 1]
        named = token.kind in ("word", "qid") and token.text.lower() in bodies
        after = main[j + 1] if j + 1 < end else None
        if named and (before.word in ("from", *_JOIN_WORDS) or (before.kind == "op" and before.text == ",")) and (
                after is None or not (after.kind == "op" and after.text in ".(")):
            body = bodies[token.text.lower()]
            out += [_Token("op", "("), *body, _Token("op", ")")]
            if after is None or not (after.kind in ("word", "qid") and after.word not in _FROM_ENDS
                                     and after.word not in _JOIN_WORDS and after.word not in ("on", "using")):
                out.append(token)  # no alias of its own: the CTE's name is the derived table's
            j += 1
            continue
        out.append(token)
        j += 1
    out += main[end:]
    return out


def _union_arms(tokens: Sequence[_Token], words: Sequence[tuple[int, str]]) -> list[list[_Token]] | None:
    """The arms of ``SELECT … UNION [ALL] SELECT …`` where each is a plain ``SELECT`` with the same select list as
    the first (token for token) and none is cut by ``INTERSECT``/``EXCEPT``; None otherwise (then ``UNION`` is not
    read here). A trailing ``ORDER BY``/``LIMIT`` stays with the last arm (it orders, it changes no value)."""
    cuts = [i for i, w in words if w == "union"]
    if not cuts or any(w in ("intersect", "except", "minus") for _, w in words):
        return None
    arms: list[list[_Token]] = []
    start = 0
    for cut in [*cuts, len(tokens)]:
        arms.append(list(tokens[start:cut]))
        start = cut + 1
        if start < len(tokens) and tokens[start].word in ("all", "distinct"):
            start += 1
    lists = []
    for arm in arms:
        if not arm or arm[0].word != "select":
            return None
        from_at = next((i for i, w in _top_words(arm) if w == "from"), None)
        if from_at is None:
            return None
        lists.append([(t.kind, t.text.lower() if t.kind == "word" else t.text) for t in arm[1:from_at]])
    return arms if all(item == lists[0] for item in lists) else None
