"""Sample keys -> random generators: the one place every random draw is derived from.

A work unit (a search block, an instance, a scene, an image) is named by a *kind* and
integer indices. Its generator depends only on the user's seed and that key, never on the
worker, the worker count or the order of completion, so any unit can be rebuilt alone.

>>> a = generator(0, "instance", 3, 7).random()
>>> b = generator(0, "instance", 3, 7).random()
>>> a == b
True
"""

from __future__ import annotations

import zlib

import numpy as np

MAX_SEED = 2**63 - 1


def check_seed(seed: int) -> int:
    """Return ``seed`` as an int, or raise ValueError unless 0 <= seed < 2**63."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    if not 0 <= int(seed) <= MAX_SEED:
        raise ValueError(f"seed must be in [0, 2**63 - 1], got {seed}")
    return int(seed)


def kind_code(kind: str) -> int:
    """Stable 32-bit code of a key kind (CRC-32 of its name, same in every process)."""
    return zlib.crc32(kind.encode("utf-8"))


def seed_sequence(seed: int, kind: str, *index: int) -> np.random.SeedSequence:
    """numpy SeedSequence for the key ``(kind, *index)`` under the user's ``seed``."""
    return np.random.SeedSequence(check_seed(seed), spawn_key=(kind_code(kind), *(int(i) for i in index)))


def bit_generator(seed: int, kind: str, *index: int) -> np.random.PCG64:
    """PCG64 bit generator for a key (use ``.advance(n)`` to jump within its stream)."""
    return np.random.PCG64(seed_sequence(seed, kind, *index))


def generator(seed: int, kind: str, *index: int) -> np.random.Generator:
    """numpy Generator for a key; pass it to kernels, never use global random state."""
    return np.random.Generator(bit_generator(seed, kind, *index))


def derive_seed(seed: int, kind: str, *index: int) -> int:
    """A 63-bit integer seed for a key (for libraries that want an int)."""
    return int(seed_sequence(seed, kind, *index).generate_state(1, np.uint64)[0] >> np.uint64(1))
