# Copyright (c) commerceops.magento contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PHP source of the host bridge. Internal to this collection, not a public API.

AnsiballZ ships only Python module_utils, so the bridge travels as a string:
the host transport (``_transport.py``) writes BRIDGE_SOURCE to a private 0600
temporary file and runs it with the host's ``php``. The contract it answers is
docs/bridge-protocol.md; BRIDGE_PROTOCOL is the version it speaks and must
match the marker on the second line of the PHP source.
"""

from __future__ import annotations

BRIDGE_PROTOCOL = 1

BRIDGE_SOURCE = r'''<?php
// commerceops-magento-bridge protocol=1
//
// The commerceops.magento host bridge (docs/bridge-protocol.md, version 1).
// Reads one JSON request on stdin, bootstraps Magento once, runs the actions
// in order through Magento's own services and models (no SQL writes), and
// prints exactly one JSON document on stdout. Exit code 0 when ok, else 1.
// Runs on Magento 2.4.4-2.4.8, PHP 7.4+; run it as the Magento file owner.

ini_set('display_errors', 'stderr');
ini_set('log_errors', '0');
error_reporting(E_ALL);
// Magento or PHP may print notices or banners on stdout: keep them off the
// JSON channel (they are forwarded to stderr when the response is written).
ob_start();

const CMB_PROTOCOL = 1;
const CMB_USER_TYPE_INTEGRATION = 1;   // UserContextInterface::USER_TYPE_INTEGRATION
const CMB_ALL = 'Magento_Backend::all';

$GLOBALS['cmb'] = [
    'responded' => false,
    'phase' => 'request',          // request | bootstrap | actions
    'version' => null,
    'results' => [],
    'index' => 0,
    'action' => null,
    'secrets' => [],
];

/** A failure with a protocol error kind (input, not_found, magento, protocol, bootstrap). */
class CmbError extends \Exception
{
    public $kind;

    public function __construct(string $kind, string $message)
    {
        parent::__construct($message);
        $this->kind = $kind;
    }
}

/** Remember a secret so that it can never leak through an error message. */
function cmb_secret($value)
{
    if (is_string($value) && strlen($value) >= 8) {
        $GLOBALS['cmb']['secrets'][$value] = true;
    }
    return $value;
}

function cmb_scrub(string $message): string
{
    foreach (array_keys($GLOBALS['cmb']['secrets']) as $secret) {
        $message = str_replace((string)$secret, '********', $message);
    }
    return $message;
}

/** Write the one JSON document and exit; stray buffered output goes to stderr. */
function cmb_respond(?array $error = null)
{
    $state = &$GLOBALS['cmb'];
    $state['responded'] = true;
    $stray = '';
    while (ob_get_level() > 0) {
        $stray = ob_get_clean() . $stray;
    }
    if (trim($stray) !== '') {
        fwrite(STDERR, $stray);
    }
    $doc = ['protocol' => CMB_PROTOCOL, 'ok' => $error === null,
            'magento_version' => $state['version'], 'results' => $state['results']];
    if ($error !== null) {
        $error['message'] = cmb_scrub((string)$error['message']);
        $doc['error'] = $error;
    }
    $flags = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE;
    fwrite(STDOUT, json_encode($doc, $flags) . "\n");
    exit($error === null ? 0 : 1);
}

/** Turn an exception into the protocol's error object. */
function cmb_error_from(\Throwable $e): array
{
    $state = $GLOBALS['cmb'];
    if ($e instanceof CmbError) {
        $kind = $e->kind;
        $class = null;
    } else {
        $class = get_class($e);
        if ($state['phase'] !== 'actions') {
            $kind = $state['phase'] === 'request' ? 'protocol' : 'bootstrap';
        } elseif ($e instanceof \Magento\Framework\Exception\LocalizedException) {
            $kind = 'magento';
        } else {
            $kind = 'internal';
        }
    }
    return ['index' => $state['index'], 'action' => $state['action'], 'kind' => $kind,
            'exception' => $class, 'message' => $e->getMessage()];
}

// A PHP fatal error or an exit() inside Magento (app/bootstrap.php exits on an
// unsupported PHP version, for example) still answers with one JSON document.
register_shutdown_function(function () {
    if ($GLOBALS['cmb']['responded']) {
        return;
    }
    $state = $GLOBALS['cmb'];
    $last = error_get_last();
    $said = '';
    for ($level = ob_get_level(); $level > 0; $level--) {
        $said = (string)ob_get_contents() . $said;
        ob_end_clean();
    }
    $fatal = E_ERROR | E_PARSE | E_CORE_ERROR | E_COMPILE_ERROR | E_USER_ERROR;
    $message = ($last !== null && ($last['type'] & $fatal)) ? $last['message'] : trim($said);
    if ($message === '') {
        $message = 'PHP stopped before the bridge could answer.';
    }
    $kind = $state['phase'] === 'actions' ? 'internal' : ($state['phase'] === 'request' ? 'protocol' : 'bootstrap');
    cmb_respond(['index' => $state['index'], 'action' => $state['action'], 'kind' => $kind,
                 'exception' => null, 'message' => $message]);
});

// ---------------------------------------------------------------- parameters

function cmb_str(array $a, string $key, bool $required = true, bool $allowEmpty = true): string
{
    if (!array_key_exists($key, $a) || $a[$key] === null) {
        if ($required) {
            throw new CmbError('input', sprintf('The parameter "%s" is missing.', $key));
        }
        return '';
    }
    if (!is_string($a[$key])) {
        throw new CmbError('input', sprintf('The parameter "%s" must be a string.', $key));
    }
    if (!$allowEmpty && trim($a[$key]) === '') {
        throw new CmbError('input', sprintf('The parameter "%s" must not be empty.', $key));
    }
    return $a[$key];
}

function cmb_int(array $a, string $key): int
{
    $v = $a[$key] ?? null;
    if (is_int($v) && $v > 0) {
        return $v;
    }
    if (is_string($v) && ctype_digit($v) && (int)$v > 0) {
        return (int)$v;
    }
    throw new CmbError('input', sprintf('The parameter "%s" must be a positive integer.', $key));
}

function cmb_bool(array $a, string $key, $default = null): bool
{
    if (!array_key_exists($key, $a)) {
        if ($default === null) {
            throw new CmbError('input', sprintf('The parameter "%s" is missing.', $key));
        }
        return $default;
    }
    if (!is_bool($a[$key])) {
        throw new CmbError('input', sprintf('The parameter "%s" must be true or false.', $key));
    }
    return $a[$key];
}

function cmb_str_list(array $a, string $key, bool $required = true): array
{
    if (!array_key_exists($key, $a)) {
        if ($required) {
            throw new CmbError('input', sprintf('The parameter "%s" is missing.', $key));
        }
        return [];
    }
    $v = $a[$key];
    if (!is_array($v) || ($v !== [] && array_keys($v) !== range(0, count($v) - 1))) {
        throw new CmbError('input', sprintf('The parameter "%s" must be a list of strings.', $key));
    }
    foreach ($v as $item) {
        if (!is_string($item)) {
            throw new CmbError('input', sprintf('The parameter "%s" must be a list of strings.', $key));
        }
    }
    return $v;
}

// ---------------------------------------------------------------- integrations

// Models and collections are made with ObjectManager::create(), which is all a
// generated *Factory::create() does; it works the same in default and production mode.

function cmb_load_integration($om, int $id)
{
    $model = $om->create(\Magento\Integration\Model\Integration::class)->load($id);
    return $model->getId() ? $model : null;
}

/** The integration or kind not_found with Magento's own text. */
function cmb_require_integration($om, array $a)
{
    $id = cmb_int($a, 'integration_id');
    $model = cmb_load_integration($om, $id);
    if ($model === null) {
        throw new CmbError('not_found', sprintf('The integration with ID "%d" doesn\'t exist.', $id));
    }
    cmb_credentials($om, $model);   // registers its secrets, so no Magento message can leak them
    return $model;
}

function cmb_nullable_int($v)
{
    return ($v === null || $v === '') ? null : (int)$v;
}

/** A stored timestamp as ISO 8601 UTC, or null. Magento writes them as UTC time (its PHP runs in UTC). */
function cmb_iso_utc($stamp)
{
    if ($stamp === null || $stamp === '' || strpos((string)$stamp, '0000') === 0) {
        return null;
    }
    $time = \DateTime::createFromFormat('Y-m-d H:i:s', (string)$stamp, new \DateTimeZone('UTC'));
    return $time ? $time->format('Y-m-d\\TH:i:s\\Z') : null;
}

/** INTEGRATION of the protocol: no secrets, normalised types. */
function cmb_integration($om, $model): array
{
    $id = (int)$model->getId();
    $consumerId = cmb_nullable_int($model->getData('consumer_id'));
    try {
        // What Magento reads back, in no fixed order (the rules are loaded with no ORDER BY, SPEC 1.10);
        // a missing role raises AuthorizationException and means no permission at all.
        $resources = $om->get(\Magento\Authorization\Model\Acl\AclRetriever::class)
            ->getAllowedResourcesByUser(CMB_USER_TYPE_INTEGRATION, $id);
    } catch (\Magento\Framework\Exception\AuthorizationException $e) {
        $resources = [];
    }
    $resources = array_values(array_map('strval', (array)$resources));
    $token = ['type' => null, 'rows' => 0, 'created_at' => null, 'revoked' => false];
    if ($consumerId !== null) {
        // The row Magento's services look at: the consumer's first user_type 1 row.
        $row = $om->create(\Magento\Integration\Model\Oauth\Token::class)
            ->loadByConsumerIdAndUserType($consumerId, CMB_USER_TYPE_INTEGRATION);
        if ($row->getId()) {
            $token['type'] = (string)$row->getType();
            // Its age (created_at is kept through the verifier -> request -> access conversions), never its secrets.
            $token['created_at'] = cmb_iso_utc($row->getData('created_at'));
            $token['revoked'] = (bool)(int)$row->getData('revoked');
        }
        $token['rows'] = (int)$om->create(\Magento\Integration\Model\ResourceModel\Oauth\Token\Collection::class)
            ->addFilterByConsumerId($consumerId)->getSize();
    }
    $url = function ($v) {
        return ($v === null || $v === '') ? null : (string)$v;
    };
    return [
        'integration_id' => $id,
        'name' => (string)$model->getData('name'),
        'email' => (string)$model->getData('email'),
        'endpoint' => $url($model->getData('endpoint')),
        'identity_link_url' => $url($model->getData('identity_link_url')),
        'status' => (int)$model->getData('status'),
        'setup_type' => (int)$model->getData('setup_type'),
        'consumer_id' => $consumerId,
        'created_at' => $model->getData('created_at') === null ? null : (string)$model->getData('created_at'),
        'updated_at' => $model->getData('updated_at') === null ? null : (string)$model->getData('updated_at'),
        'all_resources' => $resources === [CMB_ALL],
        'resources' => $resources,
        'token' => $token,
    ];
}

/** CREDENTIALS: consumer key/secret (decrypted by Magento) and the access token, if any. */
function cmb_credentials($om, $model): array
{
    $out = ['consumer_key' => null, 'consumer_secret' => null, 'access_token' => null, 'access_token_secret' => null];
    $consumerId = cmb_nullable_int($model->getData('consumer_id'));
    if ($consumerId === null) {
        return $out;
    }
    $oauth = $om->get(\Magento\Integration\Api\OauthServiceInterface::class);
    $consumer = $oauth->loadConsumer($consumerId);
    if ($consumer->getId()) {
        $out['consumer_key'] = cmb_secret((string)$consumer->getKey());
        $out['consumer_secret'] = cmb_secret((string)$consumer->getSecret());
    }
    $token = $oauth->getAccessToken($consumerId);   // false unless the row is of type access
    if ($token) {
        $out['access_token'] = cmb_secret((string)$token->getToken());
        $out['access_token_secret'] = cmb_secret((string)$token->getSecret());
    }
    return $out;
}

/** The data array IntegrationService::create/update take, permissions always included (SPEC 1.11). */
function cmb_integration_data(array $a): array
{
    $data = [
        'name' => cmb_str($a, 'name', true, false),
        'email' => cmb_str($a, 'email'),
        'endpoint' => cmb_str($a, 'endpoint'),
        'identity_link_url' => cmb_str($a, 'identity_link_url'),
    ];
    $all = cmb_bool($a, 'all_resources');
    $resources = cmb_str_list($a, 'resources');
    if ($all) {
        $data['all_resources'] = 1;
    } else {
        // all_resources is tested for truthiness by the plugin: 0 means Custom.
        $data['all_resources'] = 0;
        $data['resource'] = array_values($resources);
    }
    return $data;
}

function cmb_set_status($model, int $status)
{
    // Only the status column changes: IntegrationService::update would re-save
    // (and without a resource list wipe) the permissions.
    if ((int)$model->getData('status') !== $status) {
        $model->setStatus($status);
        $model->save();
    }
}

function cmb_integration_for_name($om, string $name)
{
    // findByName loads by name in SQL, so the match follows the column's
    // case-insensitive collation exactly as Magento's duplicate check does.
    $model = $om->get(\Magento\Integration\Api\IntegrationServiceInterface::class)->findByName($name);
    return ($model && $model->getId()) ? $model : null;
}

function act_integration_list($om, array $a): array
{
    $models = [];
    if (array_key_exists('names', $a) && $a['names'] !== null) {
        foreach (cmb_str_list($a, 'names') as $name) {
            $model = cmb_integration_for_name($om, $name);
            if ($model !== null) {
                $models[(int)$model->getId()] = $model;
            }
        }
        ksort($models);
    } else {
        $collection = $om->create(\Magento\Integration\Model\ResourceModel\Integration\Collection::class);
        $collection->setOrder('integration_id', 'ASC');
        foreach ($collection as $model) {
            $models[(int)$model->getId()] = $model;
        }
    }
    $out = [];
    foreach ($models as $model) {
        $out[] = cmb_integration($om, $model);
    }
    return ['integrations' => $out];
}

function act_integration_get($om, array $a): array
{
    if (array_key_exists('integration_id', $a) && $a['integration_id'] !== null) {
        $model = cmb_load_integration($om, cmb_int($a, 'integration_id'));
    } elseif (array_key_exists('name', $a) && $a['name'] !== null) {
        $model = cmb_integration_for_name($om, cmb_str($a, 'name'));
    } else {
        throw new CmbError('input', 'The parameter "name" or "integration_id" is required.');
    }
    if ($model === null) {
        return ['integration' => null];
    }
    $out = ['integration' => cmb_integration($om, $model)];
    if (cmb_bool($a, 'with_secrets', false)) {
        $out['credentials'] = cmb_credentials($om, $model);
    }
    return $out;
}

function act_integration_create($om, array $a): array
{
    $data = cmb_integration_data($a);
    $data['status'] = 0;   // Integration::STATUS_INACTIVE, as the admin's Save leaves it
    try {
        $created = $om->get(\Magento\Integration\Api\IntegrationServiceInterface::class)->create($data);
        // create() returns only the input plus the ids: read the row back.
        return ['integration' => cmb_integration($om, cmb_load_integration($om, (int)$created->getId()))];
    } catch (\Exception $e) {
        // Whatever Magento said (its duplicate-name check, the unique index when two creates passed that check at
        // once, an ACL built before the new role: "Something went wrong while compiling a list of allowed
        // resources"), an integration of this name that exists now was written by a concurrent run, or by this
        // create before its read-back failed: the module reads again and converges.
        if (cmb_integration_for_name($om, $data['name']) === null) {
            throw $e;
        }
        throw new CmbError('conflict', sprintf('Integration "%s" exists now (Magento: %s): another process created '
            . 'it meanwhile.', $data['name'], $e->getMessage()));
    }
}

/** Guard: the client refuses config-file integrations before any write, with the fix. */
function cmb_refuse_config_file($model, string $what)
{
    if ((int)$model->getData('setup_type') === 1) {
        throw new CmbError('input', sprintf('Integration %d comes from a config file (setup_type 1): not %s.',
            (int)$model->getId(), $what));
    }
}

function act_integration_update($om, array $a): array
{
    $model = cmb_require_integration($om, $a);
    cmb_refuse_config_file($model, 'updated');
    $data = cmb_integration_data($a);
    $data['integration_id'] = (int)$model->getId();
    $om->get(\Magento\Integration\Api\IntegrationServiceInterface::class)->update($data);
    return ['integration' => cmb_integration($om, cmb_load_integration($om, (int)$model->getId()))];
}

function act_integration_delete($om, array $a): array
{
    $model = cmb_require_integration($om, $a);
    cmb_refuse_config_file($model, 'deleted');
    $before = cmb_integration($om, $model);
    $om->get(\Magento\Integration\Api\IntegrationServiceInterface::class)->delete((int)$model->getId());
    // The service leaves the consumer, its tokens and nonces; the admin's Delete removes them next.
    if ($before['consumer_id'] !== null) {
        $om->get(\Magento\Integration\Api\OauthServiceInterface::class)->deleteConsumer($before['consumer_id']);
    }
    return ['deleted' => $before];
}

function act_integration_activate($om, array $a): array
{
    $model = cmb_require_integration($om, $a);
    $reauthorize = cmb_bool($a, 'reauthorize', false);
    $consumerId = (int)$model->getData('consumer_id');
    // The admin's TokensDialog: false (and no status change) when a token row already exists.
    $created = (bool)$om->get(\Magento\Integration\Api\OauthServiceInterface::class)
        ->createAccessToken($consumerId, $reauthorize);
    if ($created) {
        cmb_set_status($model, 1);
    }
    $model = cmb_load_integration($om, (int)$model->getId());
    return ['token_created' => $created, 'integration' => cmb_integration($om, $model),
            'credentials' => cmb_credentials($om, $model)];
}

/** TokensExchange step 1: on reauthorize drop the consumer's integration token and deactivate. */
function cmb_exchange_reauthorize($om, $model, bool $reauthorize)
{
    if ($reauthorize) {
        $om->get(\Magento\Integration\Api\OauthServiceInterface::class)
            ->deleteIntegrationToken((int)$model->getData('consumer_id'));
        cmb_set_status($model, 0);
    }
}

function act_integration_prepare_exchange($om, array $a): array
{
    $model = cmb_require_integration($om, $a);
    $reauthorize = cmb_bool($a, 'reauthorize', false);
    cmb_exchange_reauthorize($om, $model, $reauthorize);
    $consumerId = (int)$model->getData('consumer_id');
    // What OauthService::postToConsumer does before its HTTP POST: touch the
    // consumer (restarts the expiry window; Magento re-encrypts the secret) ...
    $consumer = $om->create(\Magento\Integration\Model\Oauth\Consumer::class)->load($consumerId);
    if (!$consumer->getId()) {
        throw new CmbError('magento', sprintf('A consumer with ID %d does not exist', $consumerId));
    }
    $consumer->setUpdatedAt(gmdate('Y-m-d H:i:s'));
    $consumer->save();
    // ... then get-or-create the verifier row (looked up by type verifier only).
    $verifier = $om->create(\Magento\Integration\Model\Oauth\Token::class)->createVerifierToken($consumerId);
    $model = cmb_load_integration($om, (int)$model->getId());
    return ['oauth_verifier' => cmb_secret((string)$verifier->getVerifier()),
            'integration' => cmb_integration($om, $model), 'credentials' => cmb_credentials($om, $model)];
}

function act_integration_post_to_consumer($om, array $a): array
{
    $model = cmb_require_integration($om, $a);
    cmb_exchange_reauthorize($om, $model, cmb_bool($a, 'reauthorize', false));
    // Transport failures come back as Magento's own Oauth exception (kind magento).
    $om->get(\Magento\Integration\Api\OauthServiceInterface::class)
        ->postToConsumer((int)$model->getData('consumer_id'), (string)$model->getData('endpoint'));
    return ['integration' => cmb_integration($om, cmb_load_integration($om, (int)$model->getId()))];
}

function act_integration_revoke($om, array $a): array
{
    $model = cmb_require_integration($om, $a);
    $oauth = $om->get(\Magento\Integration\Api\OauthServiceInterface::class);
    $consumerId = (int)$model->getData('consumer_id');
    // deleteIntegrationToken removes the consumer's first user_type 1 row; repeat
    // so that a stray row left by an aborted exchange goes too (bounded loop).
    $revoked = false;
    for ($i = 0; $i < 50 && $consumerId > 0 && $oauth->deleteIntegrationToken($consumerId); $i++) {
        $revoked = true;
    }
    cmb_set_status($model, 0);
    return ['revoked' => $revoked, 'integration' => cmb_integration($om, cmb_load_integration($om, (int)$model->getId()))];
}

// ---------------------------------------------------------------- system, ACL, cache

function act_system_info($om, array $a): array
{
    $meta = $om->get(\Magento\Framework\App\ProductMetadataInterface::class);
    $config = $om->get(\Magento\Framework\App\Config\ScopeConfigInterface::class);
    $default = \Magento\Framework\App\Config\ScopeConfigInterface::SCOPE_TYPE_DEFAULT;
    return [
        'magento_version' => (string)$meta->getVersion(),
        'edition' => (string)$meta->getEdition(),
        'mode' => (string)$om->get(\Magento\Framework\App\State::class)->getMode(),
        'base_url' => (string)$config->getValue('web/unsecure/base_url', $default),
        'secure_base_url' => (string)$config->getValue('web/secure/base_url', $default),
    ];
}

function cmb_flatten_acl(array $nodes, $parent, array &$out)
{
    foreach ($nodes as $node) {
        $out[] = ['id' => (string)$node['id'], 'title' => (string)($node['title'] ?? ''), 'parent' => $parent];
        if (!empty($node['children']) && is_array($node['children'])) {
            cmb_flatten_acl($node['children'], (string)$node['id'], $out);
        }
    }
}

function act_acl_resources($om, array $a): array
{
    // The tree is already in Magento's order (sortOrder, then declaration); depth-first keeps it.
    $tree = $om->get(\Magento\Framework\Acl\AclResource\ProviderInterface::class)->getAclResources();
    $out = [];
    cmb_flatten_acl($tree, null, $out);
    return ['resources' => $out];
}

function act_cache_status($om, array $a): array
{
    $typeList = $om->get(\Magento\Framework\App\Cache\TypeListInterface::class);
    $state = $om->get(\Magento\Framework\App\Cache\StateInterface::class);
    $invalidated = $typeList->getInvalidated();   // only declared, enabled types
    $out = [];
    foreach ($typeList->getTypes() as $id => $type) {
        $out[] = ['id' => (string)$id, 'label' => (string)$type->getData('cache_type'),
                  'enabled' => (bool)$state->isEnabled($id), 'invalidated' => isset($invalidated[$id])];
    }
    return ['types' => $out];
}

// ---------------------------------------------------------------- configuration

/**
 * Resolve scope and code to an id. Returns [scope (plural), code, id]. The client checks the scope and the code's
 * form before any write, with messages that name the setting and the fix; this is only a guard.
 */
function cmb_scope($om, array $item): array
{
    $scope = array_key_exists('scope', $item) && $item['scope'] !== null ? $item['scope'] : 'default';
    $code = array_key_exists('scope_code', $item) && $item['scope_code'] !== null ? $item['scope_code'] : '';
    if (!is_string($scope) || !is_string($code)) {
        throw new CmbError('input', 'The parameters "scope" and "scope_code" must be strings.');
    }
    // The protocol speaks default/websites/stores only (config:set would also take "group").
    $plural = ['default' => 'default', 'website' => 'websites', 'websites' => 'websites', 'store' => 'stores',
               'stores' => 'stores'];
    if (!isset($plural[$scope]) || ($scope === 'default') !== ($code === '')
        || ($code !== '' && !preg_match('/^[a-z]+[a-z0-9_]*$/i', $code))) {
        throw new CmbError('input', sprintf('Invalid scope "%s" with scope code "%s".', $scope, $code));
    }
    if ($scope === 'default') {
        return ['default', '', 0];
    }
    $scope = $plural[$scope];
    try {
        $resolver = $om->get(\Magento\Framework\App\ScopeResolverPool::class)->get($scope);
    } catch (\InvalidArgumentException $e) {
        throw new CmbError('input', sprintf('The "%s" value doesn\'t exist. Enter another value and try again.', $scope));
    }
    try {
        $resolved = $resolver->getScope($code);
    } catch (\Magento\Framework\Exception\LocalizedException $e) {
        $resolved = null;   // NoSuchEntityException / InitException: unknown code
    }
    // Codes are case-sensitive for config:set ("DEFAULT" is not "default").
    if ($resolved === null || (string)$resolved->getCode() !== $code) {
        throw new CmbError('input', sprintf('The "%s" value doesn\'t exist. Enter another value and try again.', $code));
    }
    return [$scope, $code, (int)$resolved->getId()];
}

function cmb_config_items(array $a): array
{
    if (!isset($a['items']) || !is_array($a['items'])) {
        throw new CmbError('input', 'The parameter "items" must be a list of {path, scope, scope_code}.');
    }
    foreach ($a['items'] as $item) {
        if (!is_array($item)) {
            throw new CmbError('input', 'The parameter "items" must be a list of {path, scope, scope_code}.');
        }
        cmb_str($item, 'path', true, false);
    }
    return array_values($a['items']);
}

/** Walk nested arrays; [found, value]. */
function cmb_dig($data, array $keys): array
{
    foreach ($keys as $key) {
        if (!is_array($data) || !array_key_exists($key, $data)) {
            return [false, null];
        }
        $data = $data[$key];
    }
    return [true, $data];
}

/** The deployed value of path at one scope: [source, value] or null. */
function cmb_deployed_value($om, string $path, string $scope, string $code)
{
    $parts = explode('/', trim($path, '/'));
    $scopeKeys = $scope === 'default' ? [['default']]
        : [[$scope, $code], [rtrim($scope, 's'), $code]];   // config:set may write the singular key
    $reader = $om->get(\Magento\Framework\App\DeploymentConfig\Reader::class);
    $files = [
        'app/etc/env.php' => \Magento\Framework\Config\File\ConfigFilePool::APP_ENV,
        'app/etc/config.php' => \Magento\Framework\Config\File\ConfigFilePool::APP_CONFIG,
    ];
    foreach ($files as $label => $fileKey) {
        $data = $reader->load($fileKey);
        foreach ($scopeKeys as $keys) {
            list($found, $value) = cmb_dig($data, array_merge(['system'], $keys, $parts));
            if ($found && !is_array($value)) {
                return [$label, $value];
            }
        }
    }
    // MAGENTO_DC_* overrides reach DeploymentConfig without being in either file.
    $deployment = $om->get(\Magento\Framework\App\DeploymentConfig::class);
    foreach ($scopeKeys as $keys) {
        $value = $deployment->get('system/' . implode('/', $keys) . '/' . implode('/', $parts));
        if ($value !== null && !is_array($value)) {
            return ['environment', $value];
        }
    }
    return null;
}

/** locked: CONFIG__... variable or file value for this scope or for default (SettingChecker). */
function cmb_lock($om, string $path, string $scope, string $code)
{
    $checker = $om->get(\Magento\Config\Model\Config\Reader\Source\Deployed\SettingChecker::class);
    $candidates = [[$scope, $code]];
    if ($scope !== 'default') {
        $candidates[] = ['default', ''];
    }
    foreach ($candidates as list($s, $c)) {
        $env = $checker->getPlaceholderValue($path, $s, $c === '' ? null : $c);
        if ($env !== null) {
            return ['source' => 'environment', 'scope' => $s, 'value' => (string)$env];
        }
    }
    // A default-scope lock wins over a scope lock, as in SettingChecker::isReadOnly.
    foreach (array_reverse($candidates) as list($s, $c)) {
        $found = cmb_deployed_value($om, $path, $s, $c);
        if ($found !== null) {
            return ['source' => $found[0], 'scope' => $s,
                    'value' => $found[1] === null ? null : (is_bool($found[1]) ? ($found[1] ? '1' : '0') : (string)$found[1])];
        }
    }
    return null;
}

function cmb_is_encrypted_field($om, string $path, bool $declared): bool
{
    if (!$declared) {
        return false;
    }
    $element = $om->get(\Magento\Config\Model\Config\Structure::class)->getElementByConfigPath($path);
    if (!$element instanceof \Magento\Config\Model\Config\Structure\Element\Field) {
        return false;
    }
    $backend = ltrim((string)$element->getAttribute('backend_model'), '\\');
    $encrypted = \Magento\Config\Model\Config\Backend\Encrypted::class;
    return $backend !== '' && ($backend === $encrypted || (class_exists($backend) && is_a($backend, $encrypted, true)));
}

/** The core_config_data row at exactly (scope, scope_id, path): [exists, value]. */
function cmb_db_value($om, string $path, string $scope, int $scopeId): array
{
    $collection = $om->create(\Magento\Config\Model\ResourceModel\Config\Data\Collection::class);
    $collection->addFieldToFilter('scope', $scope)
        ->addFieldToFilter('scope_id', $scopeId)
        ->addFieldToFilter('path', $path);
    $row = $collection->getFirstItem();
    if (!$row->getId()) {
        return [false, null];
    }
    $value = $row->getData('value');
    return [true, $value === null ? null : (string)$value];
}

function act_config_get($om, array $a): array
{
    $fieldPaths = $om->get(\Magento\Config\Model\Config\Structure::class)->getFieldPaths();
    $typePool = $om->get(\Magento\Config\Model\Config\TypePool::class);
    $out = [];
    foreach (cmb_config_items($a) as $item) {
        $path = $item['path'];
        list($scope, $code, $scopeId) = cmb_scope($om, $item);
        // Exact field paths (or a field's config_path) only, like 2.4.7's config:set.
        $declared = isset($fieldPaths[$path]);
        $encrypted = cmb_is_encrypted_field($om, $path, $declared);
        list($exists, $value) = cmb_db_value($om, $path, $scope, $scopeId);
        if ($encrypted && $value !== null && $value !== '') {
            $value = cmb_secret((string)$om->get(\Magento\Framework\Encryption\EncryptorInterface::class)->decrypt($value));
        }
        $sensitive = $encrypted
            || $typePool->isPresent($path, \Magento\Config\Model\Config\TypePool::TYPE_SENSITIVE)
            || $typePool->isPresent($path, \Magento\Config\Model\Config\TypePool::TYPE_ENVIRONMENT);
        if ($sensitive) {
            cmb_secret($value);
        }
        $out[] = ['path' => $path, 'scope' => $scope, 'scope_code' => $code, 'scope_id' => $scopeId,
                  'declared' => $declared, 'sensitive' => $sensitive, 'exists' => $exists, 'value' => $value,
                  'locked' => cmb_lock($om, $path, $scope, $code)];
    }
    return ['items' => $out];
}

/** Flatten a source model's options (optgroups hold a list in "value") to [{value, label}] with string values. */
function cmb_flat_options(array $options): array
{
    $out = [];
    foreach ($options as $option) {
        if (!is_array($option) || !array_key_exists('value', $option)) {
            continue;
        }
        if (is_array($option['value'])) {
            $out = array_merge($out, cmb_flat_options($option['value']));
        } else {
            $out[] = ['value' => (string)$option['value'], 'label' => (string)($option['label'] ?? '')];
        }
    }
    return $out;
}

/** The admin's dropdown of each field: its input type and source-model (or static) options, null without one. */
function act_config_options($om, array $a): array
{
    $structure = $om->get(\Magento\Config\Model\Config\Structure::class);
    $fieldPaths = $structure->getFieldPaths();
    $out = [];
    foreach (cmb_config_items($a) as $item) {
        $path = $item['path'];
        $declared = isset($fieldPaths[$path]);
        $element = $declared ? $structure->getElementByConfigPath($path) : null;
        $field = $element instanceof \Magento\Config\Model\Config\Structure\Element\Field ? $element : null;
        $type = $field === null ? null : ((string)$field->getType() ?: 'text');
        $options = ($field !== null && in_array($type, ['select', 'multiselect'], true) && $field->hasOptions())
            ? cmb_flat_options((array)$field->getOptions()) : null;
        $source = $field === null ? null : ($field->getAttribute('source_model') ?: null);
        $out[] = ['path' => $path, 'declared' => $declared, 'type' => $type,
                  'source_model' => $source === null ? null : ltrim((string)$source, '\\'), 'options' => $options];
    }
    return ['items' => $out];
}

function act_config_delete($om, array $a): array
{
    $plan = [];
    // Validate every item and refuse locked ones before deleting anything.
    foreach (cmb_config_items($a) as $item) {
        list($scope, $code, $scopeId) = cmb_scope($om, $item);
        // Guard: the client refuses to delete a locked value before any write, naming the file.
        if (cmb_lock($om, $item['path'], $scope, $code) !== null) {
            throw new CmbError('input', sprintf('Config path "%s" is locked at %s scope: not deleted.', $item['path'], $scope));
        }
        $plan[] = [$item['path'], $scope, $code, $scopeId];
    }
    $writer = $om->get(\Magento\Framework\App\Config\Storage\WriterInterface::class);
    $out = [];
    foreach ($plan as list($path, $scope, $code, $scopeId)) {
        list($exists) = cmb_db_value($om, $path, $scope, $scopeId);
        if ($exists) {
            $writer->delete($path, $scope, $scopeId);
        }
        $out[] = ['path' => $path, 'scope' => $scope, 'scope_code' => $code, 'deleted' => $exists];
    }
    $om->get(\Magento\Framework\App\Config\ReinitableConfigInterface::class)->reinit();
    return ['items' => $out];
}

// ---------------------------------------------------------------- main

const CMB_ACTIONS = [
    'system.info' => 'act_system_info',
    'acl.resources' => 'act_acl_resources',
    'integration.list' => 'act_integration_list',
    'integration.get' => 'act_integration_get',
    'integration.create' => 'act_integration_create',
    'integration.update' => 'act_integration_update',
    'integration.delete' => 'act_integration_delete',
    'integration.activate' => 'act_integration_activate',
    'integration.prepare_exchange' => 'act_integration_prepare_exchange',
    'integration.post_to_consumer' => 'act_integration_post_to_consumer',
    'integration.revoke' => 'act_integration_revoke',
    'config.get' => 'act_config_get',
    'config.options' => 'act_config_options',
    'config.delete' => 'act_config_delete',
    'cache.status' => 'act_cache_status',
];

function cmb_read_request(): array
{
    $raw = stream_get_contents(STDIN);
    $request = json_decode((string)$raw, true);
    if (!is_array($request)) {
        throw new CmbError('protocol', 'The request is not a JSON object: ' . json_last_error_msg() . '.');
    }
    $protocol = $request['protocol'] ?? null;
    if ($protocol !== CMB_PROTOCOL) {
        throw new CmbError('protocol', sprintf('Bridge protocol %d cannot answer a request of protocol %s.',
            CMB_PROTOCOL, is_scalar($protocol) ? (string)$protocol : json_encode($protocol)));
    }
    if (!isset($request['magento_root']) || !is_string($request['magento_root']) || $request['magento_root'] === '') {
        throw new CmbError('protocol', 'The request has no "magento_root".');
    }
    if (!isset($request['actions']) || !is_array($request['actions'])) {
        throw new CmbError('protocol', 'The request has no "actions" list.');
    }
    // Unknown actions are refused before Magento is touched: then nothing runs. Once the batch runs, each action
    // (a guarded one with its check) commits on its own; a failure stops the batch, and the actions before it stay done.
    foreach (array_values($request['actions']) as $i => $action) {
        $GLOBALS['cmb']['index'] = $i;
        $name = is_array($action) ? ($action['action'] ?? null) : null;
        $GLOBALS['cmb']['action'] = is_string($name) ? $name : null;
        if (!is_string($name) || !array_key_exists($name, CMB_ACTIONS)) {
            throw new CmbError('protocol', sprintf('Unknown bridge action %s.', json_encode($name)));
        }
    }
    $GLOBALS['cmb']['index'] = 0;
    $GLOBALS['cmb']['action'] = null;
    return $request;
}

/** A list of ids as a set: unique, sorted, so that two lists compare equal exactly when they hold the same ids. */
function cmb_id_set(array $ids): array
{
    $ids = array_values(array_unique(array_map('strval', $ids)));
    sort($ids, SORT_STRING);
    return $ids;
}

/**
 * Compare-and-write: lock the integration row, compare it with what the module read ("expect"), then run the
 * action, in one transaction. Another process's write in between makes this a "conflict" the module retries.
 */
function cmb_expecting($om, array $action, string $handler): array
{
    $resource = $om->get(\Magento\Framework\App\ResourceConnection::class);
    $db = $resource->getConnection();
    $db->beginTransaction();
    try {
        $db->fetchOne($db->select()->from($resource->getTableName('integration'), ['integration_id'])
            ->where('integration_id = ?', (int)$action['integration_id'])->forUpdate(true));
        $current = cmb_integration($om, cmb_require_integration($om, $action));
        $changed = [];
        foreach ($action['expect'] as $key => $value) {
            $now = array_key_exists($key, $current) ? $current[$key] : null;
            if ($key === 'resources' && is_array($now) && is_array($value)) {
                // Magento reads rule rows back in no fixed order (SPEC 1.10): the same ids in another order are as read.
                $now = cmb_id_set($now);
                $value = cmb_id_set($value);
            }
            // An empty string and NULL are the same stored e-mail or URL.
            if (!array_key_exists($key, $current) || ($now ?: null) !== ($value ?: null)) {
                $changed[] = $key;
            }
        }
        if ($changed) {
            throw new CmbError('conflict', sprintf('Integration "%s" changed since it was read (%s): another process '
                . 'wrote it meanwhile.', $current['name'], implode(', ', $changed)));
        }
        $result = $handler($om, $action);
        $db->commit();
        return $result;
    } catch (\Throwable $e) {
        $db->rollBack();
        throw $e;
    }
}

/** SPEC 15: app/bootstrap.php, Bootstrap::create, adminhtml area with its DI configuration. */
function cmb_bootstrap(string $root)
{
    $root = rtrim($root, '/');
    if (!is_file($root . '/app/bootstrap.php')) {
        throw new CmbError('bootstrap', sprintf('%s/app/bootstrap.php does not exist: is magento_root a Magento installation?', $root));
    }
    // Magento builds store URLs from the running script's name (Store::getBaseUrl appends it when Web Server
    // Rewrites are off; SPEC 15): present the front controller, as a web request would, not this file.
    $front = is_file($root . '/pub/index.php') ? $root . '/pub/index.php' : $root . '/index.php';
    $_SERVER['SCRIPT_FILENAME'] = $front;
    $_SERVER['SCRIPT_NAME'] = $_SERVER['PHP_SELF'] = '/index.php';
    require $root . '/app/bootstrap.php';
    ini_set('display_errors', 'stderr');   // in case Magento's bootstrap changed it
    $bootstrap = \Magento\Framework\App\Bootstrap::create(BP, $_SERVER);
    $om = $bootstrap->getObjectManager();
    $om->get(\Magento\Framework\App\State::class)->setAreaCode('adminhtml');
    $om->configure($om->get(\Magento\Framework\ObjectManager\ConfigLoaderInterface::class)->load('adminhtml'));
    // Touches env.php and the database: an unreachable database fails here, as bootstrap.
    $GLOBALS['cmb']['version'] = (string)$om->get(\Magento\Framework\App\ProductMetadataInterface::class)->getVersion();
    $om->get(\Magento\Framework\App\Config\ScopeConfigInterface::class)->getValue('web/unsecure/base_url');
    return $om;
}

try {
    $request = cmb_read_request();
    $GLOBALS['cmb']['phase'] = 'bootstrap';
    $GLOBALS['cmb']['action'] = $request['actions'] ? array_values($request['actions'])[0]['action'] : null;
    $om = cmb_bootstrap($request['magento_root']);
    $GLOBALS['cmb']['phase'] = 'actions';
    foreach (array_values($request['actions']) as $i => $action) {
        $GLOBALS['cmb']['index'] = $i;
        $GLOBALS['cmb']['action'] = $action['action'];
        $handler = CMB_ACTIONS[$action['action']];
        if (isset($action['expect']) && is_array($action['expect']) && isset($action['integration_id'])) {
            $GLOBALS['cmb']['results'][] = cmb_expecting($om, $action, $handler);
        } else {
            $GLOBALS['cmb']['results'][] = $handler($om, $action);
        }
    }
} catch (\Throwable $e) {
    cmb_respond(cmb_error_from($e));
}
cmb_respond();
'''
