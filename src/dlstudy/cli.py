"""The console commands (dlstudy-train, ...): each imports its module with Python's cyclic garbage collector
paused, then freezes what the import made.

Importing torch and Lightning creates about a million objects that live as long as the process. While they are
being created, the collector runs again and again and rescans all of them: about a fifth of `import lightning`
on a small machine. At exit it scans them once more, which takes about a second after `import lightning`. Paused
during the import and frozen after it (`gc.freeze`: moved out of the collector's sight), they cost neither;
the collector runs as usual for everything a run creates afterwards. `python -m dlstudy.train` and in-process
calls of `main()` work as before, without this.
"""

import gc
import importlib


def import_paused(module: str):
    """Import `module` with the collector paused, then freeze every object alive (imports' objects are permanent)."""
    gc.disable()
    try:
        return importlib.import_module(module)
    finally:
        gc.freeze()
        gc.enable()


def _main(module: str):
    return import_paused(module).main()  # an exit status, where the command's main returns one


def train():
    return _main("dlstudy.train")


def evaluate():
    return _main("dlstudy.eval")


def predict():
    return _main("dlstudy.predict")


def summarize():
    return _main("dlstudy.summarize")


def relu_prime():
    return _main("dlstudy.relu_prime")


def relu_prime_report():
    return _main("dlstudy.studies.relu_prime")
