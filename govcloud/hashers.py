"""Password hashing: Argon2id at OWASP's parameters (Password Storage Cheat Sheet: m = 19 MiB,
t = 2, p = 1).

Django's default PBKDF2 (1,000,000 iterations of SHA-256) costs ~0.5 s of one core per login;
on the bureau's 2-core server a burst of 50 logins at the start of a working day queued for
15 s. Argon2id's cost is memory, not time: ~20 ms of CPU here for a hash that is as expensive to
attack on GPUs (``benchmarks/login_burst.py`` measures both). Existing PBKDF2 hashes keep
working and are rehashed to Argon2id at their user's next login (Django's ``must_update``).
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id with m = 19 MiB, t = 2, p = 1 (the hash string records them)."""

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
