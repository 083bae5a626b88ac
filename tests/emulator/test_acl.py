"""saveRel and the read-back of integration permissions (SPEC §1.10, observed/schema.md §2.2)."""

import pytest

from magento_emulator import acl, store

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
    assert acl.allowed_resources(conn, 19) == ['Magento_Backend::admin', PRODUCTS, STORE]
    assert acl.is_allowed(conn, 19, PRODUCTS) and not acl.is_allowed(conn, 19, 'Magento_Catalog::catalog')


@pytest.mark.parametrize('given, allows, back', [
    ([PRODUCTS, 'Vendor_Nope::nothing'], 2, ['Magento_Backend::admin', PRODUCTS]),
    (['Magento_Backend::all', PRODUCTS], 3, ['Magento_Backend::all', 'Magento_Backend::admin', PRODUCTS]),
    (['Magento_Catalog::catalog'], 2, ['Magento_Backend::admin', 'Magento_Catalog::catalog']),
])
def test_custom_variants(conn, given, allows, back):
    with store.transaction(conn):
        role_id = acl.grant(conn, 19, False, given)
    rows = rules(conn, role_id)
    assert len(rows) == 271 and sum(1 for r in rows if r[2] == 'allow') == allows
    assert acl.allowed_resources(conn, 19) == back


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
