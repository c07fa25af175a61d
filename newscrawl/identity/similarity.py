"""Near-identical bodies: MinHash signatures and LSH bands kept in the database.

Two bodies whose word 3-gram sets have a Jaccard similarity of at least
``THRESHOLD`` are the same story (a republication with a retouched
sentence). Each stored article keeps its signature and ``BANDS`` band
hashes; a new body is compared only with the articles sharing a band: one
indexed query, never a scan of the store.

The signature is datasketch's MinHash, scheme "affine32", seed 1, crc32 of
each shingle (``tests/test_keys.py`` checks them equal, bit for bit), computed
here with numpy: the signatures stored by every run must stay comparable for
years, so they follow this module, not a library's defaults (datasketch 2.0
changed its scheme), and importing datasketch (scipy, aiohttp: 0.66 s) would
cost a crawl process more than all of its signatures.
"""

from __future__ import annotations

import hashlib
import zlib
from functools import lru_cache

from newscrawl.identity.keys import body_words

NUM_PERM = 64
BANDS, ROWS = 16, 4  # 16 bands of 4: J=0.8 is a candidate with p≈0.9998, J=0.3 with p≈0.12
THRESHOLD = 0.8
MIN_SHINGLES = 12  # shorter bodies are left to the exact body hash



@lru_cache(maxsize=1)
def _permutations():
    """The ``a`` (odd) and ``b`` of ``h -> a*h + b mod 2^32``, drawn as datasketch draws them for seed 1."""
    import numpy as np  # on first use: numpy is slow to import

    generator = np.random.RandomState(1)  # the legacy generator: its sequence is frozen by numpy
    a = generator.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def _mix(hashes):
    """MurmurHash3's 32-bit finalizer (a bijection that spreads crc32's structure), on a uint32 array."""
    import numpy as np

    hashes = hashes ^ (hashes >> np.uint32(16))
    hashes = hashes * np.uint32(0x85EBCA6B)
    hashes = hashes ^ (hashes >> np.uint32(13))
    hashes = hashes * np.uint32(0xC2B2AE35)
    return hashes ^ (hashes >> np.uint32(16))


def signature(body: str | list[str] | None):
    """The MinHash signature of a body, or of its words (``keys.body_words``): ``NUM_PERM`` uint32, or ``None``
    if it is too short. (``StoryKeys.signature`` computes it once per article.)"""
    if not body:
        return None
    words = body_words(body) if isinstance(body, str) else body
    # The shingle "a b c" in UTF-8, each word encoded once (a third cheaper than encoding every shingle).
    encoded = [word.encode("utf-8") for word in words]
    shingles = set(map(b" ".join, zip(encoded, encoded[1:], encoded[2:])))
    if len(shingles) < MIN_SHINGLES:
        return None
    import numpy as np

    a, b = _permutations()
    # zlib.crc32, a C function, hashes each shingle ~5x faster than a sha1 wrapper.
    hashes = _mix(np.fromiter(map(zlib.crc32, shingles), dtype=np.uint32, count=len(shingles)))
    # One row per permutation, its minimum taken along the row (contiguous: twice as fast as the transpose).
    # uint32 arithmetic wraps: the "mod 2^32".
    permuted = np.multiply.outer(a, hashes)
    permuted += b[:, None]
    return permuted.min(axis=1)


def to_bytes(sig) -> bytes:
    return sig.astype("<u4").tobytes()


def from_bytes(data: bytes):
    import numpy as np

    return np.frombuffer(data, dtype="<u4")


def bands(sig) -> list[int]:
    """One signed 63-bit hash per band, for an indexed BIGINT column."""
    out = []
    for band in range(BANDS):
        chunk = to_bytes(sig[band * ROWS : (band + 1) * ROWS])
        digest = hashlib.blake2b(bytes([band]) + chunk, digest_size=8).digest()
        out.append(int.from_bytes(digest, "big", signed=True) >> 1)
    return out


def similarity(a, b) -> float:
    """Estimated Jaccard similarity of the shingle sets behind two signatures."""
    return float((a == b).sum()) / len(a)
