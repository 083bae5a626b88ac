"""Sum up the PHP bridge's line coverage recorded by the emulator's real-PHP runs (scripts/test.sh, stage phpcov).

    python scripts/php_coverage.py DIR [--min PERCENT]

DIR holds one JSON file per bridge process ({"sha1": ..., "lines": {line: 1 | -1}}, written by
extensions/emulator/magento_emulator/php/coverage.php). Only runs of the current BRIDGE_SOURCE count. Prints
"PHP bridge: N of M lines executed (P %)", then the bridge's lines never executed; exit 1 below --min.
"""

import argparse
import ast
import glob
import hashlib
import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def bridge_source():
    path = os.path.join(REPO, 'plugins', 'module_utils', '_bridge_php.py')
    with open(path, encoding='utf-8') as handle:
        tree = ast.parse(handle.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == 'BRIDGE_SOURCE' for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit('BRIDGE_SOURCE not found in %s' % path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('directory')
    parser.add_argument('--min', type=float, default=0.0, help='fail below this percentage')
    parser.add_argument('--missed', type=int, default=40, help='list at most this many missed lines')
    args = parser.parse_args(argv)
    source = bridge_source()
    digest = hashlib.sha1(source.encode('utf-8')).hexdigest()
    executable, executed, runs, stale = set(), set(), 0, 0
    for path in glob.glob(os.path.join(args.directory, '*.json')):
        try:
            with open(path, encoding='utf-8') as handle:
                record = json.load(handle)
        except (OSError, ValueError):
            continue
        if record.get('sha1') != digest:
            stale += 1
            continue
        runs += 1
        lines = record.get('lines') or {}
        for line, hits in (lines.items() if isinstance(lines, dict) else enumerate(lines)):
            executable.add(int(line))
            if hits > 0:
                executed.add(int(line))
    if not runs:
        print('PHP bridge: no coverage recorded in %s (%d records of other bridge versions); the suites record it when '
              'pcov is loaded (scripts/bootstrap.sh installs php-pcov)' % (args.directory, stale))
        return 1
    percent = 100.0 * len(executed) / len(executable)
    print('PHP bridge: %d of %d lines executed (%.1f %%, %d bridge runs)' % (len(executed), len(executable), percent, runs))
    text = source.splitlines()
    missed = sorted(executable - executed)
    for line in missed[:args.missed]:
        print('  not executed: line %4d: %s' % (line, text[line - 1].strip() if line <= len(text) else ''))
    if len(missed) > args.missed:
        print('  ... and %d more' % (len(missed) - args.missed))
    if percent < args.min:
        print('PHP bridge: below the %.0f %% the suites must reach' % args.min)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
