"""The fake ``php`` of an emulated root (bin/php): dispatches what the collection runs with PHP."""

import os
import sys

PHP_BANNER = ('PHP 8.2.26 (cli) (built: Nov 21 2024 18:00:00) (NTS)\n'
              'Copyright (c) The PHP Group\n'
              'Zend Engine v4.2.26, Copyright (c) Zend Technologies\n'
              '    with Zend OPcache v8.2.26, Copyright (c), by Zend Technologies\n')


def _is_bin_magento(path):
    path = os.path.abspath(path)
    return os.path.basename(path) == 'magento' and os.path.basename(os.path.dirname(path)) == 'bin'


def _magento_root(bin_magento):
    return os.path.dirname(os.path.dirname(os.path.abspath(bin_magento)))


def main(argv, stdin=None, stdout=None, stderr=None, real_php=None):
    """Run ``php ARGV``; returns the exit code.

    ``real_php``: the PHP the root was created with (realphp.py); a bridge script runs with it, else with
    the bridge's Python copy (bridge.py)."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    args = list(argv)
    # php's own ini switches (-d key=value, -n, -q) may come first
    while args and args[0] in ('-d', '-n', '-q', '-f') or (args and args[0].startswith('-d') and len(args[0]) > 2):
        option = args.pop(0)
        if option == '-d' and args:
            args.pop(0)
        if option == '-f':
            break
    if not args:
        stderr.write('magento-emulator php: reading a script from stdin is not emulated\n')
        return 1
    first = args[0]
    if first in ('-v', '--version'):
        stdout.write(PHP_BANNER)
        return 0
    if first == '-l' and len(args) > 1:
        if not os.path.isfile(args[1]):
            stdout.write('Could not open input file: %s\n' % args[1])
            return 1
        stdout.write('No syntax errors detected in %s\n' % args[1])
        return 0
    if first.startswith('-'):
        stderr.write('magento-emulator php: option %s is not emulated\n' % first)
        return 1
    if not os.path.isfile(first):
        stdout.write('Could not open input file: %s\n' % first)
        return 1
    if _is_bin_magento(first):
        from magento_emulator import cli_magento
        return cli_magento.main(_magento_root(first), args[1:])
    try:
        with open(first, encoding='utf-8', errors='replace') as handle:
            head = handle.read(65536)
    except OSError as exc:
        stderr.write('PHP Warning:  %s\n' % exc)
        stdout.write('Could not open input file: %s\n' % first)
        return 1
    from magento_emulator import bridge
    protocol = bridge.marker_protocol(head)
    if protocol is not None:
        from magento_emulator import realphp
        php = realphp.resolve(real_php)
        if php is None:
            return bridge.run(stdin, stdout, request_protocol=protocol, stderr=stderr)
        code, out, err = realphp.run(php, first, stdin.read(), request_protocol=protocol)
        stdout.write(out)
        stdout.flush()
        stderr.write(err)
        stderr.flush()
        return code
    stderr.write('magento-emulator php: %s is neither bin/magento nor the commerceops bridge; '
                 'only those are emulated\n' % first)
    return 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
