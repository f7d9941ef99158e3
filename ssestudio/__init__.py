"""SSE Studio: ML force-field modelling of solid-state electrolytes.

Nothing heavy happens at import time; subpackages are imported on use.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
