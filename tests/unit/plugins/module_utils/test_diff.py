# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.commerceops.magento.plugins.module_utils._diff import MASK, build_diff, mask_secrets


def test_diff_holds_only_changed_keys():
    diff = build_diff({'a': 1, 'b': 2, 'c': 3}, {'a': 1, 'b': 5})
    assert diff == {'before': {'b': 2}, 'after': {'b': 5}}


def test_create_and_delete_diffs_use_state():
    assert build_diff(None, {'a': 1})['before'] == {'state': 'absent'}
    assert build_diff({'a': 1}, None) == {'before': {'a': 1, 'state': 'present'}, 'after': {'state': 'absent'}}


def test_secrets_are_masked_at_any_depth_but_empty_values_stay_visible():
    data = {'credentials': {'consumer_secret': 's3cr3t-value', 'access_token': None}, 'list': [{'consumer_secret': 'x' * 32}]}
    masked = mask_secrets(data, {'consumer_secret', 'access_token'})
    assert masked['credentials'] == {'consumer_secret': MASK, 'access_token': None}
    assert masked['list'] == [{'consumer_secret': MASK}]
    assert 's3cr3t' not in str(build_diff({'consumer_secret': 'old-secret'}, {'consumer_secret': 's3cr3t-value'},
                                          ['consumer_secret']))
