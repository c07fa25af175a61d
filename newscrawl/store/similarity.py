"""Near-identical bodies: MinHash signatures (datasketch) and LSH bands kept in the database.

Two bodies whose word 3-gram sets have a Jaccard similarity of at least
``THRESHOLD`` are the same story (a republication with a retouched
sentence). Each stored article keeps its signature and ``BANDS`` band
hashes; a new body is compared only with the articles sharing a band: one
indexed query, never a scan of the store.
"""

from __future__ import annotations

import hashlib
import zlib
from functools import lru_cache

from newscrawl.store.keys import body_words

NUM_PERM = 64
BANDS, ROWS = 16, 4  # 16 bands of 4: J=0.8 is a candidate with p≈0.9998, J=0.3 with p≈0.12
THRESHOLD = 0.8
MIN_SHINGLES = 12  # shorter bodies are left to the exact body hash



@lru_cache(maxsize=1)
def _seed_minhash():
    from datasketch import MinHash  # imported on first use: numpy/scipy are slow to import

    return MinHash(num_perm=NUM_PERM, seed=1, hashfunc=zlib.crc32)


def signature(body: str | list[str] | None):
    """The MinHash signature of a body, or of its words (``keys.body_words``): ``NUM_PERM`` uint32, or ``None``
    if it is too short. (``StoryKeys.signature`` computes it once per article.)"""
    if not body:
        return None
    words = body_words(body) if isinstance(body, str) else body
    shingles = {f"{a} {b} {c}".encode("utf-8") for a, b, c in zip(words, words[1:], words[2:])}
    if len(shingles) < MIN_SHINGLES:
        return None
    from datasketch import MinHash

    seed = _seed_minhash()
    # zlib.crc32, a C function, hashes each shingle ~5x faster than datasketch's default sha1 wrapper.
    minhash = MinHash(num_perm=NUM_PERM, seed=1, permutations=seed.permutations, scheme=seed.scheme,
                      hashfunc=zlib.crc32)
    minhash.update_batch(list(shingles))
    return minhash.hashvalues.astype("uint32")


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
