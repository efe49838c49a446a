"""Build a large result without the cyclic garbage collector walking it again and again.

Reading a file of 100,000 cases creates millions of small containers (the parsed JSON,
then the validated cases). None of them forms a reference cycle, but the collector does
not know that: each time the heap has grown by a quarter it walks all of it, which takes
longer than the parsing and validation together. ``deferred_collection`` switches
automatic collection off while a file is read and then moves what survived straight to
the oldest generation (``gc.freeze()`` + ``gc.unfreeze()``, no walk). Reference counting
frees everything as usual; a cycle made meanwhile is collected by the next full
collection instead of an earlier young one.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def deferred_collection() -> Iterator[None]:
    """No automatic cyclic collection inside the block (a no-op when already disabled)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:  # never unfreeze what the application froze
            gc.freeze()
            gc.unfreeze()
        gc.enable()
