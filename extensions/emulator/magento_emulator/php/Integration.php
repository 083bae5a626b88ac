<?php
/**
 * magento-emulator: stand-ins for Magento_Integration and Magento_Authorization (integrations, OAuth
 * consumers and tokens, integration roles and rules), with the semantics of integrations.py and acl.py
 * (SPEC 1.10, 1.11, 3, 5). See bootstrap.php.
 */

namespace Magento\Integration\Api {

    interface IntegrationServiceInterface
    {
    }

    interface OauthServiceInterface
    {
    }

    interface AuthorizationServiceInterface
    {
    }
}

namespace Magento\Integration\Model {

    use Magento\Framework\App\ObjectManager;
    use Magento\Framework\Exception\AlreadyExistsException;
    use Magento\Framework\Exception\IntegrationException;
    use Magento\Framework\Model\AbstractModel;
    use Magento\Integration\Model\Oauth\Consumer;
    use Magento\Integration\Model\Oauth\Token;
    use MagentoEmulator\Host;

    class Integration extends AbstractModel
    {
        const STATUS_INACTIVE = 0;
        const STATUS_ACTIVE = 1;
        const TYPE_MANUAL = 0;
        const TYPE_CONFIG = 1;

        protected $table = 'integration';
        protected $idField = 'integration_id';
        protected $columns = ['name', 'email', 'endpoint', 'status', 'consumer_id', 'setup_type', 'identity_link_url'];
        protected $nullable = ['endpoint', 'consumer_id', 'identity_link_url'];
    }

    /** IntegrationService with its permissions plugin: create/update grant, delete removes the role. */
    class IntegrationService
    {
        private function duplicate($name)
        {
            return new IntegrationException(sprintf('The integration with name "%s" exists.', $name));
        }

        private function loadOrFail($integrationId): Integration
        {
            $integration = (new Integration())->load((int)$integrationId);
            if (!$integration->getId()) {
                throw new IntegrationException(sprintf('The integration with ID "%s" doesn\'t exist.', $integrationId));
            }
            return $integration;
        }

        public function findByName($name)
        {
            // The name column's collation is case-insensitive, as Magento's utf8mb3_general_ci.
            return (new Integration())->load((string)$name, 'name');
        }

        public function get($integrationId)
        {
            return $this->loadOrFail($integrationId);
        }

        /** The save meets the unique index (AbstractDb::save). */
        private function uniqueViolation(\PDOException $e)
        {
            return $e->getCode() === '23000' ? new AlreadyExistsException('Unique constraint violation found') : $e;
        }

        /**
         * As in Magento, the duplicate-name look-up is a plain read before the save's transaction: a create of the
         * same name by another process in between fails on the unique index.
         */
        public function create(array $integrationData)
        {
            $name = (string)($integrationData['name'] ?? '');
            if ($this->findByName($name)->getId()) {
                throw $this->duplicate($name);
            }
            Host::window();
            return AbstractModel::db()->transactional(function () use ($integrationData, $name) {
                $integration = new Integration([
                    'name' => $name,
                    'email' => (string)($integrationData['email'] ?? ''),
                    'endpoint' => $integrationData['endpoint'] ?? null,
                    'identity_link_url' => $integrationData['identity_link_url'] ?? null,
                    'status' => (int)($integrationData['status'] ?? Integration::STATUS_INACTIVE),
                    'setup_type' => (int)($integrationData['setup_type'] ?? Integration::TYPE_MANUAL),
                ]);
                try {
                    $integration->save();
                } catch (\PDOException $e) {
                    throw $this->uniqueViolation($e);
                }
                $integration->setConsumerId(Consumer::createFor((int)$integration->getId())->getId())->save();
                $this->grant($integration, $integrationData);
                return $integration;
            });
        }

        public function update(array $integrationData)
        {
            return AbstractModel::db()->transactional(function () use ($integrationData) {
                $integration = $this->loadOrFail($integrationData['integration_id'] ?? 0);
                $name = (string)($integrationData['name'] ?? $integration->getName());
                // Magento looks the name up (case-insensitively) whenever it differs from the stored one.
                if ($integration->getName() !== $name && $this->findByName($name)->getId()) {
                    throw $this->duplicate($name);
                }
                foreach (['email', 'endpoint', 'identity_link_url'] as $field) {
                    if (array_key_exists($field, $integrationData)) {
                        $integration->setData($field, $field === 'email' ? (string)$integrationData[$field] : $integrationData[$field]);
                    }
                }
                $integration->setData('name', $name);
                try {
                    $integration->save();
                } catch (\PDOException $e) {
                    throw $this->uniqueViolation($e);
                }
                $this->grant($integration, $integrationData);
                return $integration;
            });
        }

        public function delete($integrationId)
        {
            return AbstractModel::db()->transactional(function () use ($integrationId) {
                $integration = $this->loadOrFail($integrationId);
                $data = $integration->getData();
                $integration->delete();
                ObjectManager::getInstance()->get(AuthorizationService::class)->removePermissions((int)$integrationId);
                return $data;
            });
        }

        /** The permissions plugin: all_resources truthy -> All, a resource list -> Custom, else Custom []. */
        private function grant(Integration $integration, array $data)
        {
            $authorization = ObjectManager::getInstance()->get(AuthorizationService::class);
            if (!empty($data['all_resources'])) {
                $authorization->grantAllPermissions((int)$integration->getId());
            } else {
                $resources = isset($data['resource']) && is_array($data['resource']) ? $data['resource'] : [];
                $authorization->grantPermissions((int)$integration->getId(), $resources);
            }
        }
    }

    /** The integration's role and its rules (acl.py, SPEC 1.6, 1.10). */
    class AuthorizationService
    {
        const ALL = 'Magento_Backend::all';
        const ADMIN = 'Magento_Backend::admin';

        public function grantPermissions($integrationId, $resources)
        {
            $this->saveRel($this->role((int)$integrationId), array_values((array)$resources));
        }

        public function grantAllPermissions($integrationId)
        {
            $this->grantPermissions($integrationId, [self::ALL]);
        }

        public function removePermissions($integrationId)
        {
            $db = AbstractModel::db();
            $db->delete('authorization_role', ["role_name = ?" => '1' . (int)$integrationId, "role_type = 'U'" => null]);
            $db->delete('authorization_role', ['user_id = ?' => (int)$integrationId, 'user_type = ?' => '1', "role_type = 'U'" => null]);
        }

        /** The integration's role id, created as AuthorizationService::grantPermissions does when missing. */
        private function role(int $integrationId): int
        {
            $db = AbstractModel::db();
            $roleId = $db->fetchOne("SELECT role_id FROM authorization_role WHERE user_id = ? AND user_type = ? AND role_type = 'U' "
                . 'ORDER BY role_id LIMIT 1', [$integrationId, '1']);
            if ($roleId !== false) {
                return (int)$roleId;
            }
            $db->insert('authorization_role', ['parent_id' => 0, 'tree_level' => 1, 'sort_order' => 0, 'role_type' => 'U',
                'user_id' => $integrationId, 'user_type' => '1', 'role_name' => '1' . $integrationId]);
            return $db->lastInsertId();
        }

        /** Rules::saveRel: [] -> no rows; [all] -> one allow row; else one row per ACL id, admin added. */
        private function saveRel(int $roleId, array $resources)
        {
            $db = AbstractModel::db();
            $db->transactional(function ($db) use ($roleId, $resources) {
                $db->delete('authorization_rule', ['role_id = ?' => $roleId]);
                if ($resources === []) {
                    return;
                }
                if ($resources === [self::ALL]) {
                    $db->insert('authorization_rule', ['role_id' => $roleId, 'resource_id' => self::ALL, 'privileges' => null,
                        'permission' => 'allow']);
                    return;
                }
                $wanted = array_flip(array_map('strval', $resources));
                $wanted[self::ADMIN] = true;
                foreach (Host::data('acl-resources.json') as $entry) {
                    $db->insert('authorization_rule', ['role_id' => $roleId, 'resource_id' => $entry['id'], 'privileges' => null,
                        'permission' => isset($wanted[$entry['id']]) ? 'allow' : 'deny']);
                }
            });
        }
    }

    /** OauthService (SPEC 3.2, 3.3): tokens of an integration's consumer. */
    class OauthService
    {
        const POST_FAILED = 'The attempt to post data to consumer failed due to an unexpected error. Please try again later.';

        public function loadConsumer($consumerId)
        {
            return (new Consumer())->load((int)$consumerId);
        }

        /** The consumer's access token, or false unless its integration token row is of type access. */
        public function getAccessToken($consumerId)
        {
            $token = (new Token())->loadByConsumerIdAndUserType((int)$consumerId, Token::USER_TYPE_INTEGRATION);
            return ($token->getId() && $token->getType() === Token::TYPE_ACCESS) ? $token : false;
        }

        /** False, and nothing done, when an integration token row exists and is not to be cleared. */
        public function createAccessToken($consumerId, $clearExistingToken = false)
        {
            return AbstractModel::db()->transactional(function () use ($consumerId, $clearExistingToken) {
                $existing = (new Token())->loadByConsumerIdAndUserType((int)$consumerId, Token::USER_TYPE_INTEGRATION);
                if ($existing->getId()) {
                    if (!$clearExistingToken) {
                        return false;
                    }
                    $existing->delete();
                }
                (new Token())->createVerifierToken((int)$consumerId)->convertToRequest()->convertToAccess();
                return true;
            });
        }

        public function deleteIntegrationToken($consumerId)
        {
            return AbstractModel::db()->transactional(function () use ($consumerId) {
                $existing = (new Token())->loadByConsumerIdAndUserType((int)$consumerId, Token::USER_TYPE_INTEGRATION);
                if (!$existing->getId()) {
                    return false;
                }
                $existing->delete();
                return true;
            });
        }

        /** The consumer and (explicitly, and by cascade) its tokens and nonces. */
        public function deleteConsumer($consumerId)
        {
            return AbstractModel::db()->transactional(function ($db) use ($consumerId) {
                $data = $this->loadConsumer($consumerId)->getData();
                $db->delete('oauth_nonce', ['consumer_id = ?' => (int)$consumerId]);
                $db->delete('oauth_token', ['consumer_id = ?' => (int)$consumerId]);
                $db->delete('oauth_consumer', ['entity_id = ?' => (int)$consumerId]);
                return $data;
            });
        }

        /** Touch the consumer, get-or-create the verifier, POST the credentials to the endpoint; the answer is ignored. */
        public function postToConsumer($consumerId, $endpointUrl)
        {
            list($consumer, $verifier) = AbstractModel::db()->transactional(function () use ($consumerId) {
                $consumer = $this->loadConsumer($consumerId);
                if (!$consumer->getId()) {
                    throw new \Magento\Framework\Oauth\Exception(sprintf('A consumer with ID %s does not exist', $consumerId));
                }
                $consumer->setUpdatedAt(Host::now())->save();
                return [$consumer, (new Token())->createVerifierToken((int)$consumerId)];
            });
            $config = ObjectManager::getInstance()->get(\Magento\Framework\App\Config\ScopeConfigInterface::class);
            $number = function ($path, $default) use ($config) {
                $value = $config->getValue($path);
                return is_numeric($value) ? (int)(float)$value : $default;
            };
            $fields = ['oauth_consumer_key' => $consumer->getKey(), 'oauth_consumer_secret' => $consumer->getSecret(),
                       'store_base_url' => $this->storeBaseUrl($config),
                       'oauth_verifier' => $verifier->getVerifier()];
            try {
                \MagentoEmulator\Http::postForm((string)$endpointUrl, $fields,
                    $number('oauth/consumer/post_timeout', 5) ?: 5, $number('oauth/consumer/post_maxredirects', 0));
            } catch (\Exception $e) {
                throw new \Magento\Framework\Oauth\Exception(self::POST_FAILED);
            }
            return $verifier->getVerifier();
        }

        /**
         * Store::getBaseUrl() of the default store view (SPEC 15): with Web Server Rewrites off Magento appends the
         * running script's file name, as a web request through index.php gets index.php/ (integrations.py).
         */
        private function storeBaseUrl($config): string
        {
            $url = (string)($config->getValue('web/unsecure/base_url', 'stores', 1) ?: 'http://localhost/');
            if (in_array($config->getValue('web/seo/use_rewrites', 'stores', 1), [null, '', '0'], true)) {
                $url .= basename((string)($_SERVER['SCRIPT_FILENAME'] ?? '')) . '/';
            }
            return $url;
        }
    }
}

namespace Magento\Integration\Model\Oauth {

    use Magento\Framework\App\ObjectManager;
    use Magento\Framework\Encryption\EncryptorInterface;
    use Magento\Framework\Model\AbstractModel;
    use MagentoEmulator\Host;

    /** oauth_consumer: the secret is stored encrypted and held in plain text (SPEC 5). */
    class Consumer extends AbstractModel
    {
        protected $table = 'oauth_consumer';
        protected $idField = 'entity_id';
        protected $columns = ['created_at', 'updated_at', 'name', 'key', 'secret', 'callback_url', 'rejected_callback_url'];
        protected $nullable = ['callback_url'];

        /** The consumer IntegrationService::create makes: Integration<id>, random key and secret. */
        public static function createFor(int $integrationId): self
        {
            do {
                $key = Host::randomString();
            } while (self::db()->fetchOne('SELECT 1 FROM oauth_consumer WHERE "key" = ?', [$key]) !== false);
            $consumer = new self(['name' => 'Integration' . $integrationId, 'key' => $key,
                'secret' => Host::randomString(), 'callback_url' => null, 'rejected_callback_url' => '']);
            return $consumer->save();
        }

        protected function decode(array $row): array
        {
            $row['secret'] = ObjectManager::getInstance()->get(EncryptorInterface::class)->decrypt($row['secret']);
            return $row;
        }

        protected function encode(array $data): array
        {
            $row = parent::encode($data);
            if (array_key_exists('secret', $row)) {
                // Every save re-encrypts with a fresh nonce.
                $row['secret'] = ObjectManager::getInstance()->get(EncryptorInterface::class)->encrypt((string)$row['secret']);
            }
            return $row;
        }
    }

    /** oauth_token: verifier -> request -> access in place; only access secrets are stored encrypted. */
    class Token extends AbstractModel
    {
        const TYPE_VERIFIER = 'verifier';
        const TYPE_REQUEST = 'request';
        const TYPE_ACCESS = 'access';
        const USER_TYPE_INTEGRATION = 1;

        protected $table = 'oauth_token';
        protected $idField = 'entity_id';
        protected $columns = ['consumer_id', 'admin_id', 'customer_id', 'type', 'token', 'secret', 'verifier',
                              'callback_url', 'revoked', 'authorized', 'user_type', 'created_at'];

        protected function decode(array $row): array
        {
            if ($row['type'] === self::TYPE_ACCESS) {
                $row['secret'] = ObjectManager::getInstance()->get(EncryptorInterface::class)->decrypt($row['secret']);
            }
            return $row;
        }

        protected function encode(array $data): array
        {
            $row = parent::encode($data);
            if (($row['type'] ?? null) === self::TYPE_ACCESS && array_key_exists('secret', $row)) {
                $row['secret'] = ObjectManager::getInstance()->get(EncryptorInterface::class)->encrypt((string)$row['secret']);
            }
            return $row;
        }

        /** TokenProvider: the consumer's first row of that user type. */
        public function loadByConsumerIdAndUserType($consumerId, $userType)
        {
            $row = self::db()->fetchRow('SELECT * FROM oauth_token WHERE consumer_id = ? AND user_type = ? ORDER BY entity_id LIMIT 1',
                [(int)$consumerId, (int)$userType]);
            return $this->fromRow($row ?: null);
        }

        private static function uniqueToken(): string
        {
            do {
                $token = Host::randomString();
            } while (self::db()->fetchOne('SELECT 1 FROM oauth_token WHERE token = ?', [$token]) !== false);
            return $token;
        }

        /** The consumer's first verifier row, inserted when there is none (looked up by type only, SPEC 3.3). */
        public function createVerifierToken($consumerId)
        {
            return self::db()->transactional(function ($db) use ($consumerId) {
                $row = $db->fetchRow('SELECT * FROM oauth_token WHERE consumer_id = ? AND type = ? ORDER BY entity_id LIMIT 1',
                    [(int)$consumerId, self::TYPE_VERIFIER]);
                if ($row) {
                    return $this->fromRow($row);
                }
                $this->fromRow(null)->setData(['consumer_id' => (int)$consumerId, 'type' => self::TYPE_VERIFIER,
                    'token' => self::uniqueToken(), 'secret' => Host::randomString(), 'verifier' => Host::randomString(),
                    'callback_url' => 'oob', 'user_type' => self::USER_TYPE_INTEGRATION, 'created_at' => Host::now()]);
                return $this->save();
            });
        }

        public function convertToRequest()
        {
            $this->addData(['type' => self::TYPE_REQUEST, 'token' => self::uniqueToken(), 'secret' => Host::randomString()]);
            return $this->save();
        }

        public function convertToAccess()
        {
            $this->addData(['type' => self::TYPE_ACCESS, 'token' => self::uniqueToken(), 'secret' => Host::randomString(),
                'user_type' => self::USER_TYPE_INTEGRATION]);
            $this->save();
            // Provider::getAccessToken logs the new access token in plain text (SPEC 4.7): Magento's own leak.
            \MagentoEmulator\Files::log(sprintf('Request token %s was exchanged to obtain access token for consumer %s',
                $this->getToken(), $this->getConsumerId()));
            return $this;
        }
    }
}

namespace Magento\Integration\Model\ResourceModel\Integration {

    class Collection extends \Magento\Framework\Model\AbstractCollection
    {
        protected $model = \Magento\Integration\Model\Integration::class;
        protected $table = 'integration';
    }
}

namespace Magento\Integration\Model\ResourceModel\Oauth\Token {

    class Collection extends \Magento\Framework\Model\AbstractCollection
    {
        protected $model = \Magento\Integration\Model\Oauth\Token::class;
        protected $table = 'oauth_token';

        public function addFilterByConsumerId($consumerId)
        {
            return $this->addFieldToFilter('consumer_id', (int)$consumerId);
        }
    }
}

namespace Magento\Authorization\Model\Acl {

    use Magento\Framework\Exception\AuthorizationException;
    use Magento\Framework\Model\AbstractModel;

    class AclRetriever
    {
        /**
         * The allowed resource ids of the user's role, in no promised order (the query has no ORDER BY, SPEC 1.10):
         * var/emulator-faults.json acl_order (acl.py) "index" (default) = by resource id as utf8_general_ci sorts,
         * "rows" = rule-row order, "shuffle" = any. No role: AuthorizationException.
         */
        public function getAllowedResourcesByUser($userType, $userId)
        {
            $db = AbstractModel::db();
            $roleId = $db->fetchOne("SELECT role_id FROM authorization_role WHERE user_id = ? AND user_type = ? AND role_type = 'U' "
                . 'ORDER BY role_id LIMIT 1', [(int)$userId, (string)$userType]);
            if ($roleId === false) {
                throw new AuthorizationException('The role wasn\'t found for the user. Verify the role and try again.');
            }
            $rows = $db->fetchAll("SELECT rule_id, resource_id FROM authorization_rule WHERE role_id = ? AND permission = 'allow' "
                . 'ORDER BY rule_id', [(int)$roleId]);
            $order = \MagentoEmulator\Host::setting('acl_order');
            if ($order === 'shuffle') {
                shuffle($rows);
            } elseif ($order !== 'rows') {
                usort($rows, function ($a, $b) {
                    return strcmp(strtoupper($a['resource_id']), strtoupper($b['resource_id'])) ?: $a['rule_id'] <=> $b['rule_id'];
                });
            }
            return array_column($rows, 'resource_id');
        }
    }
}

namespace MagentoEmulator {

    /** OauthService's form POST, as integrations.py post_form sends it (headers in that order). */
    final class Http
    {
        public static function postForm(string $url, array $fields, int $timeout, int $maxRedirects)
        {
            $pairs = [];
            foreach ($fields as $key => $value) {
                $pairs[] = str_replace('%20', '+', rawurlencode((string)$key)) . '=' . str_replace('%20', '+', rawurlencode((string)$value));
            }
            $body = implode('&', $pairs);
            for ($hop = 0; $hop <= max(0, $maxRedirects); $hop++) {
                $parts = parse_url($url);
                $scheme = strtolower($parts['scheme'] ?? '');
                if (!in_array($scheme, ['http', 'https'], true) || empty($parts['host'])) {
                    throw new \InvalidArgumentException('invalid URL');
                }
                $host = $parts['host'];
                $port = $parts['port'] ?? ($scheme === 'https' ? 443 : 80);
                $context = stream_context_create(['ssl' => ['verify_peer' => true, 'verify_peer_name' => true,
                    'peer_name' => trim($host, '[]')]]);
                $socket = @stream_socket_client(($scheme === 'https' ? 'ssl://' : 'tcp://') . $host . ':' . $port, $errno, $error,
                    $timeout, STREAM_CLIENT_CONNECT, $context);
                if ($socket === false) {
                    throw new \RuntimeException($error);
                }
                stream_set_timeout($socket, $timeout);
                $target = ($parts['path'] ?? '') === '' ? '/' : $parts['path'];
                if (isset($parts['query']) && $parts['query'] !== '') {
                    $target .= '?' . $parts['query'];
                }
                $hostHeader = isset($parts['port']) ? $host . ':' . $parts['port'] : $host;
                $request = "POST $target HTTP/1.1\r\nHost: $hostHeader\r\nUser-Agent: Laminas\\Http\\Client\r\nAccept: */*\r\n"
                    . 'Content-Length: ' . strlen($body) . "\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n" . $body;
                try {
                    list($status, $location) = self::exchange($socket, $request);
                } finally {
                    fclose($socket);
                }
                if (in_array($status, [301, 302, 303, 307, 308], true) && $location !== null && $hop < $maxRedirects) {
                    $url = self::join($url, $parts, $location);
                    continue;
                }
                return $status;
            }
            return null;
        }

        /** Send, read the status line, the headers and the body (which is ignored). */
        private static function exchange($socket, string $request): array
        {
            if (fwrite($socket, $request) !== strlen($request)) {
                throw new \RuntimeException('write failed');
            }
            $line = self::line($socket);
            if (!preg_match('#^HTTP/\d\.\d (\d{3})#', $line, $match)) {
                throw new \RuntimeException('not an HTTP response');
            }
            $headers = [];
            while (($line = self::line($socket)) !== '') {
                list($name, $value) = array_pad(explode(':', $line, 2), 2, '');
                $headers[strtolower(trim($name))] = trim($value);
            }
            if (isset($headers['content-length'])) {
                $left = (int)$headers['content-length'];
                while ($left > 0) {
                    $chunk = self::read($socket, min($left, 8192));
                    $left -= strlen($chunk);
                }
            } elseif (stripos($headers['transfer-encoding'] ?? '', 'chunked') !== false) {
                while (($size = hexdec(self::line($socket))) > 0) {
                    self::read($socket, $size);
                    self::line($socket);
                }
                self::line($socket);
            } else {
                while (!feof($socket)) {
                    self::read($socket, 8192, true);
                }
            }
            return [(int)$match[1], $headers['location'] ?? null];
        }

        private static function line($socket): string
        {
            $line = fgets($socket);
            self::check($socket, $line);
            return rtrim((string)$line, "\r\n");
        }

        private static function read($socket, int $length, bool $eofOk = false): string
        {
            $data = fread($socket, $length);
            if ($eofOk && ($data === '' || $data === false) && feof($socket)) {
                return '';
            }
            self::check($socket, $data === '' ? false : $data);
            return (string)$data;
        }

        private static function check($socket, $data)
        {
            if ($data === false) {
                $meta = stream_get_meta_data($socket);
                throw new \RuntimeException(!empty($meta['timed_out']) ? 'timed out' : 'connection closed');
            }
        }

        private static function join(string $base, array $parts, string $location): string
        {
            if (preg_match('#^[a-z][a-z0-9+.-]*:#i', $location)) {
                return $location;
            }
            $origin = $parts['scheme'] . '://' . $parts['host'] . (isset($parts['port']) ? ':' . $parts['port'] : '');
            if (strpos($location, '//') === 0) {
                return $parts['scheme'] . ':' . $location;
            }
            if (strpos($location, '/') === 0) {
                return $origin . $location;
            }
            $path = $parts['path'] ?? '/';
            return $origin . substr($path, 0, (int)strrpos($path, '/') + 1) . $location;
        }
    }
}
