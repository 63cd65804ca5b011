"""Great Expectations gates: the suites live in ``expectations/``, results go under DATA_DIR.

Importing this package defers two of Great Expectations' start-up imports until first use:
``scipy.stats`` and ``altair``, which it imports at load time for expectations (KL divergence,
KS tests) and charts the gates never use. They are half of its import time, paid by the first
gate of every Airflow task process. A deferred module is a placeholder in ``sys.modules`` that
imports the real module on its first attribute access, so any code that does use it still gets
it whole.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types

DEFERRED_IMPORTS = ("scipy.stats", "altair")
_loading = threading.Lock()


class DeferredModule(types.ModuleType):
    """Stands in for a module not imported yet; imports it when an attribute is first read."""

    def __getattr__(self, attribute: str):
        with _loading:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
                try:
                    module = importlib.import_module(self.__name__)
                except BaseException:
                    sys.modules[self.__name__] = self
                    raise
                # Code that bound the placeholder (``from scipy import stats``) reads the real
                # module's names from here on.
                self.__dict__.update(module.__dict__)
            module = sys.modules[self.__name__]
        return getattr(module, attribute)


def defer_imports(names: tuple[str, ...] = DEFERRED_IMPORTS) -> list[str]:
    """Put a placeholder in ``sys.modules`` for each named module not imported yet (and
    installed); returns the names deferred."""
    deferred = []
    for name in names:
        if name in sys.modules:
            continue
        try:
            if importlib.util.find_spec(name) is None:
                continue
        except ImportError:
            continue
        sys.modules[name] = DeferredModule(name)
        deferred.append(name)
    return deferred


defer_imports()
