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


def command(module: str):
    """The console entry point that runs `module.main()` after a paused import, and returns what it returns (an
    exit status, where the command's main gives one)."""
    def run():
        return import_paused(module).main()

    run.__name__ = run.__qualname__ = module.rsplit(".", 1)[-1]
    return run


train = command("dlstudy.train")
evaluate = command("dlstudy.eval")
predict = command("dlstudy.predict")
summarize = command("dlstudy.summarize")
relu_prime = command("dlstudy.relu_prime")
relu_prime_report = command("dlstudy.studies.relu_prime")
