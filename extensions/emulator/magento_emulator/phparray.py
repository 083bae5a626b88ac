"""Read and write the PHP subset Magento uses in app/etc/env.php and app/etc/config.php.

``load(text)`` parses ``<?php return [ ... ];`` (short ``[...]`` or ``array(...)`` syntax, nested,
single/double-quoted strings, ints, floats, ``true``/``false``/``null``, comments) into Python:
an array whose keys were all implicit becomes a ``list``, any other array a ``dict`` (order kept).

``dump(data)`` writes what Magento's deployment-config writer (``PhpFormatter``) writes: short
arrays, four-space indent, one entry per line, no trailing comma, strings in single quotes::

    <?php
    return [
        'backend' => [
            'frontName' => 'admin'
        ]
    ];
"""

import math
import re

INDENT = '    '


class PhpArrayError(ValueError):
    """The text is not in the supported subset."""


# ---------------------------------------------------------------------------------------------- load

_NUMBER_RE = re.compile(r'[+-]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)')
_WORD_RE = re.compile(r'[A-Za-z_\\][A-Za-z0-9_\\]*')

_DQ_ESCAPES = {'n': '\n', 't': '\t', 'r': '\r', 'v': '\v', 'e': '\x1b', 'f': '\f', '\\': '\\', '$': '$', '"': '"'}


class _Parser(object):
    def __init__(self, text):
        self.text = text
        self.pos = 0

    def error(self, what):
        line = self.text.count('\n', 0, self.pos) + 1
        raise PhpArrayError('%s at line %d' % (what, line))

    def skip(self):
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch in ' \t\r\n':
                self.pos += 1
            elif text.startswith('//', self.pos) or ch == '#':
                end = text.find('\n', self.pos)
                self.pos = len(text) if end < 0 else end + 1
            elif text.startswith('/*', self.pos):
                end = text.find('*/', self.pos + 2)
                if end < 0:
                    self.error('Unterminated comment')
                self.pos = end + 2
            else:
                break

    def peek(self, token):
        self.skip()
        return self.text.startswith(token, self.pos)

    def expect(self, token):
        if not self.peek(token):
            self.error('Expected %r' % token)
        self.pos += len(token)

    def value(self):
        self.skip()
        text = self.text
        if self.pos >= len(text):
            self.error('Unexpected end of file')
        ch = text[self.pos]
        if ch == '[':
            self.pos += 1
            return self.array(']')
        if ch == "'":
            return self.single_quoted()
        if ch == '"':
            return self.double_quoted()
        match = _NUMBER_RE.match(text, self.pos)
        if match and (ch.isdigit() or ch in '+-.'):
            self.pos = match.end()
            raw = match.group(0)
            if raw.lower().lstrip('+-').startswith('0x'):
                return int(raw, 16)
            if re.fullmatch(r'[+-]?\d+', raw):
                return int(raw)
            return float(raw)
        match = _WORD_RE.match(text, self.pos)
        if match:
            word = match.group(0)
            lower = word.lower()
            self.pos = match.end()
            if lower == 'array' and self.peek('('):
                self.pos += 1
                return self.array(')')
            if lower == 'true':
                return True
            if lower == 'false':
                return False
            if lower == 'null':
                return None
            self.error('Unsupported PHP expression %r' % word)
        self.error('Unexpected %r' % ch)

    def single_quoted(self):
        text = self.text
        self.pos += 1
        out = []
        while True:
            if self.pos >= len(text):
                self.error('Unterminated string')
            ch = text[self.pos]
            if ch == '\\' and self.pos + 1 < len(text) and text[self.pos + 1] in "\\'":
                out.append(text[self.pos + 1])
                self.pos += 2
            elif ch == "'":
                self.pos += 1
                return ''.join(out)
            else:
                out.append(ch)
                self.pos += 1

    def double_quoted(self):
        text = self.text
        self.pos += 1
        out = []
        while True:
            if self.pos >= len(text):
                self.error('Unterminated string')
            ch = text[self.pos]
            if ch == '"':
                self.pos += 1
                return ''.join(out)
            if ch == '$' and self.pos + 1 < len(text) and (text[self.pos + 1].isalpha() or text[self.pos + 1] in '_{'):
                self.error('Interpolated strings are not supported')
            if ch == '\\' and self.pos + 1 < len(text):
                nxt = text[self.pos + 1]
                if nxt in _DQ_ESCAPES:
                    out.append(_DQ_ESCAPES[nxt])
                    self.pos += 2
                    continue
                match = re.match(r'x([0-9A-Fa-f]{1,2})|([0-7]{1,3})|u\{([0-9A-Fa-f]+)\}', text[self.pos + 1:])
                if match:
                    if match.group(1):
                        out.append(chr(int(match.group(1), 16)))
                    elif match.group(2):
                        out.append(chr(int(match.group(2), 8) & 0xFF))
                    else:
                        out.append(chr(int(match.group(3), 16)))
                    self.pos += 1 + match.end()
                    continue
            out.append(ch)
            self.pos += 1

    def array(self, close):
        entries = []
        implicit = True
        next_index = 0
        while True:
            if self.peek(close):
                self.pos += len(close)
                break
            first = self.value()
            if self.peek('=>'):
                self.pos += 2
                key = first
                if isinstance(key, bool) or key is None or isinstance(key, float):
                    key = int(key) if key is not None else ''
                elif isinstance(key, str) and re.fullmatch(r'-?[1-9]\d*|0', key):
                    key = int(key)  # PHP turns decimal-integer string keys into ints
                implicit = False
                entries.append((key, self.value()))
                if isinstance(key, int) and key >= next_index:
                    next_index = key + 1
            else:
                entries.append((next_index, first))
                next_index += 1
            if self.peek(','):
                self.pos += 1
            elif not self.peek(close):
                self.error('Expected "," or %r' % close)
        if implicit:
            return [val for key, val in entries]
        result = {}
        for key, val in entries:
            result[key] = val
        return result


def load(text):
    """Parse an env.php/config.php text; returns the returned value (usually a dict)."""
    parser = _Parser(text)
    parser.skip()
    if parser.text.startswith('<?php', parser.pos):
        parser.pos += 5
    parser.skip()
    match = re.compile(r'return\b', re.I).match(parser.text, parser.pos)
    if not match:
        parser.error('Expected "return"')
    parser.pos = match.end()
    data = parser.value()
    parser.skip()
    if parser.peek(';'):
        parser.pos += 1
    parser.skip()
    if parser.text.startswith('?>', parser.pos):
        parser.pos += 2
    if parser.text[parser.pos:].strip():
        parser.error('Unexpected text after the returned value')
    return data


def load_file(path, default=None):
    """``load`` of a file; ``default`` when it does not exist."""
    try:
        with open(path, encoding='utf-8') as handle:
            text = handle.read()
    except FileNotFoundError:
        return default
    return load(text)


# ---------------------------------------------------------------------------------------------- dump

def export_scalar(value):
    """PHP ``var_export`` of a scalar (what the formatter writes for keys and leaf values)."""
    if value is None:
        return 'null'
    if value is True:
        return 'true'
    if value is False:
        return 'false'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise PhpArrayError('Cannot export %r' % value)
        text = repr(value)
        return text if ('.' in text or 'e' in text or 'E' in text) else text + '.0'
    if isinstance(value, str):
        return "'" + value.replace('\\', '\\\\').replace("'", "\\'") + "'"
    raise PhpArrayError('Cannot export a %s' % type(value).__name__)


def _is_list_like(value):
    if isinstance(value, (list, tuple)):
        return True
    return list(value.keys()) == list(range(len(value)))


def export(value, depth=1):
    """The formatter's ``varExportShort``: arrays expanded one entry per line."""
    if not isinstance(value, (dict, list, tuple)):
        return export_scalar(value)
    indexed = _is_list_like(value)
    items = enumerate(value) if isinstance(value, (list, tuple)) else value.items()
    lines = []
    for key, item in items:
        prefix = '' if indexed else export_scalar(key) + ' => '
        lines.append(INDENT * depth + prefix + export(item, depth + 1))
    return '[\n%s\n%s]' % (',\n'.join(lines), INDENT * (depth - 1))


def dump(data):
    """The text of env.php/config.php for ``data``."""
    return '<?php\nreturn ' + export(data, 1) + ';\n'


def dump_file(path, data, mode=None):
    """Write ``dump(data)`` to ``path`` atomically (temporary file + rename); keeps the file's mode."""
    import os
    import tempfile
    directory = os.path.dirname(os.path.abspath(path))
    if mode is None:
        try:
            mode = os.stat(path).st_mode & 0o7777
        except OSError:
            mode = 0o644
    fd, tmp = tempfile.mkstemp(prefix='.tmp-', dir=directory)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            handle.write(dump(data))
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
