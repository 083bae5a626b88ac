# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options: {}
'''

    ACTION_GROUP = r'''
options: {}
attributes:
  action_group:
    description: Use C(group/commerceops.magento.magento) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - commerceops.magento.magento
'''

    CHECK_MODE_READ_ONLY = r'''
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: This module only reads; check mode changes nothing about what it does.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
'''

    CHECK_MODE_EXACT = r'''
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Check mode reads the current state and computes the change exactly as a real run would,
        then skips every write. The reported RV(ignore:changed) equals that of the real run that follows.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The diff holds only the keys that change; secrets are masked.
'''
