# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plan-then-write engine (_plan): what every concern relies on."""

from __future__ import annotations

import pytest

from ansible_collections.commerceops.magento.plugins.module_utils._diff import MASK, build_diff
from ansible_collections.commerceops.magento.plugins.module_utils._plan import (
    apply, ensure_state, pending, plan, step_diff,
)

ACME = {'name': 'Acme', 'email': 'old@acme.example', 'consumer_secret': 'old-secret-value'}


def three_steps():
    """A create, an update and a delete, with an object that needs nothing between them."""
    return plan([
        ('new', None, {'name': 'new', 'email': 'new@example.com'}),
        ('acme', ACME, {'email': 'new@acme.example', 'consumer_secret': 'new-secret-value'}),
        ('same', {'name': 'same', 'email': 'a@b.example'}, {'email': 'a@b.example'}),
        ('gone', {'name': 'gone'}, None),
    ], ensure_state)


def refuse_to_write(steps):
    raise AssertionError('written in check mode: %r' % [step['key'] for step in steps])


def test_plan_decides_each_object_in_order():
    steps = three_steps()
    assert [(step['key'], step['action']) for step in steps] == [
        ('new', 'create'), ('acme', 'update'), ('same', None), ('gone', 'delete')]
    assert [step['key'] for step in pending(steps)] == ['new', 'acme', 'gone']


def test_plan_expects_desired_over_current_and_nothing_after_a_delete():
    after = dict((step['key'], step['after']) for step in three_steps())
    assert after['acme'] == dict(ACME, email='new@acme.example', consumer_secret='new-secret-value')
    assert after['same'] == {'name': 'same', 'email': 'a@b.example'}
    assert after['new'] == {'name': 'new', 'email': 'new@example.com'}
    assert after['gone'] is None


def test_ensure_state_of_an_absent_object_that_is_not_wanted_is_nothing():
    assert ensure_state(None, None) is None


def test_a_refused_object_stops_the_plan_before_anything_is_written():
    def decide(current, desired):
        if desired['value'] == 'bad':
            raise ValueError('refused')
        return 'set'
    with pytest.raises(ValueError):
        plan([('a', None, {'value': 'good'}), ('b', None, {'value': 'bad'})], decide)


def test_check_mode_never_calls_the_writer_and_keeps_the_planned_objects():
    steps = three_steps()
    planned = [step['after'] for step in steps]
    assert apply(steps, refuse_to_write, check_mode=True) is steps
    assert [step['after'] for step in steps] == planned


def test_apply_writes_only_the_steps_with_an_action_once_and_in_order():
    calls = []

    def write(todo):
        calls.append([step['key'] for step in todo])
        return [{'name': step['key'], 'written': index} for index, step in enumerate(todo)]
    steps = apply(three_steps(), write, check_mode=False)
    assert calls == [['new', 'acme', 'gone']]
    assert [step['key'] for step in steps] == ['new', 'acme', 'same', 'gone']
    assert steps[0]['after'] == {'name': 'new', 'written': 0}
    assert steps[1]['after'] == {'name': 'acme', 'written': 1}
    assert steps[2]['after'] == {'name': 'same', 'email': 'a@b.example'}
    assert steps[3]['after'] is None


def test_apply_without_anything_to_do_calls_no_writer():
    steps = plan([('same', {'a': 1}, {'a': 1})], ensure_state)
    apply(steps, refuse_to_write, check_mode=False)


def test_a_writer_that_reads_nothing_back_leaves_the_planned_objects():
    steps = three_steps()
    planned = [step['after'] for step in steps]
    apply(steps, lambda todo: None, check_mode=False)
    assert [step['after'] for step in steps] == planned


def test_step_diff_holds_only_changed_keys_with_secrets_masked():
    acme = three_steps()[1]
    diff = step_diff(acme, secret_keys=('consumer_secret',))
    assert diff == {'before': {'email': 'old@acme.example', 'consumer_secret': MASK},
                    'after': {'email': 'new@acme.example', 'consumer_secret': MASK}}
    assert 'name' not in diff['before'] and 'secret-value' not in str(diff)


def test_step_diff_of_create_delete_and_no_action():
    new, _acme, same, gone = three_steps()
    assert step_diff(new) == {'before': {'state': 'absent'},
                              'after': {'name': 'new', 'email': 'new@example.com', 'state': 'present'}}
    assert step_diff(gone) == {'before': {'name': 'gone', 'state': 'present'}, 'after': {'state': 'absent'}}
    assert step_diff(same) == {'before': {}, 'after': {}}


def test_build_diff_with_the_plans_keys_shows_them_even_when_the_value_stays():
    diff = build_diff({'a': '1', 'b': 'x', 'pw': 'old'}, {'a': '1', 'b': 'y', 'pw': 'new'}, secret_keys=('pw',),
                      keys=('a', 'pw'))
    assert diff == {'before': {'a': '1', 'pw': MASK}, 'after': {'a': '1', 'pw': MASK}}
