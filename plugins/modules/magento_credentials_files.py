#!/usr/bin/python
# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# The work is done by the action plugin of the same name, on the controller (it declares _supports_check_mode = True
# and honours diff mode); this file holds its documentation.

from __future__ import annotations

DOCUMENTATION = r'''
module: magento_credentials_files
short_description: Write integrations' credentials files on the controller, optionally encrypted with Ansible Vault
version_added: 0.1.0
description:
  - Writes one JSON file per integration, C(<name>.json), into a directory on the B(controller), all in one task
    whatever the number of integrations. The file holds C(name), C(consumer_key), C(consumer_secret), C(access_token)
    and C(access_token_secret), as O(commerceops.magento.magento_integration_auth#module:credentials_file) writes it.
  - Each write is atomic. The content goes to a temporary file of mode C(0600) in the same directory, which is then
    renamed over the file. A reader sees the old file or the new one, never a part. No secret is written anywhere
    else, on the controller or the managed node, and no module is transferred to the host.
  - If a run is killed in the middle of a write, only that private temporary file is left beside its target. The
    next run removes it and says so in a warning.
  - A file is written only when its content, its encryption or its mode differs, so a rerun reports no change.
    With O(vault_password) the comparison is of the B(decrypted) content, because vault encryption is salted and
    each encryption of the same content differs.
  - The directory is created with mode C(0700) if missing, and set to C(0700) if it has another mode. Files of
    integrations not in O(credentials) are left alone.
  - The files belong to the user that runs Ansible on the controller. C(become) and C(delegate_to) do not change where
    or as whom they are written.
author:
  - commerceops.magento contributors (@commerceops)
options:
  path:
    description:
      - The directory on the controller. When several hosts of a play write credentials, give each host its own
        directory (for example one that ends with C({{ inventory_hostname }})), since the file names come only from
        the integration names.
    type: path
    required: true
  credentials:
    description:
      - The credentials of each integration, by integration name. For each item of
        RV(commerceops.magento.magento_integration_auth#module:results), its C(name) and its C(credentials).
      - The file name is the integration name with every character outside C(A-Za-z0-9_.-) replaced by C(_), then
        C(.json). Two names that make the same file name fail the task before any write.
    type: dict
    required: true
  vault_password:
    description:
      - Encrypt every file with Ansible Vault (AES256) with this password. C(ansible-vault view) and
        M(ansible.builtin.include_vars) read the files with the same password.
      - Omitted or empty, the files are plain JSON. A vault file that this task now writes in plain text, or that
        the password cannot decrypt, is replaced, with a warning.
    type: str
  vault_id:
    description:
      - The vault id label written in each file's header (C($ANSIBLE_VAULT;1.2;AES256;<vault_id>)), so that
        C(--vault-id <vault_id>@...) picks the right password. Needs O(vault_password).
      - A file whose label differs is rewritten.
    type: str
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details: Everything runs on the controller.
  async:
    description: Supports being used with the C(async) keyword.
    support: none
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Check mode reads the existing files and reports exactly which a real run would write; it writes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The diff is keyed by integration name; consumer secrets, access tokens and token secrets are masked.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    details: The files are written on the controller, whatever the managed node.
    platforms: posix
notes:
  - The files hold secrets. Keep the directory out of version control unless the files are vault-encrypted.
seealso:
  - module: commerceops.magento.magento_integration_auth
  - module: ansible.builtin.include_vars
'''

EXAMPLES = r'''
- name: Authorize the integrations and prove their tokens
  commerceops.magento.magento_integration_auth:
    magento_root: /var/www/magento
    integrations:
      - name: Acme ERP
      - name: Acme PIM
  register: authorized
  no_log: true

- name: Keep each host's credentials in its own directory on the controller, vault-encrypted
  commerceops.magento.magento_credentials_files:
    path: "{{ playbook_dir }}/credentials/{{ inventory_hostname }}"
    credentials: "{{ dict(authorized.results | map(attribute='name') | zip(authorized.results | map(attribute='credentials'))) }}"
    vault_password: "{{ credentials_vault_password }}"
    vault_id: magento

- name: Read one of them back in a later play (with --vault-id magento@prompt)
  ansible.builtin.include_vars:
    file: "{{ playbook_dir }}/credentials/{{ inventory_hostname }}/Acme_ERP.json"
    name: acme_erp
'''

RETURN = r'''
path:
  description: The directory the files are in.
  returned: always
  type: str
  sample: /home/deploy/onboarding/credentials/shop1
files:
  description: One item per integration of O(credentials), sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The integration's name.
      type: str
      sample: Acme ERP
    path:
      description: Its file.
      type: str
      sample: /home/deploy/onboarding/credentials/shop1/Acme_ERP.json
    changed:
      description: Whether the file was written (or would be, in check mode).
      type: bool
      sample: false
removed_temp_files:
  description: Temporary files of writes that an earlier, killed run left in the directory, removed by this run
    (in check mode, those that would be removed).
  returned: always
  type: list
  elements: str
  sample: []
'''
