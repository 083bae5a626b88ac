"""Magento's encryptor, cipher version 3 (SPEC §5): IETF ChaCha20-Poly1305 (RFC 8439), pure Python.

Stored form: ``<key_version>:3:`` + base64(12-byte nonce || ciphertext || 16-byte tag), the nonce
being also the associated data. Keys come from ``app/etc/env.php`` ``crypt/key`` (whitespace
separated, the last one is current; a ``base64`` prefix means the rest is base64 of 32 bytes).
"""

import base64
import hmac
import os
import re
import struct

CIPHER_CHACHA20_POLY1305 = 3

_MASK32 = 0xffffffff


# --- ChaCha20 (RFC 8439 §2.3-2.4) ----------------------------------------------------------

def _rotl(v, c):
    return ((v << c) & _MASK32) | (v >> (32 - c))


def _quarter(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & _MASK32
    s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & _MASK32
    s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & _MASK32
    s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & _MASK32
    s[b] = _rotl(s[b] ^ s[c], 7)


def chacha20_block(key, counter, nonce):
    """One 64-byte ChaCha20 block for a 32-byte key, 32-bit counter and 12-byte nonce."""
    if len(key) != 32 or len(nonce) != 12:
        raise ValueError('ChaCha20 needs a 32-byte key and a 12-byte nonce')
    state = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]
    state += list(struct.unpack('<8L', key))
    state.append(counter & _MASK32)
    state += list(struct.unpack('<3L', nonce))
    working = list(state)
    for dummy in range(10):
        _quarter(working, 0, 4, 8, 12)
        _quarter(working, 1, 5, 9, 13)
        _quarter(working, 2, 6, 10, 14)
        _quarter(working, 3, 7, 11, 15)
        _quarter(working, 0, 5, 10, 15)
        _quarter(working, 1, 6, 11, 12)
        _quarter(working, 2, 7, 8, 13)
        _quarter(working, 3, 4, 9, 14)
    return struct.pack('<16L', *[(working[i] + state[i]) & _MASK32 for i in range(16)])


def chacha20_xor(key, counter, nonce, data):
    """ChaCha20 encryption (= decryption) of ``data`` starting at block ``counter``."""
    out = bytearray()
    for offset in range(0, len(data), 64):
        block = chacha20_block(key, counter + offset // 64, nonce)
        chunk = data[offset:offset + 64]
        out += bytes(x ^ y for x, y in zip(chunk, block))
    return bytes(out)


# --- Poly1305 (RFC 8439 §2.5) -------------------------------------------------------------

_P1305 = (1 << 130) - 5


def poly1305(key, message):
    """The 16-byte Poly1305 tag of ``message`` under a 32-byte one-time key."""
    if len(key) != 32:
        raise ValueError('Poly1305 needs a 32-byte key')
    r = int.from_bytes(key[:16], 'little') & 0x0ffffffc0ffffffc0ffffffc0fffffff
    s = int.from_bytes(key[16:], 'little')
    acc = 0
    for offset in range(0, len(message), 16):
        chunk = message[offset:offset + 16] + b'\x01'
        acc = ((acc + int.from_bytes(chunk, 'little')) * r) % _P1305
    acc = (acc + s) & ((1 << 128) - 1)
    return acc.to_bytes(16, 'little')


# --- AEAD (RFC 8439 §2.8) -----------------------------------------------------------------

def _pad16(data):
    return b'\x00' * ((16 - len(data) % 16) % 16)


def _mac_data(aad, ciphertext):
    return (aad + _pad16(aad) + ciphertext + _pad16(ciphertext)
            + struct.pack('<Q', len(aad)) + struct.pack('<Q', len(ciphertext)))


def aead_encrypt(key, nonce, plaintext, aad=b''):
    """ChaCha20-Poly1305 IETF: returns ciphertext || 16-byte tag."""
    otk = chacha20_block(key, 0, nonce)[:32]
    ciphertext = chacha20_xor(key, 1, nonce, plaintext)
    return ciphertext + poly1305(otk, _mac_data(aad, ciphertext))


class AuthenticationError(ValueError):
    pass


def aead_decrypt(key, nonce, data, aad=b''):
    """Inverse of ``aead_encrypt``; raises AuthenticationError on a bad tag."""
    if len(data) < 16:
        raise AuthenticationError('ciphertext too short')
    ciphertext, tag = data[:-16], data[-16:]
    otk = chacha20_block(key, 0, nonce)[:32]
    if not hmac.compare_digest(poly1305(otk, _mac_data(aad, ciphertext)), tag):
        raise AuthenticationError('message authentication failed')
    return chacha20_xor(key, 1, nonce, ciphertext)


# --- Magento's key handling and stored format ----------------------------------------------

_KEY_RE = re.compile(r"""['"]crypt['"]\s*=>\s*(?:\[|array\s*\()\s*['"]key['"]\s*=>\s*(['"])(.*?)\1""", re.S)


def env_php_path(root):
    return os.path.join(str(root), 'app', 'etc', 'env.php')


def read_key_string(root):
    """The raw ``crypt/key`` string of env.php (possibly several keys separated by whitespace)."""
    with open(env_php_path(root), encoding='utf-8') as handle:
        text = handle.read()
    try:
        from magento_emulator import phparray  # the config engineer's parser
        data = phparray.load(text)
        key = data['crypt']['key']
        if isinstance(key, str):
            return key
    except Exception:  # parser missing or file unusual: fall back to a regex
        pass
    match = _KEY_RE.search(text)
    if not match:
        raise ValueError('No crypt/key in app/etc/env.php')
    return match.group(2).replace("\\'", "'")


def decode_key(key):
    """Key material for one env.php key: ``base64…`` → decoded bytes, else the string itself."""
    key = key.strip()
    if key.startswith('base64'):
        return base64.b64decode(key[len('base64'):])
    return key.encode('utf-8')


def keys(root):
    """All decoded keys of env.php, oldest first (the index is the stored key version)."""
    return [decode_key(k) for k in read_key_string(root).split()]


def generate_key_string():
    """A new env.php key the way 2.4.7 installs write one: ``base64`` + base64 of 32 random bytes."""
    return 'base64' + base64.b64encode(os.urandom(32)).decode('ascii')


def encrypt_with_key(key, plaintext, key_version=0):
    if isinstance(plaintext, str):
        plaintext = plaintext.encode('utf-8')
    nonce = os.urandom(12)
    payload = nonce + aead_encrypt(key, nonce, plaintext, nonce)
    return '%d:%d:%s' % (key_version, CIPHER_CHACHA20_POLY1305, base64.b64encode(payload).decode('ascii'))


def decrypt_with_keys(key_list, stored):
    """Decrypt a stored value; '' when it cannot be (unknown key, bad tag), like Magento."""
    if stored is None or stored == '':
        return ''
    parts = str(stored).split(':', 3)
    if len(parts) == 3:
        key_index, cipher, data = parts
    elif len(parts) == 2:
        key_index, (cipher, data) = '0', parts
    else:
        return ''  # legacy Blowfish/Rijndael forms are not emulated
    try:
        key_index, cipher = int(key_index), int(cipher)
    except ValueError:
        return ''
    if cipher != CIPHER_CHACHA20_POLY1305 or not 0 <= key_index < len(key_list):
        return ''
    try:
        raw = base64.b64decode(data, validate=False)
        nonce, body = raw[:12], raw[12:]
        return aead_decrypt(key_list[key_index], nonce, body, nonce).decode('utf-8').strip()
    except (ValueError, UnicodeDecodeError):
        return ''


def encrypt(root, plaintext):
    """Encrypt with the newest key of ``<root>/app/etc/env.php``: ``<n>:3:<base64>``."""
    key_list = keys(root)
    return encrypt_with_key(key_list[-1], plaintext, len(key_list) - 1)


def decrypt(root, stored):
    """Decrypt a value written by ``encrypt`` (or Magento); '' when it cannot be decrypted."""
    return decrypt_with_keys(keys(root), stored)


def is_encrypted(value):
    return isinstance(value, str) and re.match(r'^\d+:3:', value) is not None
