"""A Python emulation of the parts of Magento 2.4.7 that commerceops.magento touches (see DESIGN.md)."""

import json
import os

# data/magento.json: the release the emulator plays, shared with the PHP stand-ins (php/).
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'magento.json'), encoding='utf-8') as _handle:
    _RELEASE = json.load(_handle)

MAGENTO_VERSION = _RELEASE['version']
MAGENTO_EDITION = _RELEASE['edition']
