"""``bin/magento`` of the emulator: config:set/show and cache:status/clean/flush/enable/disable.

Output, streams and exit codes follow the real 2.4.7-p3 transcripts (magento/observed/bin-magento.md):
command messages on stdout; errors raised by the Symfony console itself (unknown command or option,
missing or extra arguments) and uncaught command exceptions on stderr as Symfony's padded error
block, wrapped to the terminal width (``COLUMNS``, else 80 columns), then the command's usage line.
"""

import os
import re
import sys

from magento_emulator import cache, config, faults, files

VERSION_LINE = 'Magento CLI 2.4.7-p3'

VALUE_NONE, VALUE_REQUIRED, VALUE_OPTIONAL = 'none', 'required', 'optional'

# Commands of a stock 2.4.7 store that the emulator knows by name (used for "Did you mean" lists).
KNOWN_COMMANDS = (
    'admin:user:create', 'admin:user:unlock', 'app:config:dump', 'app:config:import', 'app:config:status',
    'cache:clean', 'cache:disable', 'cache:enable', 'cache:flush', 'cache:status',
    'config:sensitive:set', 'config:set', 'config:show', 'cron:install', 'cron:run',
    'deploy:mode:set', 'deploy:mode:show', 'help', 'indexer:reindex', 'indexer:status', 'list',
    'maintenance:disable', 'maintenance:enable', 'maintenance:status', 'module:disable', 'module:enable',
    'module:status', 'setup:di:compile', 'setup:static-content:deploy', 'setup:upgrade', 'store:list',
    'store:website:list',
)


class ConsoleError(Exception):
    """An exception rendered by the console as an error block on stderr.

    ``origin``: ``(file, line)`` for exceptions that are not the console's own (shown as
    ``In <file> line <n>:``); ``usage``: print the command's synopsis after the block; ``previous``: the
    exception it wraps, rendered as a block of its own after this one."""

    def __init__(self, message, origin=None, usage=True, previous=None):
        super().__init__(message)
        self.message = message
        self.origin = origin
        self.usage = usage
        self.previous = previous


class Option(object):
    def __init__(self, name, shortcut=None, mode=VALUE_NONE, default=None):
        self.name = name
        self.shortcut = shortcut
        self.mode = mode
        self.default = default if mode != VALUE_NONE else False

    @property
    def accepts_value(self):
        return self.mode != VALUE_NONE


class Argument(object):
    def __init__(self, name, required=False, is_array=False):
        self.name = name
        self.required = required
        self.is_array = is_array


GLOBAL_OPTIONS = (
    Option('help', 'h'), Option('quiet', 'q'), Option('verbose', 'v'), Option('version', 'V'),
    Option('ansi'), Option('no-ansi'), Option('no-interaction', 'n'),
)


class Command(object):
    def __init__(self, name, options, arguments, handler):
        self.name = name
        self.options = list(options)
        self.arguments = list(arguments)
        self.handler = handler

    def synopsis(self):
        parts = [self.name]
        for opt in self.options:
            short = '-%s|' % opt.shortcut if opt.shortcut else ''
            value = ''
            if opt.mode == VALUE_REQUIRED:
                value = ' ' + opt.name.upper()
            elif opt.mode == VALUE_OPTIONAL:
                value = ' [%s]' % opt.name.upper()
            parts.append('[%s--%s%s]' % (short, opt.name, value))
        if self.arguments:
            parts.append('[--]')
            for arg in self.arguments:
                text = '<%s>' % arg.name
                if arg.is_array:
                    text += '...'
                parts.append(text if arg.required else '[%s]' % text)
        return ' '.join(parts)


# ---------------------------------------------------------------------------------------------- Symfony's parser

def parse(command, tokens):
    """ArgvInput::parse + validate for ``command``: (options, arguments); raises ConsoleError."""
    options_def = {o.name: o for o in command.options + list(GLOBAL_OPTIONS)}
    shortcuts = {o.shortcut: o for o in command.options + list(GLOBAL_OPTIONS) if o.shortcut}
    opts = {}
    args = {}
    arg_count = [0]
    parsed = list(tokens)

    def add_long(name, value):
        option = options_def.get(name)
        if option is None:
            raise ConsoleError('The "--%s" option does not exist.' % name)
        if value is not None and not option.accepts_value:
            raise ConsoleError('The "--%s" option does not accept a value.' % name)
        if value in ('', None) and option.accepts_value and parsed:
            nxt = parsed.pop(0)
            if (nxt[:1] and nxt[0] != '-') or nxt == '':
                value = nxt
            else:
                parsed.insert(0, nxt)
        if value is None:
            if option.mode == VALUE_REQUIRED:
                raise ConsoleError('The "--%s" option requires a value.' % name)
            if option.mode == VALUE_NONE:
                value = True
        opts[name] = value

    def add_short(char, value):
        option = shortcuts.get(char)
        if option is None:
            raise ConsoleError('The "-%s" option does not exist.' % char)
        add_long(option.name, value)

    def add_argument(token):
        index = arg_count[0]
        if index < len(command.arguments):
            arg = command.arguments[index]
            args[arg.name] = [token] if arg.is_array else token
            arg_count[0] += 1
        elif command.arguments and command.arguments[-1].is_array:
            args[command.arguments[-1].name].append(token)
        elif command.arguments:
            raise ConsoleError('Too many arguments to "%s" command, expected arguments "%s".'
                               % (command.name, '" "'.join(a.name for a in command.arguments)))
        else:
            raise ConsoleError('No arguments expected for "%s" command, got "%s".' % (command.name, token))

    parse_options = True
    while parsed:
        token = parsed.pop(0)
        if parse_options and token == '':
            add_argument(token)
        elif parse_options and token == '--':
            parse_options = False
        elif parse_options and token.startswith('--'):
            name = token[2:]
            if '=' in name:
                name, value = name.split('=', 1)
                if value == '':
                    parsed.insert(0, value)
                add_long(name, value)
            else:
                add_long(name, None)
        elif parse_options and token[0] == '-' and token != '-':
            name = token[1:]
            if len(name) > 1:
                first = shortcuts.get(name[0])
                if first is not None and first.accepts_value:
                    add_short(name[0], name[1:])
                else:
                    for pos, char in enumerate(name):
                        option = shortcuts.get(char)
                        if option is None:
                            raise ConsoleError('The "-%s" option does not exist.' % char)
                        if option.accepts_value:
                            add_long(option.name, name[pos + 1:] or None)
                            break
                        add_long(option.name, None)
            else:
                add_short(name, None)
        else:
            add_argument(token)
    missing = [a.name for a in command.arguments if a.required and a.name not in args]
    if missing:
        raise ConsoleError('Not enough arguments (missing: "%s").' % ', '.join(missing))
    for option in command.options:
        opts.setdefault(option.name, option.default)
    for arg in command.arguments:
        args.setdefault(arg.name, [] if arg.is_array else None)
    return opts, args


# ---------------------------------------------------------------------------------------------- error rendering

def terminal_width():
    columns = os.environ.get('COLUMNS')
    if columns is not None:
        try:
            return int(columns.strip())
        except ValueError:
            return 0
    return 80


def render_error(error, command=None):
    """Symfony's ``renderThrowable`` (not verbose, not decorated) as text for stderr: one block per exception
    of the chain (``previous``), then the command's synopsis."""
    width = terminal_width()
    width = width - 1 if width else sys.maxsize
    out = ['']
    current = error
    while current is not None:
        message = current.message.strip()
        lines = []
        length = 0
        for line in re.split(r'\r?\n', message) if message else []:
            chunks = [line[i:i + width - 4] for i in range(0, len(line), width - 4)] or ['']
            for chunk in chunks:
                lines.append(chunk)
                length = max(length, len(chunk) + 4)
        if current.origin:
            out.append('In %s line %s:' % current.origin)
        empty = ' ' * length
        out.append(empty)
        for line in lines:
            out.append('  %s  %s' % (line, ' ' * (length - len(line) - 4)))
        out.append(empty)
        out.append('')
        current = getattr(current, 'previous', None)
    if command is not None and error.usage:
        out.append(command.synopsis())
        out.append('')
    return '\n'.join(out) + '\n'


# ---------------------------------------------------------------------------------------------- command lookup

def _levenshtein(a, b):
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _alternatives(name, collection):
    """Symfony's ``findAlternatives``."""
    threshold = 1000
    found = {}
    parts_of = {item: item.split(':') for item in collection}
    for i, sub in enumerate(name.split(':')):
        for item, parts in parts_of.items():
            exists = item in found
            if i >= len(parts):
                if exists:
                    found[item] += threshold
                continue
            lev = _levenshtein(sub, parts[i])
            if lev <= len(sub) / 3 or (sub != '' and sub in parts[i]):
                found[item] = found[item] + lev if exists else lev
            elif exists:
                found[item] += threshold
    for item in collection:
        lev = _levenshtein(name, item)
        if lev <= len(name) / 3 or name in item:
            found[item] = found[item] - lev if item in found else lev
    return sorted((k for k, v in found.items() if v < 2 * threshold), key=lambda k: k.lower())


def _namespaces():
    spaces = set()
    for name in KNOWN_COMMANDS:
        parts = name.split(':')
        for i in range(1, len(parts)):
            spaces.add(':'.join(parts[:i]))
    return sorted(spaces)


def _did_you_mean(message, alternatives):
    if alternatives:
        message += '\n\nDid you mean this?\n    ' if len(alternatives) == 1 else '\n\nDid you mean one of these?\n    '
        message += '\n    '.join(alternatives)
    return message


def _expr(name):
    return '[^:]*:'.join(re.escape(p) for p in name.split(':')) + '[^:]*'


def find_command(name):
    """Application::find: the full command name; raises ConsoleError (no usage line)."""
    if name in KNOWN_COMMANDS:
        return name
    expr = _expr(name)
    matches = [c for c in KNOWN_COMMANDS if re.match('^' + expr, c)]
    if not matches:
        matches = [c for c in KNOWN_COMMANDS if re.match('^' + expr, c, re.I)]
    if not matches or not any(re.match('^' + expr + '$', c, re.I) for c in matches):
        if ':' in name:
            namespace = name.rsplit(':', 1)[0]
            spaces = _namespaces()
            space_expr = _expr(namespace)
            if not [s for s in spaces if re.match('^' + space_expr, s)]:
                raise ConsoleError(_did_you_mean('There are no commands defined in the "%s" namespace.' % namespace,
                                                 _alternatives(namespace, spaces)), usage=False)
        raise ConsoleError(_did_you_mean('Command "%s" is not defined.' % name,
                                         _alternatives(name, KNOWN_COMMANDS)), usage=False)
    exact = [c for c in matches if re.match('^' + expr + '$', c, re.I)]
    if len(exact) == 1:
        return exact[0]
    if len(matches) == 1:
        return matches[0]
    raise ConsoleError('Command "%s" is ambiguous.\nDid you mean one of these?\n%s'
                       % (name, '\n'.join('    ' + m for m in sorted(matches))), usage=False)


# ---------------------------------------------------------------------------------------------- commands

class Io(object):
    def __init__(self, stdout, quiet=False):
        self.stdout = stdout
        self.quiet = quiet

    def line(self, text=''):
        if not self.quiet:
            self.stdout.write(text + '\n')


def cmd_config_set(root, opts, args, io):
    lock = None
    if opts.get('lock-env') or opts.get('lock'):
        lock = 'env'
    elif opts.get('lock-config'):
        lock = 'config'
    try:
        message = config.set_value(root, args['path'], args['value'], opts.get('scope'), opts.get('scope-code'),
                                   lock=lock)
    except (config.InputError, config.MagentoError) as exc:
        io.line(exc.message)
        return 1
    io.line(message)
    return 0


def cmd_config_show(root, opts, args, io):
    scope = opts.get('scope')
    code = opts.get('scope-code')
    try:
        lines = config.show(root, args.get('path') or None, '' if scope is None else scope, code)
    except (config.InputError, config.MagentoError) as exc:
        io.line(exc.message)
        return 1
    for line in lines:
        io.line(line)
    return 0


def _types(args):
    try:
        return cache.requested(args.get('types') or [])
    except cache.UnsupportedTypesError as exc:
        raise ConsoleError(exc.message, origin=('AbstractCacheManageCommand.php', 55))


def cmd_cache_status(root, opts, args, io):
    enabled = cache.enabled_map(root)
    io.line('Current status:')
    for type_id in cache.TYPE_IDS:
        io.line('%30s: %d' % (type_id, 1 if enabled[type_id] else 0))
    return 0


def cmd_cache_clean(root, opts, args, io):
    types = _types(args)
    cache.clean(root, types)
    io.line('Cleaned cache types:')
    io.line('\n'.join(types))
    return 0


def cmd_cache_flush(root, opts, args, io):
    types = _types(args)
    cache.flush(root, types)
    io.line('Flushed cache types:')
    io.line('\n'.join(types))
    return 0


def _cache_switch(root, args, io, enabled):
    types = _types(args)
    changed = cache.set_enabled(root, types, enabled)
    if changed:
        io.line('Changed cache status:')
        for type_id in changed:
            io.line('%30s: %d -> %d' % (type_id, 0 if enabled else 1, 1 if enabled else 0))
    else:
        io.line('There is nothing to change in cache status')
    if changed and enabled:
        cache.clean(root, changed)
        io.line('Cleaned cache types:')
        io.line('\n'.join(changed))
    return 0


def cmd_cache_enable(root, opts, args, io):
    return _cache_switch(root, args, io, True)


def cmd_cache_disable(root, opts, args, io):
    return _cache_switch(root, args, io, False)


def cmd_app_config_status(root, opts, args, io):
    io.line('Config files are up to date.')
    return 0


def cmd_deploy_mode_show(root, opts, args, io):
    from magento_emulator import phparray
    data = phparray.load_file(os.path.join(root, 'app', 'etc', 'env.php'), default={}) or {}
    io.line('Current application mode: %s. (Note: Environment variables may override this value.)'
            % (data.get('MAGE_MODE') or 'default'))
    return 0


_BOOTSTRAP = Option('bootstrap', mode=VALUE_REQUIRED)
_TYPES = Argument('types', is_array=True)

COMMANDS = {
    'config:set': Command('config:set', [
        Option('scope', mode=VALUE_REQUIRED, default='default'),
        Option('scope-code', mode=VALUE_REQUIRED),
        Option('lock-env', 'e'), Option('lock-config', 'c'), Option('lock', 'l'),
    ], [Argument('path', required=True), Argument('value', required=True)], cmd_config_set),
    'config:show': Command('config:show', [
        Option('scope', mode=VALUE_OPTIONAL, default='default'),
        Option('scope-code', mode=VALUE_OPTIONAL),
    ], [Argument('path')], cmd_config_show),
    'cache:status': Command('cache:status', [_BOOTSTRAP], [], cmd_cache_status),
    'cache:clean': Command('cache:clean', [_BOOTSTRAP], [_TYPES], cmd_cache_clean),
    'cache:flush': Command('cache:flush', [_BOOTSTRAP], [_TYPES], cmd_cache_flush),
    'cache:enable': Command('cache:enable', [_BOOTSTRAP], [_TYPES], cmd_cache_enable),
    'cache:disable': Command('cache:disable', [_BOOTSTRAP], [_TYPES], cmd_cache_disable),
    'app:config:status': Command('app:config:status', [], [], cmd_app_config_status),
    'deploy:mode:show': Command('deploy:mode:show', [], [], cmd_deploy_mode_show),
}


# ---------------------------------------------------------------------------------------------- faults

# Commands that need Magento's database (config reads and writes); the cache commands work on the file cache.
DATABASE_COMMANDS = ('config:set', 'config:show')


def _db_down(rule):
    """The exception chain Magento's console shows when MySQL refuses the connection (faults.py ``db_down``)."""
    message = str(rule.get('message') or faults.DB_DOWN_MESSAGE)
    cause = ConsoleError(message, origin=faults.DB_DOWN_ORIGINS[1])
    return ConsoleError(message, origin=faults.DB_DOWN_ORIGINS[0], previous=cause)


class _HostFaults(object):
    """The host faults (faults.py) that apply to one ``bin/magento`` run."""

    def __init__(self, root, name, tokens):
        line = [' '.join([name] + list(tokens))]
        self.down = faults.take_host(root, 'db_down', line)[0] if name in DATABASE_COMMANDS else None
        self.fail = faults.take_host(root, 'bin_magento', line)[0]
        self.delay = faults.take_host(root, 'bin_magento_delay', line)[0]

    def reach(self, after, command, stdout, stderr):
        """Before (``after`` False) or after the command's work: sleep, or end the run with the fault's error."""
        if self.delay is not None and bool(self.delay.get('after')) == after:
            faults.sleep(self.delay)
        if self.fail is not None and bool(self.fail.get('after')) == after:
            rule = self.fail
            message = str(rule.get('message') or faults.DEADLOCK_MESSAGE)
            stdout.flush()
            if rule.get('stream') == 'stdout':
                stdout.write(message + '\n')
                stdout.flush()
            else:
                origin = rule.get('origin')
                if isinstance(origin, str) and ':' in origin:
                    origin = tuple(origin.rsplit(':', 1))
                stderr.write(render_error(ConsoleError(message, origin=origin or None), command))
            raise faults.ProcessExit(faults.exit_code(rule))


def _first_argument(argv):
    for index, token in enumerate(argv):
        if token == '--':
            return index + 1 if index + 1 < len(argv) else None
        if token and token[0] == '-':
            continue
        return index
    return None


def main(root, argv, stdout=None, stderr=None):
    """Run ``bin/magento ARGV`` against the fake root ``root``; returns the exit code."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    argv = list(argv)
    root = str(root)
    quiet = any(t in ('-q', '--quiet') for t in argv)
    io = Io(stdout, quiet)
    try:
        # Cli's constructor boots Magento before it looks at the command, and prints what failed on stdout.
        files.boot(root)
    except files.BootstrapError as exc:
        stdout.write(exc.message + '\n')
        stdout.flush()
        return 1
    index = _first_argument(argv)
    if index is None:
        if '--version' in argv or '-V' in argv:
            io.line(VERSION_LINE)
            return 0
        io.line(VERSION_LINE)
        io.line('')
        io.line('Available commands (emulated):')
        for name in sorted(COMMANDS):
            io.line('  ' + name)
        return 0
    before = argv[:index]
    if '--version' in before or '-V' in before:
        io.line(VERSION_LINE)
        return 0
    try:
        name = find_command(argv[index])
    except ConsoleError as exc:
        stderr.write(render_error(exc))
        return 1
    command = COMMANDS.get(name)
    if command is None:
        stderr.write('magento-emulator: "bin/magento %s" is not emulated (only %s are).\n'
                     % (name, ', '.join(sorted(COMMANDS))))
        return 1
    tokens = before + argv[index + 1:]
    try:
        opts, args = parse(command, tokens)
        if opts.get('help'):
            io.line('Usage:')
            io.line('  ' + command.synopsis())
            return 0
        host = _HostFaults(root, name, tokens)
        if host.down is not None:
            raise _db_down(host.down)
        host.reach(False, command, stdout, stderr)
        code = command.handler(root, opts, args, io)
        host.reach(True, command, stdout, stderr)
        return code
    except faults.ProcessExit as ended:
        return ended.code
    except ConsoleError as exc:
        stdout.flush()
        stderr.write(render_error(exc, command))
        return 1
    finally:
        stdout.flush()
