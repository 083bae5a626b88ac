"""saveRel and the read-back of integration permissions (SPEC §1.10, observed/schema.md §2.2)."""

import pytest

from magento_emulator import acl, faults, store

PRODUCTS = 'Magento_Catalog::products'
STORE = 'Magento_Backend::store'


@pytest.fixture
def conn(emulator_root):
    c = store.connect(emulator_root)
    c.execute("INSERT INTO integration (integration_id, name, email) VALUES (19, 'probe', '')")
    return c


def rules(conn, role_id):
    return [tuple(r) for r in conn.execute(
        'SELECT resource_id, privileges, permission FROM authorization_rule WHERE role_id = ? ORDER BY rule_id',
        (role_id,))]


def test_tree():
    tree = acl.resources()
    assert len(tree) == 271
    assert tree[0] == {'id': 'Magento_Backend::all', 'title': 'Allow everything', 'parent': None}
    assert tree[1]['id'] == 'Magento_Backend::admin'
    assert tree[-1]['id'] == 'Magento_Backend::global_search'


def test_role_row(conn):
    with store.transaction(conn):
        role_id = acl.grant(conn, 19, True, [])
    role = conn.execute('SELECT * FROM authorization_role WHERE role_id = ?', (role_id,)).fetchone()
    assert tuple(role)[1:] == (0, 1, 0, 'U', 19, '1', '119')
    assert rules(conn, role_id) == [('Magento_Backend::all', None, 'allow')]
    assert acl.allowed_resources(conn, 19) == ['Magento_Backend::all']
    assert acl.is_allowed(conn, 19, STORE)


def test_custom_writes_every_known_id(conn):
    with store.transaction(conn):
        role_id = acl.grant(conn, 19, False, [PRODUCTS, STORE])
    rows = rules(conn, role_id)
    assert len(rows) == 271
    assert [r[0] for r in rows] == acl.resource_ids()
    assert sum(1 for r in rows if r[2] == 'allow') == 3 and sum(1 for r in rows if r[2] == 'deny') == 268
    assert all(r[1] is None for r in rows)
    assert dict((r[0], r[2]) for r in rows)['Magento_Catalog::catalog'] == 'deny'  # parents not implied
    # Read back through the (role_id, resource_id) index, as MariaDB does on a store with a history: by id.
    assert acl.allowed_resources(conn, 19) == ['Magento_Backend::admin', STORE, PRODUCTS]
    assert acl.is_allowed(conn, 19, PRODUCTS) and not acl.is_allowed(conn, 19, 'Magento_Catalog::catalog')


@pytest.mark.parametrize('given, allows, back', [
    ([PRODUCTS, 'Vendor_Nope::nothing'], 2, ['Magento_Backend::admin', PRODUCTS]),
    # Not "All": 271 rows; SPEC's [all, admin, products] is the tree order of a near-empty table, by id 'admin' is first.
    (['Magento_Backend::all', PRODUCTS], 3, ['Magento_Backend::admin', 'Magento_Backend::all', PRODUCTS]),
    (['Magento_Catalog::catalog'], 2, ['Magento_Backend::admin', 'Magento_Catalog::catalog']),
])
def test_custom_variants(conn, given, allows, back):
    with store.transaction(conn):
        role_id = acl.grant(conn, 19, False, given)
    rows = rules(conn, role_id)
    assert len(rows) == 271 and sum(1 for r in rows if r[2] == 'allow') == allows
    assert acl.allowed_resources(conn, 19) == back


TEMPLATES = ['Magento_PageBuilder::templates', 'Magento_PageBuilder::template_apply', 'Magento_Sales::sales',
             'Magento_Backend::store']


def _set_order(root, order):
    faults.write(root, {'acl_order': order} if order else None)


def test_read_back_order_is_utf8_general_ci_by_default(emulator_root, conn):
    """MariaDB's index order: case-insensitive, upper-case weights, so '_' sorts after the letters (not code points)."""
    with store.transaction(conn):
        acl.grant(conn, 19, False, TEMPLATES)
    back = acl.allowed_resources(conn, 19)
    assert back == ['Magento_Backend::admin', 'Magento_Backend::store', 'Magento_PageBuilder::templates',
                    'Magento_PageBuilder::template_apply', 'Magento_Sales::sales']
    assert back != sorted(back)
    _set_order(emulator_root, 'index')
    assert acl.allowed_resources(conn, 19) == back


def test_read_back_in_rule_rows_order(emulator_root, conn):
    """A near-empty table is scanned: rule_id order, which is ACL tree order."""
    with store.transaction(conn):
        acl.grant(conn, 19, False, TEMPLATES)
    _set_order(emulator_root, 'rows')
    tree = acl.resource_ids()
    back = acl.allowed_resources(conn, 19)
    assert back == sorted(back, key=tree.index) and set(back) == set(TEMPLATES) | {'Magento_Backend::admin'}


def test_read_back_shuffled(emulator_root, conn):
    with store.transaction(conn):
        acl.grant(conn, 19, False, TEMPLATES)
    _set_order(emulator_root, 'shuffle')
    reads = [tuple(acl.allowed_resources(conn, 19)) for dummy in range(30)]
    assert all(set(read) == set(TEMPLATES) | {'Magento_Backend::admin'} for read in reads)
    assert len(set(reads)) > 1


def test_empty_list_wipes(conn):
    with store.transaction(conn):
        role_id = acl.grant(conn, 19, False, [PRODUCTS])
        acl.grant(conn, 19, False, [])
    assert rules(conn, role_id) == []
    assert acl.allowed_resources(conn, 19) == []
    assert not acl.is_allowed(conn, 19, PRODUCTS)


def test_remove_permissions(conn):
    with store.transaction(conn):
        acl.grant(conn, 19, False, [PRODUCTS])
        acl.remove_permissions(conn, 19)
    assert acl.get_role(conn, 19) is None
    assert conn.execute('SELECT COUNT(*) FROM authorization_rule WHERE role_id > 2').fetchone()[0] == 0
    assert acl.allowed_resources(conn, 19) == []
