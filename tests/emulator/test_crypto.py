"""Magento's cipher 3 (ChaCha20-Poly1305 IETF) against RFC 8439's vectors and, if present, `cryptography`."""

import base64
import os

import pytest

from magento_emulator import crypto

SUNSCREEN = (b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
             b"the future, sunscreen would be it.")


def h(text):
    return bytes.fromhex(''.join(text.split()).replace(':', ''))


def test_chacha20_block_rfc8439_2_3_2():
    block = crypto.chacha20_block(bytes(range(32)), 1, h('000000090000004a00000000'))
    assert block == h("""10 f1 e7 e4 d1 3b 59 15 50 0f dd 1f a3 20 71 c4 c7 d1 f4 c7 33 c0 68 03
        04 22 aa 9a c3 d4 6c 4e d2 82 64 46 07 9f aa 09 14 c2 d7 05 d9 8b 02 a2 b5 12 9c d1 de 16
        4e b9 cb d0 83 e8 a2 50 3c 4e""")


def test_chacha20_encrypt_rfc8439_2_4_2():
    ct = crypto.chacha20_xor(bytes(range(32)), 1, h('000000000000004a00000000'), SUNSCREEN)
    assert ct == h("""6e 2e 35 9a 25 68 f9 80 41 ba 07 28 dd 0d 69 81 e9 7e 7a ec 1d 43 60 c2 0a 27
        af cc fd 9f ae 0b f9 1b 65 c5 52 47 33 ab 8f 59 3d ab cd 62 b3 57 16 39 d6 24 e6 51 52 ab
        8f 53 0c 35 9f 08 61 d8 07 ca 0d bf 50 0d 6a 61 56 a3 8e 08 8a 22 b6 5e 52 bc 51 4d 16 cc
        f8 06 81 8c e9 1a b7 79 37 36 5a f9 0b bf 74 a3 5b e6 b4 0b 8e ed f2 78 5e 42 87 4d""")


def test_poly1305_rfc8439_2_5_2():
    key = h('85:d6:be:78:57:55:6d:33:7f:44:52:fe:42:d5:06:a8:01:03:80:8a:fb:0d:b2:fd:4a:bf:f6:af:41:49:f5:1b')
    assert crypto.poly1305(key, b'Cryptographic Forum Research Group') == h(
        'a8:06:1d:c1:30:51:36:c6:c2:2b:8b:af:0c:01:27:a9')


def test_aead_rfc8439_2_8_2():
    key = bytes(range(0x80, 0xa0))
    nonce = h('07000000') + h('4041424344454647')
    aad = h('50515253c0c1c2c3c4c5c6c7')
    out = crypto.aead_encrypt(key, nonce, SUNSCREEN, aad)
    assert out[:-16] == h("""d3 1a 8d 34 64 8e 60 db 7b 86 af bc 53 ef 7e c2 a4 ad ed 51 29 6e 08 fe
        a9 e2 b5 a7 36 ee 62 d6 3d be a4 5e 8c a9 67 12 82 fa fb 69 da 92 72 8b 1a 71 de 0a 9e 06
        0b 29 05 d6 a5 b6 7e cd 3b 36 92 dd bd 7f 2d 77 8b 8c 98 03 ae e3 28 09 1b 58 fa b3 24 e4
        fa d6 75 94 55 85 80 8b 48 31 d7 bc 3f f4 de f0 8e 4b 7a 9d e5 76 d2 65 86 ce c6 4b 61 16""")
    assert out[-16:] == h('1a:e1:0b:59:4f:09:e2:6a:7e:90:2e:cb:d0:60:06:91')
    assert crypto.aead_decrypt(key, nonce, out, aad) == SUNSCREEN
    tampered = out[:-1] + bytes([out[-1] ^ 1])
    with pytest.raises(crypto.AuthenticationError):
        crypto.aead_decrypt(key, nonce, tampered, aad)


def test_cross_check_with_cryptography():
    aead = pytest.importorskip('cryptography.hazmat.primitives.ciphers.aead')
    for size in (0, 1, 15, 16, 17, 32, 63, 64, 65, 200):
        key, nonce, aad, msg = os.urandom(32), os.urandom(12), os.urandom(size % 13), os.urandom(size)
        ours = crypto.aead_encrypt(key, nonce, msg, aad)
        assert ours == aead.ChaCha20Poly1305(key).encrypt(nonce, msg, aad)
        assert crypto.aead_decrypt(key, nonce, ours, aad) == msg


def test_magento_format_roundtrip(emulator_root):
    secret = 'e5b99sdite68hoze5mqv5pb44f7o2g39'
    stored = crypto.encrypt(emulator_root, secret)
    assert stored.startswith('0:3:') and len(stored) == 84
    raw = base64.b64decode(stored[4:])
    assert len(raw) == 12 + 32 + 16
    assert crypto.decrypt(emulator_root, stored) == secret
    assert crypto.encrypt(emulator_root, secret) != stored  # fresh nonce every time
    # AD is the nonce: decrypting with the library and AD = nonce works
    aead = pytest.importorskip('cryptography.hazmat.primitives.ciphers.aead')
    key = crypto.keys(emulator_root)[-1]
    assert aead.ChaCha20Poly1305(key).decrypt(raw[:12], raw[12:], raw[:12]).decode() == secret


def test_decrypt_failures_return_empty(emulator_root):
    stored = crypto.encrypt(emulator_root, 'abc')
    broken = stored[:-4] + ('AAAA' if stored[-4:] != 'AAAA' else 'BBBB')
    assert crypto.decrypt(emulator_root, broken) == ''
    assert crypto.decrypt(emulator_root, '7:3:' + stored[4:]) == ''  # unknown key index
    assert crypto.decrypt(emulator_root, '') == ''


def test_key_decoding_and_twelve_char_value(emulator_root):
    key_string = crypto.read_key_string(emulator_root)
    assert key_string.startswith('base64') and len(key_string) == 50
    assert len(crypto.decode_key(key_string)) == 32
    assert crypto.decode_key('0123456789abcdef0123456789abcdef') == b'0123456789abcdef0123456789abcdef'
    assert len(crypto.encrypt(emulator_root, 'my-secret-id')) == 60  # SPEC §5: 12-char value → 60 chars
