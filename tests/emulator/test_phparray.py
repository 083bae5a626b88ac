"""phparray: load/dump of the env.php/config.php subset, byte-exact round trips."""

import pytest

from magento_emulator import cache, cli, phparray


def test_env_php_round_trip_is_byte_exact():
    text = cli.env_php_text("base64abc'quote\\slash", 'Sat, 28 Nov 2026 17:00:00 +0000')
    data = phparray.load(text)
    assert data['crypt']['key'] == "base64abc'quote\\slash"
    assert data['cache']['allow_parallel_generation'] is False
    assert data['directories']['document_root_is_pub'] is True
    assert data['downloadable_domains'] == ['127.0.0.1']
    assert list(data['cache_types']) == list(cache.TYPE_IDS)
    assert phparray.dump(data) == text


def test_config_php_round_trip():
    text = cli.config_php_text()
    assert phparray.dump(phparray.load(text)) == text


def test_dump_format_as_magento_writes_it():
    data = {'system': {'default': {'oauth': {'consumer': {'enable_integration_as_bearer': '1'}}}},
            'n': 1, 'f': 1.5, 'b': True, 'z': None, 'list': ['a', "it's"]}
    assert phparray.dump(data) == (
        "<?php\nreturn [\n"
        "    'system' => [\n"
        "        'default' => [\n"
        "            'oauth' => [\n"
        "                'consumer' => [\n"
        "                    'enable_integration_as_bearer' => '1'\n"
        "                ]\n"
        "            ]\n"
        "        ]\n"
        "    ],\n"
        "    'n' => 1,\n"
        "    'f' => 1.5,\n"
        "    'b' => true,\n"
        "    'z' => null,\n"
        "    'list' => [\n"
        "        'a',\n"
        "        'it\\'s'\n"
        "    ]\n"
        "];\n")
    assert phparray.load(phparray.dump(data)) == data


def test_load_long_syntax_comments_and_double_quotes():
    text = ('<?php\n/* header */\n// line\n# hash\nreturn array(\n  "a" => array(1, -2, 2.5, NULL, TRUE, False),\n'
            '  5 => "x\\n\\ty\\\\\\"",\n  "7" => \'o\\\'k\\\\\\n\',\n);\n')
    data = phparray.load(text)
    assert data == {'a': [1, -2, 2.5, None, True, False], 5: 'x\n\ty\\"', 7: "o'k\\\\n"}


def test_nested_keys_and_explicit_indexes():
    data = phparray.load("<?php return ['x' => [0 => 'a', 1 => 'b'], 'e' => []];")
    assert data == {'x': {0: 'a', 1: 'b'}, 'e': []}
    assert "'x' => [\n        'a',\n        'b'\n    ]" in phparray.dump(data)


@pytest.mark.parametrize('text', ['<?php return [', "<?php return ['a' => foo()];", '<?php echo 1;',
                                  "<?php return ['a' 'b'];", "<?php return [1]; extra"])
def test_bad_input_raises(text):
    with pytest.raises(phparray.PhpArrayError):
        phparray.load(text)


def test_dump_file_is_atomic_and_keeps_mode(tmp_path):
    path = tmp_path / 'env.php'
    path.write_text('<?php\nreturn [\n    \'a\' => 1\n];\n')
    path.chmod(0o640)
    phparray.dump_file(str(path), {'a': 2})
    assert path.read_text() == "<?php\nreturn [\n    'a' => 2\n];\n"
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ['env.php']
