<?php
/**
 * magento-emulator: stand-ins for the Magento framework classes the bridge uses (object manager, app
 * state, deployment config, scope config, encryptor, database connection, caches). See bootstrap.php.
 */

namespace MagentoEmulator {

    /**
     * The emulated root, its data files, and the host faults realphp.py planned for this process (faults.py):
     * db_down (message), delay_at or window_at + delay, fatal_at + fatal_message (a real fatal error), stop_at (dies
     * there).
     */
    final class Host
    {
        /** @var string */
        public static $root = '';
        /** @var array MAGENTO_EMULATOR_FAULTS */
        public static $faults = [];
        private static $reached = -1;
        private static $data = [];

        public static function init(string $root)
        {
            self::$root = rtrim($root, '/');
            $faults = json_decode((string)getenv('MAGENTO_EMULATOR_FAULTS'), true);
            self::$faults = is_array($faults) ? $faults : [];
        }

        public static function path(string $relative): string
        {
            return self::$root . '/' . $relative;
        }

        /** A JSON file of magento_emulator/data, shared with the Python emulator. */
        public static function data(string $name)
        {
            if (!array_key_exists($name, self::$data)) {
                self::$data[$name] = json_decode((string)file_get_contents(dirname(__DIR__) . '/data/' . $name), true);
            }
            return self::$data[$name];
        }

        public static function now(): string
        {
            return gmdate('Y-m-d H:i:s');
        }

        /** Magento's Oauth helper: random [0-9a-z]. */
        public static function randomString(int $length = 32): string
        {
            $alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
            $out = '';
            for ($i = 0; $i < $length; $i++) {
                $out .= $alphabet[random_int(0, 35)];
            }
            return $out;
        }

        /**
         * Called on every object-manager request: when the bridge has reached a new action, the host faults
         * planned for that action strike (a delay, or the process dies there). The bridge's own state says
         * which action runs ($GLOBALS['cmb'], read only).
         */
        /** The index of the action the bridge runs, or null outside the actions. */
        private static function action()
        {
            $state = $GLOBALS['cmb'] ?? null;
            if (!is_array($state) || ($state['phase'] ?? null) !== 'actions' || !is_int($state['index'] ?? null)) {
                return null;
            }
            return $state['index'];
        }

        private static function sleep()
        {
            $delay = is_array(self::$faults['delay'] ?? null) ? self::$faults['delay'] : [];
            if (!empty($delay['touch'])) {
                touch((string)$delay['touch']);
            }
            // faults.py sleep(): at most `seconds`, ended early once the `release` file exists.
            $deadline = microtime(true) + (float)($delay['seconds'] ?? 0);
            $release = empty($delay['release']) ? null : (string)$delay['release'];
            while (($left = $deadline - microtime(true)) > 0) {
                if ($release !== null && file_exists($release)) {
                    return;
                }
                usleep((int)round(1e6 * min(0.05, $left)));
            }
        }

        /** Where Magento leaves a concurrent writer a window inside an action (faults.py bridge_delay "within"). */
        public static function window()
        {
            $index = self::action();
            if ($index !== null && isset(self::$faults['window_at']) && $index >= self::$faults['window_at']) {
                unset(self::$faults['window_at']);
                self::sleep();
            }
        }

        /** A plain setting of var/emulator-faults.json (faults.py setting: nothing is consumed), or null. */
        public static function setting(string $key)
        {
            $data = json_decode((string)@file_get_contents(self::path('var/emulator-faults.json')), true);
            return is_array($data) ? ($data[$key] ?? null) : null;
        }

        public static function reach()
        {
            $index = self::action();
            if ($index === null || $index <= self::$reached) {
                return;
            }
            self::$reached = $index;
            $faults = self::$faults;
            if (isset($faults['delay_at']) && $index >= $faults['delay_at']) {
                unset(self::$faults['delay_at']);
                self::sleep();
            }
            if (isset($faults['fatal_at']) && $index >= $faults['fatal_at']) {
                // A genuine PHP fatal error, which the bridge's shutdown handler reports.
                trigger_error((string)$faults['fatal_message'], E_USER_ERROR);
            }
            if (isset($faults['stop_at']) && $index >= $faults['stop_at']) {
                // PHP dies here: fakephp.py prints what the fault says (faults.py bridge_fatal, bridge_output).
                fwrite(STDERR, "magento-emulator-fault: stop\n");
                if (function_exists('posix_kill')) {
                    posix_kill(posix_getpid(), 9);
                }
                $GLOBALS['cmb']['responded'] = true;
                exit(255);
            }
        }
    }
}

namespace MagentoEmulator {

    use Magento\Framework\Exception\FileSystemException;

    /**
     * What Magento writes under its root when a process boots it, as the process owner, and its own log lines
     * (files.py, SPEC 15 and 4.7; the files are data/bootstrap-files.json).
     */
    final class Files
    {
        /** The generated classes the bootstrap lacks and its config cache entry; throws as Magento fails. */
        public static function boot()
        {
            $data = Host::data('bootstrap-files.json');
            $cacheDir = Host::path('var/cache');
            @mkdir($cacheDir, 0777, true);
            // Zend_Cache's file backend checks its directory in the cache frontend's constructor, before anything else.
            if (!is_dir($cacheDir)) {
                throw new \Zend_Cache_Exception(sprintf('cache_dir "%s/" must be a directory', $cacheDir));
            }
            if (!is_writable($cacheDir) || !is_executable($cacheDir)) {
                throw new \Zend_Cache_Exception(sprintf('cache_dir "%s/" is not writable', $cacheDir));
            }
            foreach ($data['generated_classes'] as $relative) {
                self::generate(Host::path('generated/code/' . $relative), (string)$data['generated_text']);
            }
            $state = \Magento\Framework\App\ObjectManager::getInstance()->get(\Magento\Framework\App\Cache\StateInterface::class);
            if ($state->isEnabled($data['cache_type'])) {
                $entry = Host::path('var/cache/' . $data['cache_type'] . '/' . $data['cache_key'] . '.json');
                if (!self::write($entry, (string)$data['cache_entry'], '.tmp-' . getmypid())) {
                    throw new FileSystemException(sprintf('The specified "%s" file couldn\'t be written. Warning!%s',
                        $entry, self::reason()));
                }
            }
        }

        /** Written to <file>.<pid> and renamed, as Magento's code generator does. */
        private static function generate(string $path, string $text)
        {
            if (file_exists($path)) {
                return;
            }
            $directory = dirname($path);
            if (!is_dir($directory) && !@mkdir($directory, 0777, true) && !is_dir($directory)) {
                throw new FileSystemException(sprintf('Directory "%s" cannot be created Warning!%s', $directory,
                    (string)(error_get_last()['message'] ?? '')));
            }
            $partial = $path . '.' . getmypid();
            if (@file_put_contents($partial, $text) === false || !@rename($partial, $path)) {
                throw new FileSystemException(sprintf('The specified "%s" file couldn\'t be written. Warning!%s', $partial,
                    (string)(error_get_last()['message'] ?? '')));
            }
        }

        private static function write(string $path, string $text, string $suffix): bool
        {
            $directory = dirname($path);
            if (!is_dir($directory) && !@mkdir($directory, 0777, true) && !is_dir($directory)) {
                return false;
            }
            $partial = $directory . '/' . $suffix;
            if (@file_put_contents($partial, $text) === false) {
                return false;
            }
            if (!@rename($partial, $path)) {
                @unlink($partial);
                return false;
            }
            return true;
        }

        /** The system's reason of the last failed call ("Permission denied"), as OSError.strerror says it. */
        private static function reason(): string
        {
            $message = (string)(error_get_last()['message'] ?? '');
            $colon = strrpos($message, ': ');
            return $colon === false ? $message : substr($message, $colon + 2);
        }

        /** A Magento log line, in var/log/system.log and var/log/debug.log (Monolog's LineFormatter). */
        public static function log(string $message, string $level = 'INFO')
        {
            $stamp = (new \DateTime('now', new \DateTimeZone('UTC')))->format('Y-m-d\TH:i:s.uP');
            $line = sprintf("[%s] main.%s: %s [] []\n", $stamp, $level, $message);
            $directory = Host::path('var/log');
            if (!is_dir($directory)) {
                mkdir($directory, 0777, true);
            }
            foreach (['system.log', 'debug.log'] as $name) {
                file_put_contents($directory . '/' . $name, $line, FILE_APPEND);
            }
        }
    }
}

namespace Magento\Framework\Exception {

    class LocalizedException extends \Exception
    {
    }

    class NoSuchEntityException extends LocalizedException
    {
    }

    class AuthorizationException extends LocalizedException
    {
    }

    class IntegrationException extends LocalizedException
    {
    }

    class FileSystemException extends LocalizedException
    {
    }

    class InputException extends LocalizedException
    {
    }

    class AlreadyExistsException extends LocalizedException
    {
    }
}

namespace Magento\Framework\Oauth {

    class Exception extends \Magento\Framework\Exception\LocalizedException
    {
    }
}

namespace {

    /** What Magento's database layer (zendframework1) raises when MySQL refuses the connection. */
    class Zend_Db_Adapter_Exception extends \Exception
    {
    }

    /** What Zend_Cache raises when its cache directory is unusable. */
    class Zend_Cache_Exception extends \Exception
    {
    }
}

namespace Magento\Framework {

    interface ObjectManagerInterface
    {
    }

    /** Magento's DataObject: data array, magic get/set/has/uns by snake_case key. */
    class DataObject implements \ArrayAccess
    {
        protected $_data = [];

        public function __construct(array $data = [])
        {
            $this->_data = $data;
        }

        public function getData($key = '')
        {
            if ($key === '' || $key === null) {
                return $this->_data;
            }
            return $this->_data[$key] ?? null;
        }

        public function setData($key, $value = null)
        {
            if (is_array($key)) {
                $this->_data = $key;
            } else {
                $this->_data[$key] = $value;
            }
            return $this;
        }

        public function addData(array $data)
        {
            foreach ($data as $key => $value) {
                $this->_data[$key] = $value;
            }
            return $this;
        }

        public function hasData($key = '')
        {
            return $key === '' ? !empty($this->_data) : array_key_exists($key, $this->_data);
        }

        public function unsetData($key)
        {
            unset($this->_data[$key]);
            return $this;
        }

        public function __call($method, $args)
        {
            $key = strtolower(preg_replace('/(.)([A-Z])/', '$1_$2', substr($method, 3)));
            switch (substr($method, 0, 3)) {
                case 'get':
                    return $this->getData($key);
                case 'set':
                    return $this->setData($key, $args[0] ?? null);
                case 'has':
                    return $this->hasData($key);
                case 'uns':
                    return $this->unsetData($key);
            }
            throw new \BadMethodCallException(sprintf('Invalid method %s::%s', get_class($this), $method));
        }

        #[\ReturnTypeWillChange]
        public function offsetExists($offset)
        {
            return isset($this->_data[$offset]);
        }

        #[\ReturnTypeWillChange]
        public function offsetGet($offset)
        {
            return $this->getData($offset);
        }

        #[\ReturnTypeWillChange]
        public function offsetSet($offset, $value)
        {
            $this->setData($offset, $value);
        }

        #[\ReturnTypeWillChange]
        public function offsetUnset($offset)
        {
            $this->unsetData($offset);
        }
    }
}

namespace Magento\Framework\ObjectManager {

    interface ConfigLoaderInterface
    {
    }

    /** The area's DI configuration: the stand-ins need none. */
    class ConfigLoader implements ConfigLoaderInterface
    {
        public function load($area)
        {
            return [];
        }
    }
}

namespace Magento\Framework\App {

    use MagentoEmulator\Host;

    /** get() shares one instance per type, create() makes a new one; interfaces map to their stand-in. */
    class ObjectManager implements \Magento\Framework\ObjectManagerInterface
    {
        const PREFERENCES = [
            'Magento\Framework\ObjectManager\ConfigLoaderInterface' => 'Magento\Framework\ObjectManager\ConfigLoader',
            'Magento\Framework\App\ProductMetadataInterface' => 'Magento\Framework\App\ProductMetadata',
            'Magento\Framework\App\Config\ScopeConfigInterface' => 'Magento\Framework\App\Config',
            'Magento\Framework\App\Config\ReinitableConfigInterface' => 'Magento\Framework\App\Config',
            'Magento\Framework\App\Config\Storage\WriterInterface' => 'Magento\Framework\App\Config\Storage\Writer',
            'Magento\Framework\Encryption\EncryptorInterface' => 'Magento\Framework\Encryption\Encryptor',
            'Magento\Framework\App\Cache\TypeListInterface' => 'Magento\Framework\App\Cache\TypeList',
            'Magento\Framework\App\Cache\StateInterface' => 'Magento\Framework\App\Cache\State',
            'Magento\Framework\Acl\AclResource\ProviderInterface' => 'Magento\Framework\Acl\AclResource\Provider',
            'Magento\Integration\Api\IntegrationServiceInterface' => 'Magento\Integration\Model\IntegrationService',
            'Magento\Integration\Api\OauthServiceInterface' => 'Magento\Integration\Model\OauthService',
            'Magento\Integration\Api\AuthorizationServiceInterface' => 'Magento\Integration\Model\AuthorizationService',
        ];

        /** @var ObjectManager */
        private static $instance;
        private $shared = [];

        public static function getInstance(): self
        {
            return self::$instance;
        }

        public static function setInstance(self $objectManager)
        {
            self::$instance = $objectManager;
        }

        public function get($type)
        {
            Host::reach();
            $type = ltrim($type, '\\');
            $class = self::PREFERENCES[$type] ?? $type;
            if (!isset($this->shared[$class])) {
                $this->shared[$class] = $this->make($type, $class);
            }
            return $this->shared[$class];
        }

        public function create($type, array $arguments = [])
        {
            Host::reach();
            $type = ltrim($type, '\\');
            return $this->make($type, self::PREFERENCES[$type] ?? $type, $arguments);
        }

        public function configure(array $configuration)
        {
        }

        private function make($type, $class, array $arguments = [])
        {
            if (!class_exists($class)) {
                throw new \ReflectionException(sprintf('Class "%s" does not exist', $type));
            }
            return $arguments ? new $class($arguments) : new $class();
        }
    }

    class Bootstrap
    {
        private $objectManager;

        public static function create($rootDir, array $initParams)
        {
            Host::init((string)$rootDir);
            $env = Host::path('app/etc/env.php');
            if (!is_readable($env)) {
                throw new \Magento\Framework\Exception\FileSystemException(
                    sprintf('The configuration file "%s" is not readable.', $env)
                );
            }
            return new self();
        }

        public function __construct()
        {
            $this->objectManager = new ObjectManager();
            ObjectManager::setInstance($this->objectManager);
            \MagentoEmulator\Files::boot();
        }

        public function getObjectManager()
        {
            return $this->objectManager;
        }
    }

    class State
    {
        private $areaCode;

        public function setAreaCode($code)
        {
            if ($this->areaCode !== null) {
                throw new \Magento\Framework\Exception\LocalizedException('Area code is already set');
            }
            $this->areaCode = $code;
        }

        public function getAreaCode()
        {
            return $this->areaCode;
        }

        public function getMode()
        {
            $mode = ObjectManager::getInstance()->get(DeploymentConfig::class)->get('MAGE_MODE');
            return is_string($mode) && $mode !== '' ? $mode : 'default';
        }
    }

    interface ProductMetadataInterface
    {
    }

    class ProductMetadata implements ProductMetadataInterface
    {
        public function getVersion()
        {
            return (string)Host::data('magento.json')['version'];
        }

        public function getEdition()
        {
            return (string)Host::data('magento.json')['edition'];
        }

        public function getName()
        {
            return 'Magento';
        }
    }

    /** app/etc/env.php and config.php, merged (env.php wins), read as Magento reads them: include. */
    class DeploymentConfig
    {
        private $data;

        public function get($key = null, $default = null)
        {
            if ($this->data === null) {
                $reader = ObjectManager::getInstance()->get(DeploymentConfig\Reader::class);
                $this->data = array_replace_recursive(
                    $reader->load(\Magento\Framework\Config\File\ConfigFilePool::APP_CONFIG),
                    $reader->load(\Magento\Framework\Config\File\ConfigFilePool::APP_ENV)
                );
            }
            if ($key === null) {
                return $this->data;
            }
            $node = $this->data;
            foreach (explode('/', (string)$key) as $part) {
                if (!is_array($node) || !array_key_exists($part, $node)) {
                    return $default;
                }
                $node = $node[$part];
            }
            return $node;
        }
    }

    class ResourceConnection
    {
        private $connection;

        public function getConnection($resourceName = 'default')
        {
            if ($this->connection === null) {
                $this->connection = new \Magento\Framework\DB\Adapter\Pdo\Sqlite(Host::path('var/magento.sqlite'));
            }
            return $this->connection;
        }

        public function getTableName($modelEntity, $connectionName = 'default')
        {
            return (string)$modelEntity;
        }
    }

    interface ScopeResolverInterface
    {
    }

    /** websites/stores resolvers: a code, case-insensitively (the column's collation), to its row. */
    class ScopeResolverPool
    {
        public function get($scopeType)
        {
            $tables = ['website' => 'store_website', 'websites' => 'store_website', 'store' => 'store', 'stores' => 'store'];
            if (!isset($tables[$scopeType])) {
                throw new \InvalidArgumentException(sprintf("Invalid scope type '%s'", $scopeType));
            }
            return new ScopeResolver($tables[$scopeType]);
        }
    }

    class ScopeResolver implements ScopeResolverInterface
    {
        private $table;

        public function __construct($table)
        {
            $this->table = $table;
        }

        public function getScope($scopeId = null)
        {
            $db = ObjectManager::getInstance()->get(ResourceConnection::class)->getConnection();
            $idField = $this->table === 'store' ? 'store_id' : 'website_id';
            $row = $db->fetchRow(sprintf('SELECT %s AS id, code FROM %s WHERE code = ?', $idField, $this->table), [$scopeId]);
            if (!$row) {
                throw new \Magento\Framework\Exception\NoSuchEntityException(
                    sprintf('The scope with code "%s" that was requested wasn\'t found.', $scopeId)
                );
            }
            return new \Magento\Framework\DataObject(['id' => (int)$row['id'], 'code' => (string)$row['code']]);
        }
    }

    /**
     * ScopeConfig (config.py read_value): config.xml default < core_config_data < config.php < env.php at each level,
     * the website and store view levels over the default one; encrypted fields decrypted. A store view is given by id
     * or code, a website by id.
     */
    class Config
    {
        const SCOPES = ['default' => 'default', 'website' => 'websites', 'websites' => 'websites', 'store' => 'stores',
                        'stores' => 'stores'];

        public function getValue($path = null, $scopeType = 'default', $scopeCode = null)
        {
            $om = ObjectManager::getInstance();
            $value = Host::data('config-paths.json')['defaults'][$path] ?? null;
            $db = $om->get(ResourceConnection::class)->getConnection();
            foreach ($this->levels($db, (string)$scopeType, $scopeCode) as list($level, $levelId, $code)) {
                $row = $db->fetchRow('SELECT value FROM core_config_data WHERE scope = ? AND scope_id = ? AND path = ?',
                    [$level, $levelId, $path]);
                if ($row) {
                    $value = $row['value'] === null ? null : (string)$row['value'];
                }
                if ($level === 'default' || $code !== '') {
                    $deployed = $this->deployed((string)$path, $level, $code);
                    $value = $deployed ?? $value;
                }
            }
            $encrypted = !empty(Host::data('config-paths.json')['fields'][$path]['encrypted']);
            if ($encrypted && $value !== null && $value !== '') {
                $value = $om->get(\Magento\Framework\Encryption\EncryptorInterface::class)->decrypt($value);
            }
            return $value;
        }

        /** [[scope, id, code]] from the default level to the one asked for (config.py _chain). */
        private function levels($db, string $scopeType, $scopeCode): array
        {
            $scope = self::SCOPES[$scopeType] ?? null;
            if ($scope === null) {
                throw new \LogicException(sprintf('magento-emulator: ScopeConfig has no scope "%s".', $scopeType));
            }
            $levels = [['default', 0, '']];
            $websiteCode = function ($id) use ($db) {
                return (string)$db->fetchOne('SELECT code FROM store_website WHERE website_id = ?', [(int)$id]);
            };
            if ($scope === 'websites') {
                $levels[] = ['websites', (int)$scopeCode, $websiteCode($scopeCode)];
            } elseif ($scope === 'stores') {
                $row = $db->fetchRow(sprintf('SELECT store_id, website_id, code FROM store WHERE %s = ?',
                    is_int($scopeCode) || preg_match('/^\d+$/', (string)$scopeCode) ? 'store_id' : 'code'), [$scopeCode]);
                if ($row) {
                    $levels[] = ['websites', (int)$row['website_id'], $websiteCode($row['website_id'])];
                    $levels[] = ['stores', (int)$row['store_id'], (string)$row['code']];
                } else {
                    $levels[] = ['stores', (int)$scopeCode, ''];
                }
            }
            return $levels;
        }

        /** The value deployed for the path at exactly that level (env.php over config.php), as a string, or null. */
        private function deployed(string $path, string $scope, string $code)
        {
            $reader = ObjectManager::getInstance()->get(DeploymentConfig\Reader::class);
            $keys = $scope === 'default' ? [['default']] : [[$scope, $code], [rtrim($scope, 's'), $code]];
            $parts = explode('/', trim($path, '/'));
            foreach ([\Magento\Framework\Config\File\ConfigFilePool::APP_ENV,
                      \Magento\Framework\Config\File\ConfigFilePool::APP_CONFIG] as $file) {
                $data = $reader->load($file);
                foreach ($keys as $scopeKeys) {
                    $node = $data;
                    foreach (array_merge(['system'], $scopeKeys, $parts) as $key) {
                        if (!is_array($node) || !array_key_exists($key, $node)) {
                            $node = null;
                            break;
                        }
                        $node = $node[$key];
                    }
                    if ($node !== null && !is_array($node)) {
                        return is_bool($node) ? ($node ? '1' : '') : (string)$node;
                    }
                }
            }
            return null;
        }

        /** ReinitableConfigInterface::reinit: the config cache is cleaned. */
        public function reinit()
        {
            Cache\TypeList::removeTree(Host::path('var/cache/config'));
            return $this;
        }
    }
}

namespace Magento\Framework\App\Config {

    interface ScopeConfigInterface
    {
        const SCOPE_TYPE_DEFAULT = 'default';
    }

    interface ReinitableConfigInterface
    {
    }
}

namespace Magento\Framework\App\Config\Storage {

    use Magento\Framework\App\ObjectManager;

    interface WriterInterface
    {
    }

    class Writer implements WriterInterface
    {
        public function delete($path, $scope = 'default', $scopeId = 0)
        {
            $db = ObjectManager::getInstance()->get(\Magento\Framework\App\ResourceConnection::class)->getConnection();
            $db->delete('core_config_data', ['scope = ?' => $scope, 'scope_id = ?' => (int)$scopeId, 'path = ?' => $path]);
        }
    }
}

namespace Magento\Framework\App\DeploymentConfig {

    use Magento\Framework\Config\File\ConfigFilePool;
    use MagentoEmulator\Host;

    class Reader
    {
        public function load($fileKey = null)
        {
            $files = [ConfigFilePool::APP_ENV => 'app/etc/env.php', ConfigFilePool::APP_CONFIG => 'app/etc/config.php'];
            $path = Host::path($files[$fileKey]);
            if (!is_file($path)) {
                return [];
            }
            $data = include $path;
            return is_array($data) ? $data : [];
        }
    }
}

namespace Magento\Framework\Config\File {

    class ConfigFilePool
    {
        const APP_CONFIG = 'app_config';
        const APP_ENV = 'app_env';
    }
}

namespace Magento\Framework\Encryption {

    use Magento\Framework\App\DeploymentConfig;
    use Magento\Framework\App\ObjectManager;

    interface EncryptorInterface
    {
    }

    /** Cipher 3, IETF ChaCha20-Poly1305 with the nonce as associated data, keys from env.php (SPEC 5, crypto.py). */
    class Encryptor implements EncryptorInterface
    {
        private function keys(): array
        {
            $keys = (string)ObjectManager::getInstance()->get(DeploymentConfig::class)->get('crypt/key');
            $out = [];
            foreach (preg_split('/\s+/', trim($keys)) as $key) {
                if ($key !== '') {
                    $out[] = strpos($key, 'base64') === 0 ? (string)base64_decode(substr($key, 6)) : $key;
                }
            }
            return $out;
        }

        public function encrypt($data)
        {
            $keys = $this->keys();
            $nonce = random_bytes(SODIUM_CRYPTO_AEAD_CHACHA20POLY1305_IETF_NPUBBYTES);
            $sealed = sodium_crypto_aead_chacha20poly1305_ietf_encrypt((string)$data, $nonce, $nonce, end($keys));
            return (count($keys) - 1) . ':3:' . base64_encode($nonce . $sealed);
        }

        /** '' when it cannot be decrypted (unknown key, bad tag, legacy cipher), like Magento. */
        public function decrypt($data)
        {
            if ($data === null || $data === '') {
                return '';
            }
            $parts = explode(':', (string)$data, 4);
            if (count($parts) === 3) {
                list($keyIndex, $cipher, $payload) = $parts;
            } elseif (count($parts) === 2) {
                $keyIndex = '0';
                list($cipher, $payload) = $parts;
            } else {
                return '';
            }
            $keys = $this->keys();
            if (!preg_match('/^\s*\d+\s*$/', $keyIndex) || !preg_match('/^\s*\d+\s*$/', $cipher)
                || (int)$cipher !== 3 || (int)$keyIndex >= count($keys)) {
                return '';
            }
            $raw = base64_decode($payload);
            $nonce = substr((string)$raw, 0, SODIUM_CRYPTO_AEAD_CHACHA20POLY1305_IETF_NPUBBYTES);
            try {
                $plain = sodium_crypto_aead_chacha20poly1305_ietf_decrypt(
                    (string)substr((string)$raw, strlen($nonce)), $nonce, $nonce, $keys[(int)$keyIndex]
                );
            } catch (\SodiumException $e) {
                return '';
            }
            if ($plain === false || !preg_match('//u', $plain)) {
                return '';
            }
            return trim($plain);
        }
    }
}

namespace Magento\Framework\DB {

    /** The subset of Zend_Db_Select the bridge and the stand-ins build. */
    class Select
    {
        private $table;
        private $columns = '*';
        private $where = [];
        private $binds = [];
        private $order = [];
        private $limit;

        public function from($table, $columns = '*')
        {
            $this->table = $table;
            $this->columns = is_array($columns) ? implode(', ', $columns) : $columns;
            return $this;
        }

        public function where($condition, $value = null)
        {
            $this->where[] = $condition;
            if (strpos($condition, '?') !== false) {
                $this->binds[] = $value;
            }
            return $this;
        }

        public function order($spec)
        {
            $this->order[] = $spec;
            return $this;
        }

        public function limit($count)
        {
            $this->limit = (int)$count;
            return $this;
        }

        /** SQLite has no row locks: the adapter's transactions take the write lock (BEGIN IMMEDIATE) instead. */
        public function forUpdate($flag = true)
        {
            return $this;
        }

        public function getBinds(): array
        {
            return $this->binds;
        }

        public function __toString()
        {
            $sql = sprintf('SELECT %s FROM %s', $this->columns, $this->table);
            if ($this->where) {
                $sql .= ' WHERE (' . implode(') AND (', $this->where) . ')';
            }
            if ($this->order) {
                $sql .= ' ORDER BY ' . implode(', ', $this->order);
            }
            if ($this->limit !== null) {
                $sql .= ' LIMIT ' . $this->limit;
            }
            return $sql;
        }
    }
}

namespace Magento\Framework\DB\Adapter\Pdo {

    use Magento\Framework\DB\Select;
    use MagentoEmulator\Host;

    /**
     * The database connection over var/magento.sqlite (store.py connect): foreign keys on, 10 s busy timeout.
     * Transactions nest as in Magento's adapter; the outermost one is BEGIN IMMEDIATE, so that two processes
     * never interleave a read-check-write sequence (what SELECT ... FOR UPDATE gives on MySQL).
     */
    class Sqlite
    {
        private $path;
        private $pdo;
        private $level = 0;
        private $rolledBack = false;

        public function __construct(string $path)
        {
            $this->path = $path;
        }

        private function pdo(): \PDO
        {
            if ($this->pdo === null) {
                $down = Host::$faults['db_down'] ?? null;
                if ($down !== null) {
                    throw new \Zend_Db_Adapter_Exception((string)$down);
                }
                if (!is_file($this->path)) {
                    throw new \PDOException('SQLSTATE[HY000] [2002] No such file or directory');
                }
                $pdo = new \PDO('sqlite:' . $this->path, null, null, [\PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION,
                    \PDO::ATTR_TIMEOUT => 10, \PDO::ATTR_DEFAULT_FETCH_MODE => \PDO::FETCH_ASSOC]);
                $pdo->exec('PRAGMA foreign_keys = ON');
                $pdo->exec('PRAGMA busy_timeout = 10000');
                $this->pdo = $pdo;
            }
            return $this->pdo;
        }

        public function select(): Select
        {
            return new Select();
        }

        public function query($sql, array $bind = []): \PDOStatement
        {
            if ($sql instanceof Select) {
                $bind = $sql->getBinds();
            }
            $statement = $this->pdo()->prepare((string)$sql);
            $statement->execute(array_values($bind));
            return $statement;
        }

        public function fetchOne($sql, array $bind = [])
        {
            return $this->query($sql, $bind)->fetchColumn();
        }

        public function fetchRow($sql, array $bind = [])
        {
            return $this->query($sql, $bind)->fetch();
        }

        public function fetchAll($sql, array $bind = []): array
        {
            return $this->query($sql, $bind)->fetchAll();
        }

        public function insert($table, array $data): int
        {
            $columns = array_map(function ($c) {
                return '"' . $c . '"';
            }, array_keys($data));
            $sql = sprintf('INSERT INTO %s (%s) VALUES (%s)', $table, implode(', ', $columns),
                implode(', ', array_fill(0, count($data), '?')));
            return $this->query($sql, $data)->rowCount();
        }

        public function lastInsertId(): int
        {
            return (int)$this->pdo()->lastInsertId();
        }

        public function update($table, array $data, array $where): int
        {
            $set = [];
            foreach (array_keys($data) as $column) {
                $set[] = '"' . $column . '" = ?';
            }
            list($condition, $binds) = $this->whereOf($where);
            return $this->query(sprintf('UPDATE %s SET %s WHERE %s', $table, implode(', ', $set), $condition),
                array_merge(array_values($data), $binds))->rowCount();
        }

        public function delete($table, array $where): int
        {
            list($condition, $binds) = $this->whereOf($where);
            return $this->query(sprintf('DELETE FROM %s WHERE %s', $table, $condition), $binds)->rowCount();
        }

        /** [condition => value]: the value is bound to the condition's "?" (a condition without one takes none). */
        private function whereOf(array $where): array
        {
            $binds = [];
            foreach ($where as $condition => $value) {
                if (strpos($condition, '?') !== false) {
                    $binds[] = $value;
                }
            }
            return [implode(' AND ', array_keys($where)), $binds];
        }

        public function beginTransaction()
        {
            if ($this->level === 0) {
                $this->pdo()->exec('BEGIN IMMEDIATE');
                $this->rolledBack = false;
            }
            $this->level++;
            return $this;
        }

        public function commit()
        {
            if ($this->level === 1) {
                if ($this->rolledBack) {
                    $this->rollBack();
                    throw new \Exception('Rolled back transaction has not been completed correctly.');
                }
                $this->pdo()->exec('COMMIT');
            }
            $this->level = max(0, $this->level - 1);
            return $this;
        }

        public function rollBack()
        {
            if ($this->level === 1) {
                $this->pdo()->exec('ROLLBACK');
            } elseif ($this->level > 1) {
                $this->rolledBack = true;
            }
            $this->level = max(0, $this->level - 1);
            return $this;
        }

        /** Run $work in a transaction (rolled back on any exception). */
        public function transactional(callable $work)
        {
            $this->beginTransaction();
            try {
                $result = $work($this);
            } catch (\Throwable $e) {
                $this->rollBack();
                throw $e;
            }
            $this->commit();
            return $result;
        }
    }
}

namespace Magento\Framework\Model {

    use Magento\Framework\App\ObjectManager;

    /** A row of one table: load by id (or a column), save the columns that changed, delete. */
    abstract class AbstractModel extends \Magento\Framework\DataObject
    {
        /** @var string */
        protected $table;
        /** @var string */
        protected $idField;
        /** @var string[] writable columns */
        protected $columns = [];
        /** @var string[] columns where '' is stored as NULL (the resource layer's prepareColumnValue, SPEC 1) */
        protected $nullable = [];
        /** @var array|null the stored row as loaded or last saved */
        protected $stored;

        public static function db()
        {
            return ObjectManager::getInstance()->get(\Magento\Framework\App\ResourceConnection::class)->getConnection();
        }

        public function getId()
        {
            return $this->getData($this->idField);
        }

        public function load($value, $field = null)
        {
            $row = self::db()->fetchRow(sprintf('SELECT * FROM %s WHERE %s = ?', $this->table, $field ?: $this->idField), [$value]);
            return $this->fromRow($row ?: null);
        }

        /** Take a stored row (null: none) as this model's data. */
        public function fromRow($row)
        {
            $this->stored = $row;
            $this->_data = $row ? $this->decode($row) : [];
            return $this;
        }

        /** Stored row -> model data (decryption, for example). */
        protected function decode(array $row): array
        {
            return $row;
        }

        /** Model data -> the columns to store (encryption, for example). */
        protected function encode(array $data): array
        {
            $row = [];
            foreach ($this->columns as $column) {
                if (array_key_exists($column, $data)) {
                    $value = $data[$column];
                    $row[$column] = ($value === '' && in_array($column, $this->nullable, true)) ? null : $value;
                }
            }
            return $row;
        }

        public function save()
        {
            $db = self::db();
            $db->transactional(function ($db) {
                $row = $this->encode($this->_data);
                if ($this->stored !== null) {
                    $changed = [];
                    foreach ($row as $column => $value) {
                        $old = $this->stored[$column] ?? null;
                        if ($value === null ? $old !== null : ($old === null || (string)$old !== (string)$value)) {
                            $changed[$column] = $value;
                        }
                    }
                    if ($changed) {
                        $db->update($this->table, $changed, [$this->idField . ' = ?' => $this->getId()]);
                    }
                    $id = $this->getId();
                } else {
                    $db->insert($this->table, $row);
                    $id = $db->lastInsertId();
                }
                $this->load($id);
            });
            return $this;
        }

        public function delete()
        {
            self::db()->delete($this->table, [$this->idField . ' = ?' => $this->getId()]);
            return $this;
        }
    }

    abstract class AbstractCollection implements \IteratorAggregate
    {
        /** @var string model class */
        protected $model;
        protected $table;
        protected $filters = [];
        protected $order = [];

        public function addFieldToFilter($field, $value)
        {
            $this->filters[$field . ' = ?'] = $value;
            return $this;
        }

        public function setOrder($field, $direction = 'DESC')
        {
            $this->order[] = $field . ' ' . (strtoupper($direction) === 'ASC' ? 'ASC' : 'DESC');
            return $this;
        }

        protected function select(string $columns)
        {
            $select = AbstractModel::db()->select()->from($this->table, $columns);
            foreach ($this->filters as $condition => $value) {
                $select->where($condition, $value);
            }
            foreach ($this->order as $spec) {
                $select->order($spec);
            }
            return $select;
        }

        public function getItems(): array
        {
            $items = [];
            foreach (AbstractModel::db()->fetchAll($this->select('*')) as $row) {
                $model = new $this->model();
                $items[] = $model->fromRow($row);
            }
            return $items;
        }

        public function getFirstItem()
        {
            $items = $this->getItems();
            return $items ? $items[0] : new $this->model();
        }

        public function getSize(): int
        {
            return (int)AbstractModel::db()->fetchOne($this->select('COUNT(*)'));
        }

        #[\ReturnTypeWillChange]
        public function getIterator()
        {
            return new \ArrayIterator($this->getItems());
        }
    }
}

namespace Magento\Framework\App\Cache {

    use Magento\Framework\App\DeploymentConfig;
    use Magento\Framework\App\ObjectManager;
    use Magento\Framework\DataObject;
    use MagentoEmulator\Host;

    interface TypeListInterface
    {
    }

    interface StateInterface
    {
    }

    /** Cache types in cache-config order (data/cache-types.json); flags in var/cache/invalidated.json (cache.py). */
    class TypeList implements TypeListInterface
    {
        public function getTypes()
        {
            $state = ObjectManager::getInstance()->get(StateInterface::class);
            $types = [];
            foreach (Host::data('cache-types.json') as $type) {
                $types[$type['id']] = new DataObject(['id' => $type['id'], 'cache_type' => $type['label'],
                    'status' => (int)$state->isEnabled($type['id'])]);
            }
            return $types;
        }

        /** Flagged types that are declared and enabled. */
        public function getInvalidated()
        {
            $raw = json_decode((string)@file_get_contents(Host::path('var/cache/invalidated.json')), true);
            $raw = is_array($raw) ? $raw : [];
            $out = [];
            foreach ($this->getTypes() as $id => $type) {
                if (!empty($raw[$id]) && $type->getData('status')) {
                    $out[$id] = $type;
                }
            }
            return $out;
        }

        public static function removeTree(string $path)
        {
            if (is_dir($path) && !is_link($path)) {
                foreach (scandir($path) as $entry) {
                    if ($entry !== '.' && $entry !== '..') {
                        self::removeTree($path . '/' . $entry);
                    }
                }
                @rmdir($path);
            } elseif (file_exists($path) || is_link($path)) {
                @unlink($path);
            }
        }
    }

    /** Enabled flags: cache_types of env.php (a type missing there counts as disabled). */
    class State implements StateInterface
    {
        public function isEnabled($cacheType)
        {
            $flags = ObjectManager::getInstance()->get(DeploymentConfig::class)->get('cache_types');
            return is_array($flags) && !empty($flags[$cacheType]);
        }
    }
}

namespace Magento\Framework\Acl\AclResource {

    use MagentoEmulator\Host;

    interface ProviderInterface
    {
    }

    /** The ACL tree (data/acl-resources.json, flat in tree order) as nested id/title/children nodes. */
    class Provider implements ProviderInterface
    {
        public function getAclResources()
        {
            $nodes = [];
            $roots = [];
            foreach (Host::data('acl-resources.json') as $entry) {
                $nodes[$entry['id']] = ['id' => $entry['id'], 'title' => $entry['title'], 'children' => []];
            }
            // Children in file order: attach deepest-first by walking the list backwards, then reverse.
            foreach (array_reverse(Host::data('acl-resources.json')) as $entry) {
                if ($entry['parent'] === null) {
                    array_unshift($roots, $entry['id']);
                } else {
                    array_unshift($nodes[$entry['parent']]['children'], $entry['id']);
                }
            }
            $build = function ($id) use (&$build, $nodes) {
                $node = $nodes[$id];
                $node['children'] = array_map($build, $node['children']);
                return $node;
            };
            return array_map($build, $roots);
        }
    }
}
