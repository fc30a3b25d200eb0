#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Convert a Jepsen history into fallacy's history JSONL (docs/consistency.md).

    tools/jepsen-history.py [--independent] [--fail-cas drop|mismatch]
                            [--format auto|edn|log] [FILE|-]

Reads, from FILE or stdin:
  edn  Jepsen's history.edn: op maps ({:type :invoke, :f :cas, :value [1 2],
       :process 3, :time 123}), one per line or all in one vector or list.
  log  the operation lines of a jepsen.log
       (INFO  jepsen.util - 3<TAB>:invoke<TAB>:cas<TAB>[1 4]); every other
       line (nemesis, setup, stack traces) is skipped.
auto (the default) picks edn when the first form opens with [ ( { or #.

Writes one JSON object per invocation and completion to stdout, in the
file's order: process, type (invoke/ok/fail/info), f (read/write/cas), key
(with --independent), value (a cas's [expected, new]; what an ok read
read, null for nil) and time: the op's :time when every client op has one
and they strictly increase, else the op's position in the history (from
0, as Jepsen's :index), which is all the checker needs: real-time order.
A jepsen.log has no times: its operation lines' numbers are their times.

Operations of processes that are not numbers (:nemesis) are left out.
--fail-cas drop (the default): a cas that ended :fail is left out, as
Jepsen means :fail (the op did not take place; Knossos checks it so). In
fallacy's histories a failed cas observed a value other than the one it
expected (etcd's and redis's answer to a compare that did not match):
--fail-cas mismatch keeps them so, for a client that answers :fail only
then (Porcupine checks Jepsen's etcd histories so); a stronger check.
--independent: values are jepsen.independent tuples [key value]; the key
becomes the history's key (each key is checked on its own).

Exit 0 (a history of the nemesis alone is empty: said on stderr); 2 when the input cannot be read, naming the line:
    jepsen-history: history.edn:14: unterminated vector
No third-party modules: python3 alone."""

import json
import re
import sys


class Fail(Exception):
    def __init__(self, line, what):
        super().__init__(what)
        self.line = line
        self.what = what


class Keyword(str):
    """An EDN keyword, without its colon."""


class Symbol(str):
    pass


class Tagged:
    def __init__(self, tag, form):
        self.tag, self.form = tag, form


# ---- a small EDN reader: maps, vectors, lists, sets, keywords, symbols,
# integers, floats, strings, characters, nil/true/false, comments, #_ and
# #tags (the tag is kept apart, the form read as it is) -------------------

DELIMS = set('()[]{}";')
ESCAPES = {'n': '\n', 't': '\t', 'r': '\r', '"': '"', '\\': '\\', 'b': '\b', 'f': '\f'}
INT_RE = re.compile(r'^[+-]?\d+N?$')
FLOAT_RE = re.compile(r'^[+-]?\d+(\.\d*)?([eE][+-]?\d+)?M?$')


class Reader:
    def __init__(self, text):
        self.s, self.i, self.line = text, 0, 1

    def skip(self):
        s, n = self.s, len(self.s)
        while self.i < n:
            c = s[self.i]
            if c == '\n':
                self.line += 1
                self.i += 1
            elif c.isspace() or c == ',':
                self.i += 1
            elif c == ';':
                while self.i < n and s[self.i] != '\n':
                    self.i += 1
            else:
                return

    def at_end(self):
        self.skip()
        return self.i >= len(self.s)

    def token(self):
        s, n, j = self.s, len(self.s), self.i
        while j < n and not s[j].isspace() and s[j] != ',' and s[j] not in DELIMS:
            j += 1
        tok, self.i = s[self.i:j], j
        return tok

    def seq(self, close, what):
        start, items = self.line, []
        while True:
            self.skip()
            if self.i >= len(self.s):
                raise Fail(start, 'unterminated %s (opened here, never closed)' % what)
            if self.s[self.i] == close:
                self.i += 1
                return items
            if self.s[self.i] in ')]}':
                raise Fail(self.line, "'%s' closes a %s that expects '%s'"
                           % (self.s[self.i], what, close))
            items.append(self.form())

    def string(self):
        start, out, s, n = self.line, [], self.s, len(self.s)
        self.i += 1
        while self.i < n and s[self.i] != '"':
            c = s[self.i]
            if c == '\n':
                self.line += 1
            if c == '\\' and self.i + 1 < n:
                self.i += 1
                c = s[self.i]
                if c == 'u' and re.match(r'[0-9a-fA-F]{4}', s[self.i + 1:self.i + 5]):
                    out.append(chr(int(s[self.i + 1:self.i + 5], 16)))
                    self.i += 5
                    continue
                c = ESCAPES.get(c, c)
            out.append(c)
            self.i += 1
        if self.i >= n:
            raise Fail(start, 'unterminated string')
        self.i += 1
        return ''.join(out)

    def dispatch(self):
        line = self.line
        self.i += 1
        if self.i >= len(self.s):
            raise Fail(line, "'#' at the end of the input")
        c = self.s[self.i]
        if c == '{':
            self.i += 1
            return tuple(self.seq('}', 'set'))
        if c == '_':
            self.i += 1
            self.form()  # discarded
            return self.form()
        if c.isalpha():
            tag = self.token()
            return Tagged(tag, self.form())
        raise Fail(line, "cannot read '#%s' (EDN here: maps, vectors, lists, sets, "
                   "keywords, numbers, strings, nil, true, false, #tags)" % c)

    def atom(self):
        line, tok = self.line, self.token()
        if tok.startswith(':') and len(tok) > 1:
            return Keyword(tok[1:])
        if tok == 'nil':
            return None
        if tok in ('true', 'false'):
            return tok == 'true'
        if INT_RE.match(tok):
            return int(tok.rstrip('N'))
        if FLOAT_RE.match(tok):
            return float(tok.rstrip('M'))
        if tok and (tok[0].isalpha() or tok[0] in '*+!-_?<>=./'):
            return Symbol(tok)
        raise Fail(line, "cannot read '%s'" % (tok or self.s[self.i:self.i + 10].split('\n')[0]))

    def form(self):
        self.skip()
        if self.i >= len(self.s):
            raise Fail(self.line, 'the input ends where a value is expected')
        c = self.s[self.i]
        if c in '([{':
            start = self.line
            self.i += 1
            items = self.seq({'(': ')', '[': ']', '{': '}'}[c],
                             {'(': 'list', '[': 'vector', '{': 'map'}[c])
            if c != '{':
                return tuple(items)
            if len(items) % 2:
                raise Fail(start, 'a map with an odd number of forms (a key without its value)')
            try:
                return dict(zip(items[::2], items[1::2]))
            except TypeError:
                raise Fail(start, 'a map key that cannot be a key here (a map or a set)')
        if c in ')]}':
            raise Fail(self.line, "'%s' closes nothing" % c)
        if c == '"':
            return self.string()
        if c == '#':
            return self.dispatch()
        if c == '\\':
            self.i += 1
            return self.token() or self.s[self.i - 1]
        return self.atom()


def untag(v):
    while isinstance(v, Tagged):
        v = v.form
    return v


def edn_ops(text):
    """(line, op) of every op of an EDN history: top-level op maps, or one
    vector or list of them."""
    r, out = Reader(text), []
    r.skip()
    close = {'[': ']', '(': ')'}.get(r.s[r.i:r.i + 1])
    if close:
        start = r.line
        r.i += 1
        while True:
            r.skip()
            if r.i >= len(r.s):
                raise Fail(start, 'unterminated %s (opened here, never closed)'
                           % ('vector' if close == ']' else 'list'))
            if r.s[r.i] == close:
                r.i += 1
                break
            line = r.line
            out.append((line, untag(r.form())))
        if not r.at_end():
            raise Fail(r.line, 'text after the history (one vector or list of ops)')
        return out
    while not r.at_end():
        line = r.line
        out.append((line, untag(r.form())))
    return out


# ---- the log format -----------------------------------------------------

LOG_RE = re.compile(r'jepsen\.util\s+-\s+(\S+)\s+:(invoke|ok|fail|info)\s+(:\S+)\s*(.*)$')


def log_ops(text):
    out = []
    for n, raw in enumerate(text.split('\n'), 1):
        m = LOG_RE.search(raw)
        if not m:
            continue
        proc, typ, f, rest = m.groups()
        if not INT_RE.match(proc):
            continue  # :nemesis and other non-client processes
        op = {Keyword('process'): int(proc), Keyword('type'): Keyword(typ),
              Keyword('f'): Keyword(f[1:]), Keyword('time'): n}
        if rest.strip():
            r = Reader(rest)
            r.line = n
            try:
                op[Keyword('value')] = untag(r.form())
            except Fail:
                # a completion's value may be an error message: only an
                # invocation's and an ok read's are needed
                if typ == 'invoke' or (typ == 'ok' and f == ':read'):
                    raise
                op[Keyword('value')] = None
        else:
            op[Keyword('value')] = None
        out.append((n, op))
    return out


# ---- conversion ---------------------------------------------------------

FS = ('read', 'write', 'cas')


def scalar(v, line, what):
    v = untag(v)
    if v is None or isinstance(v, (bool, int, float)):
        return v
    if isinstance(v, Keyword):
        return ':' + v
    if isinstance(v, str):
        return str(v)
    raise Fail(line, '%s: expected a number, string, keyword or nil, not %s'
               % (what, edn_text(v)))


def edn_text(v):
    if v is None:
        return 'nil'
    if isinstance(v, Keyword):
        return ':' + v
    if isinstance(v, tuple):
        return '[' + ' '.join(edn_text(x) for x in v) + ']'
    if isinstance(v, dict):
        return '{...}'
    return json.dumps(v) if isinstance(v, str) else str(v)


def split_key(v, line, independent):
    if not independent:
        return None, v
    v = untag(v)
    if not isinstance(v, tuple) or len(v) != 2:
        raise Fail(line, '--independent: expected a value [key value], not %s' % edn_text(v))
    return scalar(v[0], line, 'the key'), v[1]


def op_value(f, typ, v, line):
    """The JSON value of an op, or a marker to leave it out."""
    v = untag(v)
    if f == 'cas':
        if not isinstance(v, tuple) or len(v) != 2:
            raise Fail(line, 'a cas needs a value [expected new], not %s' % edn_text(v))
        return [scalar(v[0], line, 'the expected value'), scalar(v[1], line, 'the new value')]
    return scalar(v, line, 'the value')


def convert(ops, independent, keep_fail_cas=False):
    """Client ops as fallacy history lines (dicts), in file order."""
    K = Keyword
    client, open_ops = [], {}
    for pos, (line, op) in enumerate(ops):
        if not isinstance(op, dict):
            raise Fail(line, 'expected an op map ({:process 0, :type :invoke, :f :read, '
                       '...}), not %s' % edn_text(op))
        proc = untag(op.get(K('process')))
        if isinstance(proc, bool) or not isinstance(proc, int):
            continue  # :nemesis, or no process at all
        typ, f = untag(op.get(K('type'))), untag(op.get(K('f')))
        if not isinstance(typ, Keyword) or typ not in ('invoke', 'ok', 'fail', 'info'):
            raise Fail(line, ':type must be :invoke, :ok, :fail or :info, not %s' % edn_text(typ))
        if not isinstance(f, Keyword) or f not in FS:
            raise Fail(line, ':f %s is not a register operation (:read, :write, :cas)'
                       % edn_text(f))
        key, v = split_key(op.get(K('value')), line, independent)
        out = {'process': proc, 'type': str(typ), 'f': str(f)}
        inv = open_ops.get(proc)
        if typ == 'invoke':
            if inv is not None:
                raise Fail(line, 'process %d invokes while its op of line %d is open'
                           % (proc, inv['line']))
            if f != 'read':
                out['value'] = op_value(f, typ, v, line)
            open_ops[proc] = {'line': line, 'f': str(f), 'key': key, 'value': out.get('value'),
                              'at': len(client)}
        else:
            if inv is None:
                raise Fail(line, 'a completion of process %d without its invocation' % proc)
            if inv['f'] != f:
                raise Fail(line, 'completes a %s with :f %s (invoked on line %d)'
                           % (inv['f'], f, inv['line']))
            del open_ops[proc]
            if f == 'cas' and typ == 'fail' and not keep_fail_cas:
                client[inv['at']] = None  # did not take place: neither line
                continue
            if independent and typ == 'ok' and f == 'read' and key != inv['key']:
                raise Fail(line, 'reads key %s, invoked on key %s (line %d)'
                           % (key, inv['key'], inv['line']))
            key = inv['key']
            if f == 'read' and typ == 'ok':
                out['value'] = scalar(v, line, 'the value read')
            elif f != 'read':
                out['value'] = inv['value']
        if independent:
            out['key'] = key if isinstance(key, str) else json.dumps(key)
        out['_time'] = untag(op.get(K('time')))
        out['_pos'] = pos
        client.append(out)
    client = [o for o in client if o is not None]
    times = [o['_time'] for o in client]
    if not (all(isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in times)
            and increasing(times)):
        times = [o['_pos'] for o in client]
    for o, t in zip(client, times):
        o['time'] = t
        del o['_time'], o['_pos']
    return client


def increasing(xs):
    return all(a < b for a, b in zip(xs, xs[1:]))


def main(argv):
    independent, fmt, path, keep = False, 'auto', '-', False
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == '--independent':
            independent = True
        elif a.startswith('--fail-cas'):
            how = a.split('=', 1)[1] if '=' in a else (args.pop(0) if args else '')
            if how not in ('drop', 'mismatch'):
                sys.stderr.write('jepsen-history: --fail-cas is drop or mismatch\n')
                return 2
            keep = how == 'mismatch'
        elif a.startswith('--format'):
            fmt = a.split('=', 1)[1] if '=' in a else (args.pop(0) if args else '')
            if fmt not in ('auto', 'edn', 'log'):
                sys.stderr.write('jepsen-history: --format is auto, edn or log\n')
                return 2
        elif a in ('-h', '--help'):
            sys.stdout.write(__doc__ + '\n')
            return 0
        elif a.startswith('-') and a != '-':
            sys.stderr.write("jepsen-history: unknown option '%s' (see --help)\n" % a)
            return 2
        else:
            path = a
    name = 'stdin' if path == '-' else path
    try:
        if path == '-':
            text = sys.stdin.read()
        else:
            with open(path, encoding='utf-8', errors='replace') as fh:
                text = fh.read()
    except OSError as e:
        sys.stderr.write('jepsen-history: %s: %s\n' % (name, e.strerror))
        return 2
    if fmt == 'auto':
        first = Reader(text)
        first.skip()
        fmt = 'edn' if text[first.i:first.i + 1] in ('[', '(', '{', '#') else 'log'
    try:
        ops = edn_ops(text) if fmt == 'edn' else log_ops(text)
        hist = convert(ops, independent, keep)
    except Fail as e:
        sys.stderr.write('jepsen-history: %s:%d: %s\n' % (name, e.line, e.what))
        return 2
    except RecursionError:
        sys.stderr.write('jepsen-history: %s: nested too deeply\n' % name)
        return 2
    if not ops and fmt == 'log':
        sys.stderr.write('jepsen-history: %s: no operation lines (INFO jepsen.util - PROCESS '
                         ':invoke :f VALUE); an EDN history? --format edn\n' % name)
        return 2
    if not hist:
        sys.stderr.write('jepsen-history: %s: no client operation to check (of %d ops): '
                         'an empty history\n' % (name, len(ops)))
    out = sys.stdout
    for o in hist:
        out.write(json.dumps(o) + '\n')
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:
        sys.exit(0)
