"""The ACL tree of Magento 2.4.7-p3 (SPEC §10) and how integration roles store it (SPEC §1.10)."""

import json
import os
import random

from magento_emulator import faults

ROOT_ALL = 'Magento_Backend::all'
ROOT_ADMIN = 'Magento_Backend::admin'
USER_TYPE_INTEGRATION = 1

_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'acl-resources.json')
_CACHE = {}


def resources():
    """The flat tree ``[{"id", "title", "parent"}]`` in Magento's order (a fresh copy)."""
    if 'tree' not in _CACHE:
        with open(_DATA, encoding='utf-8') as handle:
            _CACHE['tree'] = json.load(handle)
    return [dict(entry) for entry in _CACHE['tree']]


def resource_ids():
    if 'ids' not in _CACHE:
        _CACHE['ids'] = [entry['id'] for entry in resources()]
    return list(_CACHE['ids'])


def is_known(resource_id):
    if 'set' not in _CACHE:
        _CACHE['set'] = frozenset(resource_ids())
    return resource_id in _CACHE['set']


def role_name_for(integration_id):
    """Magento names an integration's role '1' . <integration_id>."""
    return '%d%d' % (USER_TYPE_INTEGRATION, int(integration_id))


def get_role(conn, user_id, user_type=USER_TYPE_INTEGRATION):
    return conn.execute("SELECT * FROM authorization_role WHERE user_id = ? AND user_type = ? AND role_type = 'U' "
                        'ORDER BY role_id LIMIT 1', (int(user_id), str(user_type))).fetchone()


def ensure_integration_role(conn, integration_id):
    """The integration's role row (created if missing, like AuthorizationService::grantPermissions); its id."""
    role = get_role(conn, integration_id)
    if role is not None:
        return role['role_id']
    cur = conn.execute("INSERT INTO authorization_role (parent_id, tree_level, sort_order, role_type, user_id, "
                       "user_type, role_name) VALUES (0, 1, 0, 'U', ?, ?, ?)",
                       (int(integration_id), str(USER_TYPE_INTEGRATION), role_name_for(integration_id)))
    return cur.lastrowid


def save_rel(conn, role_id, resource_list):
    """Rules::saveRel: replace the role's rules (caller holds the transaction).

    * ``[]`` → no rows;
    * exactly ``["Magento_Backend::all"]`` → one allow row for it ("All");
    * otherwise the list plus ``Magento_Backend::admin``: one row per known ACL id in tree order,
      ``allow`` if listed else ``deny``; unknown ids are ignored.
    """
    resource_list = list(resource_list or [])
    conn.execute('DELETE FROM authorization_rule WHERE role_id = ?', (role_id,))
    if not resource_list:
        return
    if resource_list == [ROOT_ALL]:
        conn.execute("INSERT INTO authorization_rule (role_id, resource_id, privileges, permission) "
                     "VALUES (?, ?, NULL, 'allow')", (role_id, ROOT_ALL))
        return
    wanted = set(resource_list)
    wanted.add(ROOT_ADMIN)
    conn.executemany("INSERT INTO authorization_rule (role_id, resource_id, privileges, permission) "
                     "VALUES (?, ?, NULL, ?)",
                     [(role_id, rid, 'allow' if rid in wanted else 'deny') for rid in resource_ids()])


def grant(conn, integration_id, all_resources, resource_list):
    """AuthorizationService: All when ``all_resources`` is truthy, else Custom with the list."""
    role_id = ensure_integration_role(conn, integration_id)
    save_rel(conn, role_id, [ROOT_ALL] if all_resources else (resource_list or []))
    return role_id


def remove_permissions(conn, integration_id):
    """Delete the integration's role (its rules go by FK cascade)."""
    conn.execute("DELETE FROM authorization_role WHERE role_name = ? AND role_type = 'U'",
                 (role_name_for(integration_id),))
    conn.execute("DELETE FROM authorization_role WHERE user_id = ? AND user_type = ? AND role_type = 'U'",
                 (int(integration_id), str(USER_TYPE_INTEGRATION)))


# The order AclRetriever reads rule rows in (SPEC §1.10: the query has no ORDER BY; var/emulator-faults.json
# ``acl_order`` picks one): ``index`` = sorted by resource_id under utf8_general_ci, as MariaDB reads a store with
# a history (the default); ``rows`` = rule_id order (= ACL tree order), as it reads a near-empty table; ``shuffle`` =
# any order, new on every read.
ACL_ORDERS = ('index', 'rows', 'shuffle')


def _root_of(conn):
    """The Magento root of a store connection (its database is <root>/var/magento.sqlite)."""
    path = conn.execute('PRAGMA database_list').fetchone()[2]
    return os.path.dirname(os.path.dirname(path))


def read_order(conn):
    order = faults.setting(_root_of(conn), 'acl_order')
    return order if order in ACL_ORDERS else ACL_ORDERS[0]


def allowed_resources(conn, user_id, user_type=USER_TYPE_INTEGRATION):
    """AclRetriever::getAllowedResourcesByUser: the allowed ids in no promised order (``read_order``); [] without a
    role."""
    role = get_role(conn, user_id, user_type)
    if role is None:
        return []
    rows = conn.execute("SELECT rule_id, resource_id FROM authorization_rule WHERE role_id = ? AND permission = 'allow' "
                        'ORDER BY rule_id', (role['role_id'],)).fetchall()
    order = read_order(conn)
    if order == 'index':
        # utf8_general_ci compares ASCII case-insensitively on upper-case weights ('_' sorts after the letters);
        # equal keys come in primary-key order.
        rows.sort(key=lambda row: (row['resource_id'].upper(), row['rule_id']))
    elif order == 'shuffle':
        random.shuffle(rows)
    return [row['resource_id'] for row in rows]


def is_allowed(conn, user_id, resource_id, user_type=USER_TYPE_INTEGRATION):
    """Whether the role of (user_type, user_id) may use ``resource_id``.

    An explicit rule row decides; without one, an allow on ``Magento_Backend::all`` grants everything
    (the "All" role), otherwise it is denied (missing rules are denied, SPEC §1.10).
    """
    role = get_role(conn, user_id, user_type)
    if role is None:
        return False
    rules = {row['resource_id']: row['permission'] for row in conn.execute(
        'SELECT resource_id, permission FROM authorization_rule WHERE role_id = ?', (role['role_id'],))}
    if resource_id in rules:
        return rules[resource_id] == 'allow'
    return rules.get(ROOT_ALL) == 'allow' and len(rules) == 1
