"""The emulator's HTTP side: Magento 2.4.7-p3's OAuth endpoints and REST entry (SPEC §4, §6.4, §7, §16).

* ``/oauth/token/request``, ``/oauth/token/access`` (also under ``/index.php/``), any HTTP method:
  form-encoded answers, ``text/html; charset=UTF-8`` (``oauth.py`` does the checks).
* ``/rest[/<store_code>]/V1/...``: store code (``default``, ``all``, any store view code; unknown →
  400), route match against ``data/webapi-routes.json`` (404), then — only when a route resource is
  not ``anonymous`` — the user context (Bearer → OAuth 1.0a → guest) and the ACL check (401), then a
  canned answer. The guest-access routes of SPEC §7 are anonymous when ``allow_insecure`` (default
  scope) is 1 *as cached* under ``config_webservice`` (a config change shows only after that cache is
  cleaned). REST errors are JSON ``{"message", "parameters"}`` with placeholders left raw.
* Faults from ``var/emulator-faults.json`` (``faults.py``) are applied before anything else.

``serve(root, host, port, ready_file)`` runs it (threaded) until SIGTERM. The log (stderr) gets only
method, path (no query string) and status — never a header, body or secret.
"""

import json
import os
import re
import secrets
import signal
import sys
import threading
import time
import urllib.parse
from xml.sax.saxutils import escape as xml_escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from magento_emulator import acl, cache, faults, oauth, store

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data')
ROUTES_FILE = os.path.join(DATA_DIR, 'webapi-routes.json')

JSON_TYPE = 'application/json; charset=utf-8'
XML_TYPE = 'application/xml; charset=utf-8'
FORM_TYPE = 'text/html; charset=UTF-8'

ALLOW_INSECURE_PATH = 'webapi/webapisecurity/allow_insecure'
BEARER_PATH = 'oauth/consumer/enable_integration_as_bearer'
WEBSERVICE_CACHE = 'config_webservice'
WEBSERVICE_CACHE_KEY = 'routes'

MSG_NO_ROUTE = 'Request does not match any route.'
MSG_BAD_REQUEST = 'Specified request cannot be processed.'
MSG_NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."
MSG_INTERNAL = 'Internal Error. Details are available in Magento log file. Report ID: webapi-%s'
MSG_SIGN_IN = ('The account sign-in was incorrect or your account is disabled temporarily. '
               'Please wait and try again later.')

# SPEC §7: WebapiSecurity's di.xml (31 GET routes made anonymous by allow_insecure = 1).
GUEST_ROUTES = frozenset((
    '/V1/products', '/V1/products/:sku', '/V1/products/attributes/:attributeCode', '/V1/products/types',
    '/V1/products/attribute-sets/sets/list', '/V1/products/attribute-sets/:attributeSetId',
    '/V1/products/attribute-sets/:attributeSetId/attributes', '/V1/products/attribute-sets/groups/list',
    '/V1/products/attributes/:attributeCode/options', '/V1/products/media/types/:attributeSetName',
    '/V1/products/:sku/media/:entryId', '/V1/products/:sku/media',
    '/V1/products/:sku/group-prices/:customerGroupId/tiers', '/V1/categories/:categoryId',
    '/V1/categories', '/V1/products/:sku/options', '/V1/products/:sku/options/:optionId',
    '/V1/products/links/types', '/V1/products/links/:type/attributes', '/V1/products/:sku/links/:type',
    '/V1/categories/:categoryId/products', '/V1/stockStatuses/:productSku',
    '/V1/configurable-products/:sku/children', '/V1/configurable-products/:sku/options/:id',
    '/V1/configurable-products/:sku/options/all', '/V1/cmsPage/:pageId', '/V1/cmsBlock/:blockId',
    '/V1/store/storeViews', '/V1/store/storeGroups', '/V1/store/websites', '/V1/store/storeConfigs',
))

_ROUTES = None
_ROUTES_LOCK = threading.Lock()


# ---------------------------------------------------------------------------------------------- routes

def routes():
    """{METHOD: {url: resources}} from data/webapi-routes.json."""
    global _ROUTES  # pylint: disable=global-statement
    with _ROUTES_LOCK:
        if _ROUTES is None:
            with open(ROUTES_FILE, encoding='utf-8') as handle:
                data = json.load(handle)
            table = {}
            for route in data['routes']:
                table.setdefault(route['method'].upper(), {})[route['url']] = list(route['resources'])
            _ROUTES = table
        return _ROUTES


def _parts(path):
    return path.strip('/').split('/')


def match_route(method, path):
    """(url template, params, resources) of the route Magento's REST router picks, or None.

    Exact URL first; otherwise every template of the method in byte order, the last match wins
    (so literal segments beat ``:params``), a ``:param`` matching any one segment.
    """
    table = routes().get(method.upper(), {})
    if path in table:
        return path, {}, table[path]
    wanted = _parts(path)
    found = None
    for url in sorted(table):
        template = _parts(url)
        if len(template) != len(wanted):
            continue
        params = {}
        for tpl, seg in zip(template, wanted):
            if tpl.startswith(':'):
                params[tpl[1:]] = urllib.parse.unquote_plus(seg)
            elif tpl != seg:
                break
        else:
            found = (url, params, table[url])
    return found


# ---------------------------------------------------------------------------------------------- config

def config_value(root, conn, path, scope='default', scope_id=0):
    """The effective config value (config.py when present, else the raw core_config_data rows)."""
    try:
        from magento_emulator import config
        return config.read_value(root, path, scope, scope_id, conn=conn)
    except (ImportError, AttributeError):
        value = store.get_config(conn, path, 'default', 0)
        if scope == 'stores':
            row = conn.execute('SELECT website_id FROM store WHERE store_id = ?', (scope_id,)).fetchone()
            if row is not None:
                website = store.get_config(conn, path, 'websites', row['website_id'])
                value = website if website is not None else value
            own = store.get_config(conn, path, 'stores', scope_id)
            value = own if own is not None else value
        return value


def php_flag(value):
    """``isSetFlag``: PHP truthiness of the string value."""
    return value not in (None, '', '0', 0, False)


def guest_access_enabled(root, conn):
    """``allow_insecure`` at default scope as cached in ``config_webservice`` (SPEC §7)."""
    cached = cache.load(root, WEBSERVICE_CACHE, WEBSERVICE_CACHE_KEY)
    if not isinstance(cached, dict) or 'allow_insecure' not in cached:
        value = config_value(root, conn, ALLOW_INSECURE_PATH)
        cached = {'allow_insecure': value}
        try:
            cache.save(root, WEBSERVICE_CACHE, WEBSERVICE_CACHE_KEY, cached)
        except Exception:  # pylint: disable=broad-except
            pass
    return php_flag(cached.get('allow_insecure'))


# ---------------------------------------------------------------------------------------------- errors

class RestError(Exception):
    """A REST error: HTTP status + Magento's raw message, parameters, errors."""

    def __init__(self, status, message, parameters=None, errors=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameters = parameters
        self.errors = errors or []

    def body(self):
        data = {'message': self.message}
        if self.errors:
            data['errors'] = [_error_item(m, p) for m, p in self.errors]
        if self.parameters:
            data['parameters'] = self.parameters
        return data

    @classmethod
    def from_oauth(cls, exc):
        if exc.status >= 500:
            return cls.internal()
        return cls(exc.status, exc.raw_message, exc.parameters, exc.errors)

    @classmethod
    def internal(cls):
        return cls(500, MSG_INTERNAL % secrets.token_hex(7)[:13])


def _error_item(message, parameters):
    item = {'message': message}
    if parameters:
        item['parameters'] = parameters
    return item


def php_json(data):
    """``json_encode`` as Magento's REST renderer: compact, ASCII, ``/`` escaped."""
    return json.dumps(data, separators=(',', ':'), ensure_ascii=True).replace('/', '\\/')


def _xml_name(key):
    key = str(key)
    if key.isdigit() or not key:
        return 'item'
    key = re.sub(r'[^A-Za-z0-9_.-]', '_', key)
    return key if re.match(r'[A-Za-z_]', key) else '_' + key


def _xml_scalar(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return '' if value is None else str(value)


def php_xml(data):
    """Magento's REST XML renderer: ``<response>``, list entries as ``<item>``, 2-space indent."""
    lines = ['<?xml version="1.0"?>']

    def emit(name, value, depth):
        pad = '  ' * depth
        if isinstance(value, (dict, list)):
            items = value.items() if isinstance(value, dict) else (('item', v) for v in value)
            items = list(items)
            if not items:
                lines.append('%s<%s/>' % (pad, name))
                return
            lines.append('%s<%s>' % (pad, name))
            for key, child in items:
                emit(_xml_name(key), child, depth + 1)
            lines.append('%s</%s>' % (pad, name))
            return
        text = _xml_scalar(value)
        lines.append('%s<%s>%s</%s>' % (pad, name, xml_escape(text), name) if text else '%s<%s/>' % (pad, name))

    emit('response', data if isinstance(data, (dict, list)) else {'item': data}, 0)
    return '\n'.join(lines) + '\n'


def wants_xml(accept):
    """The first of the Accept types that names json or xml decides; JSON otherwise."""
    for item in (accept or '').split(','):
        media = item.split(';', 1)[0].strip().lower()
        if 'json' in media or media in ('*/*', 'application/*'):
            return False
        if 'xml' in media:
            return True
    return False


# ---------------------------------------------------------------------------------------------- canned data

def _stores(conn):
    rows = conn.execute('SELECT * FROM store ORDER BY store_id = 0, store_id').fetchall()
    return rows


def store_views(conn):
    return [{'id': r['store_id'], 'code': r['code'], 'name': r['name'], 'website_id': r['website_id'],
             'store_group_id': r['group_id'], 'is_active': r['is_active']} for r in _stores(conn)]


def websites(conn):
    rows = conn.execute('SELECT * FROM store_website ORDER BY website_id = 0, website_id').fetchall()
    return [{'id': r['website_id'], 'code': r['code'], 'name': r['name'],
             'default_group_id': r['default_group_id']} for r in rows]


def store_groups(conn):
    rows = conn.execute('SELECT * FROM store_group ORDER BY group_id = 0, group_id').fetchall()
    return [{'id': r['group_id'], 'website_id': r['website_id'], 'root_category_id': r['root_category_id'],
             'default_store_id': r['default_store_id'], 'name': r['name'], 'code': r['code']} for r in rows]


def store_configs(root, conn):
    result = []
    for row in _stores(conn):
        if row['store_id'] == 0:
            continue
        sid = row['store_id']

        def value(path, default, sid=sid):
            found = config_value(root, conn, path, 'stores', sid)
            return default if found in (None, '') else found
        base = value('web/unsecure/base_url', 'http://localhost/')
        secure = value('web/secure/base_url', base)
        result.append({
            'id': sid, 'code': row['code'], 'website_id': row['website_id'],
            'locale': value('general/locale/code', 'en_US'),
            'base_currency_code': value('currency/options/base', 'USD'),
            'default_display_currency_code': value('currency/options/default', 'USD'),
            'timezone': value('general/locale/timezone', 'UTC'),
            'weight_unit': value('general/locale/weight_unit', 'lbs'),
            'base_url': base, 'base_link_url': base,
            'base_static_url': base + 'static/version1795885000/', 'base_media_url': base + 'media/',
            'secure_base_url': secure, 'secure_base_link_url': secure,
            'secure_base_static_url': secure + 'static/version1795885000/',
            'secure_base_media_url': secure + 'media/',
        })
    return result


def modules(root):
    """Enabled modules of app/etc/config.php in its order."""
    try:
        from magento_emulator import phparray
        data = phparray.load_file(os.path.join(str(root), 'app', 'etc', 'config.php'), default={}) or {}
        found = [name for name, enabled in (data.get('modules') or {}).items() if str(enabled) == '1']
        if found:
            return found
    except Exception:  # pylint: disable=broad-except
        pass
    try:
        from magento_emulator import cli
        return list(cli.MODULES)
    except Exception:  # pylint: disable=broad-except
        return ['Magento_Store', 'Magento_Config', 'Magento_Backend', 'Magento_Integration', 'Magento_Webapi']


def _int_or(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _values(obj):
    if isinstance(obj, dict):
        return [obj[k] for k in obj]
    if isinstance(obj, list):
        return obj
    return []


def search_criteria(query):
    """The ``search_criteria`` echo of a ``getList`` call from ``searchCriteria[...]`` query params."""
    raw = oauth.parse_str(query or '').get('searchCriteria')
    raw = raw if isinstance(raw, dict) else {}
    groups = []
    for group in _values(raw.get('filterGroups', raw.get('filter_groups'))):
        filters = []
        for item in _values(group.get('filters') if isinstance(group, dict) else None):
            if isinstance(item, dict):
                flt = {'field': item.get('field'), 'value': item.get('value'),
                       'condition_type': item.get('conditionType', item.get('condition_type', 'eq'))}
                filters.append({k: v for k, v in flt.items() if v is not None})
        groups.append({'filters': filters})
    result = {'filter_groups': groups}
    sorts = [{'field': s.get('field'), 'direction': s.get('direction', 'ASC')}
             for s in _values(raw.get('sortOrders', raw.get('sort_orders'))) if isinstance(s, dict)]
    if sorts:
        result['sort_orders'] = sorts
    for key, out in (('pageSize', 'page_size'), ('currentPage', 'current_page')):
        if key in raw:
            result[out] = _int_or(raw[key])
    return result


CATEGORY_TREE = {'id': 2, 'parent_id': 1, 'name': 'Default Category', 'is_active': True, 'position': 1,
                 'level': 1, 'product_count': 0, 'children_data': []}
CMS_PAGES = {1: ('no-route', '404 Not Found'), 2: ('home', 'Home page'),
             3: ('enable-cookies', 'Enable Cookies'), 4: ('privacy-policy-cookie-restriction-mode',
                                                          'Privacy Policy')}


def _category(category_id):
    names = {1: ('Root Catalog', 0, 0, '1'), 2: ('Default Category', 1, 1, '1/2')}
    if category_id not in names:
        raise RestError(404, 'No such entity with %fieldName = %fieldValue',
                        {'fieldName': 'id', 'fieldValue': str(category_id)})
    name, parent, level, path = names[category_id]
    return {'id': category_id, 'parent_id': parent, 'name': name, 'is_active': True, 'position': 1 if level else 0,
            'level': level, 'children': '2' if category_id == 1 else '', 'path': path,
            'include_in_menu': True, 'custom_attributes': []}


def _cms_page(page_id):
    key = _int_or(page_id)
    if key not in CMS_PAGES:
        raise RestError(404, 'The CMS page with the "%1" ID doesn\'t exist.', [str(page_id)])
    identifier, title = CMS_PAGES[key]
    return {'id': key, 'identifier': identifier, 'title': title, 'page_layout': '1column',
            'content_heading': title, 'content': '', 'active': True}


def canned_response(root, conn, method, url, params, query, body):
    """The 200 body of a matched, authorised route."""
    if method == 'GET':
        if url == '/V1/modules':
            return modules(root)
        if url == '/V1/store/storeViews':
            return store_views(conn)
        if url == '/V1/store/websites':
            return websites(conn)
        if url == '/V1/store/storeGroups':
            return store_groups(conn)
        if url == '/V1/store/storeConfigs':
            return store_configs(root, conn)
        if url == '/V1/categories':
            return CATEGORY_TREE
        if url == '/V1/categories/:categoryId':
            return _category(_int_or(params.get('categoryId')))
        if url == '/V1/cmsPage/:pageId':
            return _cms_page(params.get('pageId'))
        if url == '/V1/cmsBlock/:blockId':
            raise RestError(404, 'The CMS block with the "%1" ID doesn\'t exist.', [str(params.get('blockId'))])
        if url in ('/V1/products/:sku', '/V1/products/:sku/media', '/V1/products/:sku/options'):
            raise RestError(404, "The product that was requested doesn't exist. Verify the product and try again.")
        if url.endswith('/list') or url in ('/V1/products',) or 'searchCriteria' in (query or ''):
            return {'items': [], 'search_criteria': search_criteria(query), 'total_count': 0}
        return []
    if method == 'POST' and url == '/V1/integration/admin/token':
        return admin_token(conn, body)
    return []


def admin_token(conn, body):
    try:
        data = json.loads(body.decode('utf-8') or 'null')
    except ValueError:
        raise RestError(400, 'Decoding error: \nSyntax error')
    data = data if isinstance(data, dict) else {}
    row = conn.execute('SELECT * FROM admin_user WHERE username = ? AND is_active = 1',
                       (str(data.get('username', '')),)).fetchone()
    if row is None or not store.verify_password(str(data.get('password', '')), row['password']):
        raise RestError(401, MSG_SIGN_IN)
    return secrets.token_hex(16)


# ---------------------------------------------------------------------------------------------- user context

class RestRequest:
    """What the REST layer needs from an HTTP request."""

    def __init__(self, root, conn, method, raw_path, query, headers, body, store_id):
        self.root, self.conn, self.method = root, conn, method
        self.raw_path, self.query, self.headers, self.body = raw_path, query, headers, body
        self.store_id = store_id
        self._user = None
        self._resolved = False

    def request_uri(self):
        return self.raw_path + ('?' + self.query if self.query is not None else '')

    def user(self):
        """(user_id, user_type) or None — Bearer (10) → OAuth 1.0a (40) → guest (100)."""
        if not self._resolved:
            self._user = self._bearer_user() or self._oauth_user()
            self._resolved = True
        return self._user

    def _bearer_user(self):
        header = self.headers.get('Authorization') or ''
        pieces = header.split(' ')
        if len(pieces) != 2 or pieces[0].lower() != 'bearer':
            return None
        conn = self.conn
        row = conn.execute('SELECT * FROM oauth_token WHERE token = ? COLLATE NOCASE', (pieces[1],)).fetchone()
        if row is None or row['revoked'] or row['user_type'] is None or int(row['user_type']) != 1:
            return None
        if not php_flag(config_value(self.root, conn, BEARER_PATH, 'stores', self.store_id)):
            return None
        integration = conn.execute('SELECT integration_id FROM integration WHERE consumer_id = ?',
                                   (row['consumer_id'],)).fetchone()
        if integration is None:
            return None
        return (int(integration['integration_id']), 1)

    def _oauth_user(self):
        params = oauth.collect_params(self.headers.get('Authorization'), self.headers.get('Content-Type'),
                                      self.body, self.query)
        if not params:
            return None
        url = oauth.signing_url('http', self.headers.get('Host'), self.request_uri())
        try:
            consumer_id = oauth.validate_access_token_request(self.conn, self.root, params, url, self.method)
        except oauth.OauthError as exc:
            raise RestError.from_oauth(exc)
        row = self.conn.execute('SELECT integration_id FROM integration WHERE consumer_id = ? AND status = 1',
                                (consumer_id,)).fetchone()
        return (int(row['integration_id']) if row else 0, 1)


def is_allowed(request, resource):
    if resource == 'anonymous':
        return True
    user = request.user()
    if not user or not user[0]:
        return False
    return acl.is_allowed(request.conn, user[0], resource, user[1])


_VERSION = re.compile(r'^V\d+$')


def resolve_store(conn, segments):
    """(store_id, remaining segments) for /rest/<segments>; RestError 400 for an unknown store code."""
    if segments and _VERSION.match(segments[0]):
        row = conn.execute('SELECT s.store_id FROM store s JOIN store_group g ON g.group_id = s.group_id '
                           'JOIN store_website w ON w.website_id = s.website_id '
                           'WHERE w.is_default = 1 AND s.store_id = g.default_store_id').fetchone()
        return (row['store_id'] if row else 1), segments
    if segments and segments[0] == 'all':
        store_id, rest = 0, segments[1:]
    elif segments and segments[0] and segments[0] != 'admin':
        row = conn.execute('SELECT store_id, code FROM store WHERE code = ? AND store_id != 0',
                           (segments[0],)).fetchone()
        if row is None or row['code'] != segments[0]:
            raise RestError(400, MSG_BAD_REQUEST)
        store_id, rest = row['store_id'], segments[1:]
    else:
        raise RestError(400, MSG_BAD_REQUEST)
    if not rest or not _VERSION.match(rest[0]):
        raise RestError(400, MSG_BAD_REQUEST)
    return store_id, rest


def handle_rest(root, method, rest_path, raw_path, query, headers, body):
    """(status, body dict/list) of a REST call; ``rest_path`` is the path after ``/rest``."""
    conn = store.connect(root)
    try:
        try:
            segments = rest_path.strip('/').split('/') if rest_path.strip('/') else []
            store_id, rest = resolve_store(conn, segments)
            path = '/' + '/'.join(rest)
            found = match_route(method, path)
            if found is None:
                raise RestError(404, MSG_NO_ROUTE)
            url, params, resources = found
            if method == 'GET' and url in GUEST_ROUTES and guest_access_enabled(root, conn):
                resources = ['anonymous']
            request = RestRequest(root, conn, method, raw_path, query, headers, body, store_id)
            for resource in resources:
                if not is_allowed(request, resource):
                    raise RestError(401, MSG_NOT_AUTHORIZED, {'resources': ', '.join(resources)})
            content_type = headers.get('Content-Type') or ''
            if body and content_type.startswith('application/x-www-form-urlencoded'):
                raise RestError.internal()
            return 200, canned_response(root, conn, method, url, params, query, body)
        except RestError as exc:
            return exc.status, exc.body()
        except Exception:  # pylint: disable=broad-except
            return 500, RestError.internal().body()
    finally:
        conn.close()


def handle_oauth(root, kind, method, request_uri, headers, body, query):
    """(status, body text) of /oauth/token/request or /oauth/token/access."""
    try:
        conn = store.connect(root)
    except Exception as exc:  # pylint: disable=broad-except
        return oauth.form_response(error=oauth.InternalError(str(exc)))
    try:
        params = oauth.collect_params(headers.get('Authorization'), headers.get('Content-Type'), body, query)
        url = oauth.signing_url('http', headers.get('Host'), request_uri)
        if kind == 'request':
            result = oauth.get_request_token(conn, root, params, url, method)
        else:
            result = oauth.get_access_token(conn, root, params, url, method)
        return oauth.form_response(result)
    except oauth.OauthError as exc:
        return oauth.form_response(error=exc)
    except Exception as exc:  # pylint: disable=broad-except
        return oauth.form_response(error=oauth.InternalError(str(exc)))
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------- HTTP

# What the storefront adds to the /oauth/token/* answers (observed on 2.4.7-p3).
STOREFRONT_HEADERS = [('Expires', 'Thu, 19 Nov 1981 08:52:00 GMT'),
                      ('Cache-Control', 'no-store, no-cache, must-revalidate'), ('Pragma', 'no-cache')]

_OAUTH_PATH = re.compile(r'^(?:/index\.php)?/oauth/token/(request|access)/?$')
_REST_PATH = re.compile(r'^(?:/index\.php)?/rest(/.*)?$')


class Handler(BaseHTTPRequestHandler):
    """Every method goes to ``dispatch``."""

    protocol_version = 'HTTP/1.1'
    server_version = 'Apache'
    sys_version = ''
    root = None

    def __getattr__(self, name):
        if name.startswith('do_'):
            return self.dispatch
        raise AttributeError(name)

    def _read_body(self):
        length = self.headers.get('Content-Length')
        try:
            length = int(length) if length else 0
        except ValueError:
            length = 0
        return self.rfile.read(length) if length > 0 else b''

    def _send(self, status, body, content_type, extra=()):
        if isinstance(body, str):
            body = body.encode('utf-8')
        self.send_response(status)
        if content_type:
            self.send_header('Content-Type', content_type)
        for name, value in extra:
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def dispatch(self):
        root = self.server.root
        target = self.path
        if '://' in target.split('?', 1)[0]:
            target = '/' + target.split('://', 1)[1].partition('/')[2]
        raw_path, sep, query = target.partition('?')
        query = query if sep else None
        body = self._read_body()
        fault = faults.take(root, raw_path, self.command)
        if fault.delay:
            time.sleep(fault.delay)
        if fault.status is not None:
            self._send(fault.status, fault.body,
                       None if any(h[0] == 'Content-Type' for h in fault.headers) else FORM_TYPE, fault.headers)
            return
        headers = self.headers
        match = _OAUTH_PATH.match(raw_path)
        if match:
            status, text = handle_oauth(root, match.group(1), self.command, target, headers, body, query)
            self._send(status, text, FORM_TYPE, STOREFRONT_HEADERS + [
                ('Set-Cookie', 'PHPSESSID=%s; path=/; HttpOnly; SameSite=Lax' % secrets.token_hex(13))])
            return
        match = _REST_PATH.match(raw_path)
        if match:
            status, data = handle_rest(root, self.command, match.group(1) or '', raw_path, query, headers, body)
            if wants_xml(headers.get('Accept')):
                self._send(status, php_xml(data), XML_TYPE)
            else:
                self._send(status, php_json(data), JSON_TYPE)
            return
        self._send(404, '<html><body><h1>404 Not Found</h1></body></html>\n', FORM_TYPE)

    def log_request(self, code='-', size='-'):
        path = (self.path or '').split('?', 1)[0]
        sys.stderr.write('%s %s %s %s\n' % (time.strftime('%Y-%m-%d %H:%M:%S'), self.command, path, code))

    def log_error(self, format, *args):  # pylint: disable=redefined-builtin
        sys.stderr.write('%s error %s\n' % (time.strftime('%Y-%m-%d %H:%M:%S'),
                                            args[0] if args and isinstance(args[0], int) else ''))

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, root, address):
        self.root = os.path.abspath(str(root))
        super().__init__(address, Handler)


def make_server(root, host='127.0.0.1', port=0):
    """A bound, not yet serving server (tests run ``serve_forever`` in a thread)."""
    return Server(root, (host, int(port)))


def _write_ready(ready_file, info):
    tmp = '%s.%d.tmp' % (ready_file, os.getpid())
    with open(tmp, 'w', encoding='utf-8') as handle:
        json.dump(info, handle)
    os.replace(tmp, ready_file)


def serve(root, host='127.0.0.1', port=0, ready_file=None):
    """Bind, write the ready file ``{"pid","host","port","base_url"}``, serve until SIGTERM/SIGINT."""
    server = make_server(root, host, port)
    real_host, real_port = server.server_address[:2]
    info = {'pid': os.getpid(), 'host': real_host, 'port': real_port,
            'base_url': 'http://%s:%d/' % (real_host, real_port)}

    def stop(signum, frame):  # pylint: disable=unused-argument
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    try:
        signal.signal(signal.SIGINT, stop)
    except ValueError:
        pass
    if ready_file:
        _write_ready(ready_file, info)
    sys.stderr.write('%s listening on %s\n' % (time.strftime('%Y-%m-%d %H:%M:%S'), info['base_url']))
    sys.stderr.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0
