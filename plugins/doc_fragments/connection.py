# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  magento_root:
    description:
      - The Magento installation directory on the managed node, the one holding C(bin/magento) and C(app/etc/env.php).
      - The module runs on that host as a user who may read Magento's files (usually the file-system owner, via C(become_user)).
      - If not set, the E(MAGENTO_ROOT) environment variable is used.
    type: path
  php_executable:
    description:
      - The PHP CLI that runs C(bin/magento) and the collection's bridge script.
      - A name is looked up on E(PATH); a path is used as is.
      - If not set, the E(MAGENTO_PHP) environment variable is used, else C(php).
    type: str
    default: php
  magento_user:
    description:
      - The user every PHP process (C(bin/magento) and the bridge) runs as. Magento writes generated code under
        C(generated/) and cache entries under C(var/) with the owner of the process, and a file the web server cannot
        change takes the store down, so PHP runs as the owner of Magento's files.
      - If not set, the E(MAGENTO_USER) environment variable is used, else the owner of C(app/etc/env.php).
      - When the task runs as root (C(become) without C(become_user)) and this user is someone else, the module
        starts PHP as this user (its groups included).
      - When the task runs as another user, that user must be this one, or able to write C(var/) and C(generated/);
        otherwise the task fails before starting PHP, naming the owner to set as C(become_user).
    type: str
  base_url:
    description:
      - The store's base URL for HTTP calls (OAuth endpoints and REST), for example C(https://shop.example.com/).
      - If not set, the E(MAGENTO_BASE_URL) environment variable is used, else Magento's own C(web/unsecure/base_url).
      - Only modules that talk HTTP use it.
    type: str
  validate_certs:
    description:
      - Whether to verify TLS certificates of HTTPS calls. Only set to V(false) for stores with self-signed certificates.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each PHP process (bridge or C(bin/magento)) and each HTTP request.
    type: int
    default: 60
requirements:
  - PHP CLI on the managed node, the one Magento runs with.
'''
