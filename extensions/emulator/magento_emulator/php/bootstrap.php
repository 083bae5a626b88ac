<?php
/**
 * magento-emulator: the PHP side of an emulated Magento root (extensions/emulator/DESIGN.md, "The real
 * bridge"). The root's app/bootstrap.php defines BP and requires this file; the shipped bridge then calls
 * Bootstrap::create(BP, $_SERVER) and the services below as it calls Magento's.
 *
 * These are stand-ins, not Magento: just the classes and methods the bridge uses, over the emulator's
 * SQLite store (var/magento.sqlite) through PDO, with the semantics of the Python emulator (SPEC.md).
 * Requires PHP 7.4+ with pdo_sqlite and sodium.
 */

if (!defined('BP')) {
    define('BP', dirname(__DIR__));
}

require_once __DIR__ . '/Framework.php';
require_once __DIR__ . '/Integration.php';
require_once __DIR__ . '/Config.php';
