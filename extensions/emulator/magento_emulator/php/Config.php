<?php
/**
 * magento-emulator: stand-ins for Magento_Config (declared fields, their backend models and flags,
 * core_config_data rows, deployed-setting checks), with the semantics of config.py (SPEC 8). The declared
 * fields are data/config-paths.json, shared with the Python emulator. See bootstrap.php.
 */

namespace Magento\Config\Model\Config {

    use MagentoEmulator\Host;

    /** The merged system.xml structure, as far as the emulator declares it. */
    class Structure
    {
        /** [path => [path]] of every declared field. */
        public function getFieldPaths()
        {
            $out = [];
            foreach (array_keys(Host::data('config-paths.json')['fields']) as $path) {
                $out[$path] = [$path];
            }
            return $out;
        }

        public function getElementByConfigPath($path)
        {
            $flags = Host::data('config-paths.json')['fields'][$path] ?? null;
            if ($flags === null) {
                return null;
            }
            $source = $flags['source_model'] ?? null;
            return new Structure\Element\Field([
                'backend_model' => empty($flags['encrypted']) ? '' : Backend\Encrypted::class,
                'type' => $flags['type'] ?? 'text',
                'source_model' => $source,
                // What the source model's toOptionArray() gives (values as Magento's Yesno gives them: 1, 0).
                'options' => $source === null ? null : Host::data('config-paths.json')['source_models'][$source],
            ]);
        }
    }

    /** Fields declared sensitive or environment-specific (di.xml of their modules). */
    class TypePool
    {
        const TYPE_SENSITIVE = 'sensitive';
        const TYPE_ENVIRONMENT = 'environment';

        public function isPresent($path, $type)
        {
            $flags = Host::data('config-paths.json')['fields'][$path] ?? [];
            return !empty($flags[$type]);
        }
    }
}

namespace Magento\Config\Model\Config\Structure\Element {

    class Field
    {
        private $attributes;

        public function __construct(array $attributes = [])
        {
            $this->attributes = $attributes;
        }

        public function getAttribute($key)
        {
            return $this->attributes[$key] ?? null;
        }

        public function getType()
        {
            return $this->attributes['type'] ?? 'text';
        }

        /** A source model (or static options) fills the admin's drop-down. */
        public function hasOptions()
        {
            return isset($this->attributes['source_model']);
        }

        public function getOptions()
        {
            return $this->attributes['options'] ?? [];
        }
    }
}

namespace Magento\Config\Model\Config\Backend {

    /** The backend model of obscure fields: stored encrypted. */
    class Encrypted
    {
    }
}

namespace Magento\Config\Model\Config\Reader\Source\Deployed {

    class SettingChecker
    {
        /**
         * The CONFIG__<SCOPE>[__<CODE>]__<PATH> variable of PHP's $_ENV, or null. The stock CLI php.ini
         * (variables_order GPCS) leaves $_ENV empty, so this is null unless PHP runs with E in variables_order.
         */
        public function getPlaceholderValue($path, $scope, $scopeCode = null)
        {
            $name = 'CONFIG__' . strtoupper((string)$scope) . ($scopeCode ? '__' . strtoupper((string)$scopeCode) : '')
                . '__' . strtoupper(str_replace('/', '__', (string)$path));
            return isset($_ENV[$name]) ? $_ENV[$name] : null;
        }
    }
}

namespace Magento\Config\Model\ResourceModel\Config\Data {

    class Collection extends \Magento\Framework\Model\AbstractCollection
    {
        protected $model = \Magento\Framework\App\Config\Value::class;
        protected $table = 'core_config_data';
    }
}

namespace Magento\Framework\App\Config {

    class Value extends \Magento\Framework\Model\AbstractModel
    {
        protected $table = 'core_config_data';
        protected $idField = 'config_id';
        protected $columns = ['scope', 'scope_id', 'path', 'value'];
        protected $nullable = ['value'];
    }
}
