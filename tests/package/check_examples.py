"""Check each module's EXAMPLES: valid YAML, and every task of the module uses only options it documents.

    ANSIBLE_COLLECTIONS_PATH=... python tests/package/check_examples.py

Options come from ``ansible-doc --json`` (so doc fragments are merged in), suboptions are checked too. Prints one
line per problem and a closing ``N passed, N failed`` line (one check per module); exit code 1 on any failure.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys

import yaml

NAMESPACE = 'commerceops.magento'
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# keys a task may hold besides the module's arguments
TASK_KEYWORDS = {
    'name', 'register', 'when', 'loop', 'loop_control', 'with_items', 'with_dict', 'vars', 'notify', 'no_log',
    'become', 'become_user', 'become_method', 'delegate_to', 'run_once', 'changed_when', 'failed_when', 'tags',
    'check_mode', 'diff', 'ignore_errors', 'environment', 'module_defaults', 'until', 'retries', 'delay', 'args',
    'any_errors_fatal', 'throttle', 'timeout', 'connection', 'collections', 'debugger', 'listen',
}


def ansible_doc():
    found = shutil.which('ansible-doc', path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', ''))
    return found or 'ansible-doc'


def module_docs(names):
    out = subprocess.run([ansible_doc(), '--json', '-t', 'module'] + ['%s.%s' % (NAMESPACE, n) for n in names],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    if out.returncode != 0:
        raise SystemExit('ansible-doc failed: %s' % out.stderr.strip())
    return json.loads(out.stdout)


def check_args(args, options, where, problems):
    if not isinstance(args, dict):
        return
    known = {}
    for name, spec in options.items():
        known[name] = spec
        for alias in spec.get('aliases') or []:
            known[alias] = spec
    for key, value in args.items():
        if key not in known:
            problems.append('%s: unknown option %r (documented: %s)' % (where, key, ', '.join(sorted(options))))
            continue
        spec = known[key]
        subs = spec.get('suboptions')
        if subs and not (isinstance(value, str) and '{{' in value):
            items = value if isinstance(value, list) else [value]
            for index, item in enumerate(items):
                check_args(item, subs, '%s.%s[%d]' % (where, key, index), problems)
        choices = spec.get('choices')
        if choices and not isinstance(value, (list, dict)) and not (isinstance(value, str) and '{{' in value):
            if value not in choices and str(value) not in [str(c) for c in choices]:
                problems.append('%s: %s=%r is not one of %s' % (where, key, value, choices))


def walk_tasks(tasks):
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        yield task
        for section in ('block', 'rescue', 'always'):
            if section in task:
                yield from walk_tasks(task[section])


def main():
    paths = sorted(glob.glob(os.path.join(REPO, 'plugins', 'modules', '*.py')))
    names = [os.path.basename(p)[:-3] for p in paths if not os.path.basename(p).startswith('_')]
    docs = module_docs(names)
    passed = failed = 0
    for name in names:
        fqcn = '%s.%s' % (NAMESPACE, name)
        problems = []
        entry = docs.get(fqcn) or {}
        examples = entry.get('examples')
        options = (entry.get('doc') or {}).get('options') or {}
        if not entry:
            problems.append('%s: ansible-doc returned no documentation' % fqcn)
        elif not examples:
            problems.append('%s: no EXAMPLES' % fqcn)
        else:
            try:
                tasks = yaml.safe_load(examples)
            except yaml.YAMLError as exc:
                problems.append('%s: EXAMPLES is not valid YAML: %s' % (fqcn, str(exc).replace('\n', ' ')))
                tasks = None
            if tasks is not None and not isinstance(tasks, list):
                problems.append('%s: EXAMPLES is not a list of tasks' % fqcn)
                tasks = None
            used = 0
            for index, task in enumerate(walk_tasks(tasks)):
                for key in (fqcn, name):
                    if key in task:
                        used += 1
                        label = '%s EXAMPLES task %d (%s)' % (fqcn, index + 1, task.get('name', 'unnamed'))
                        if key == name:
                            problems.append('%s: uses the short name %r, not the FQCN' % (label, name))
                        check_args(task[key], options, label, problems)
                        extra = set(task) - TASK_KEYWORDS - {fqcn, name, 'block', 'rescue', 'always'}
                        others = [k for k in extra if '.' not in k]
                        if others:
                            problems.append('%s: unknown task keywords %s' % (label, sorted(others)))
            if tasks is not None and used == 0:
                problems.append('%s: EXAMPLES never uses the module' % fqcn)
        if problems:
            failed += 1
            for problem in problems:
                print('FAIL %s' % problem)
        else:
            passed += 1
            print('ok   %s EXAMPLES' % fqcn)
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
