<?php
/**
 * magento-emulator: records which lines of the bridge script this PHP process executed (pcov), for
 * scripts/test.sh's "PHP bridge: N of M lines executed". realphp.py prepends this file
 * (auto_prepend_file) when MAGENTO_EMULATOR_PHP_COVERAGE names a directory.
 *
 * The lines are written by a shutdown function (before the bridge's own, which may exit) and again by a
 * destructor, which runs after every shutdown function, also after an exit() in one of them.
 */

namespace MagentoEmulator;

final class BridgeCoverage
{
    private $directory;
    private $script;
    private $digest;
    private $file;

    public function __construct(string $directory, string $script)
    {
        $this->directory = $directory;
        $this->script = $script;
        $this->digest = (string)sha1_file($script);
        $this->file = sprintf('%s/bridge-%d-%s.json', $directory, getmypid(), bin2hex(random_bytes(4)));
        \pcov\start();
    }

    public function write()
    {
        $lines = \pcov\collect(\pcov\inclusive, [$this->script])[$this->script] ?? [];
        // line => 1 executed, -1 executable but not executed
        file_put_contents($this->file, json_encode(['sha1' => $this->digest, 'lines' => $lines]), LOCK_EX);
    }

    public function __destruct()
    {
        $this->write();
    }
}

$directory = getenv('MAGENTO_EMULATOR_PHP_COVERAGE');
$script = realpath($_SERVER['SCRIPT_FILENAME'] ?? '');
if ($directory && $script && function_exists('pcov\start')) {
    $GLOBALS['magento_emulator_coverage'] = new BridgeCoverage($directory, $script);
    register_shutdown_function([$GLOBALS['magento_emulator_coverage'], 'write']);
}
unset($directory, $script);
