"""Lines edited at random places, for tests that compare a compiled kernel with a plain reading of its rules."""

from __future__ import annotations

import random


def edited(line: str, rng: random.Random, salt: list[str], edits: int = 4) -> str:
    """`line` with up to `edits` edits, each at a random place: a piece of `salt` inserted (half the time), a few
    characters cut out, or the rest of the line cut off."""
    for _ in range(rng.randint(1, edits)):
        at = rng.randrange(len(line) + 1)
        choice = rng.random()
        if choice < 0.5:
            line = line[:at] + rng.choice(salt) + line[at:]
        elif choice < 0.8:
            line = line[:at] + line[at + rng.randint(1, 6):]
        else:
            line = line[:at]
    return line
