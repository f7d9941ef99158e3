"""Energy/force calculators by name: ``get_calculator("emt")``, ``get_calculator("sevenn")``.

Built-ins (:mod:`ssestudio.calculators.builtin`): ``emt`` and ``lj`` (ASE), ``sevenn``
(SevenNet-0) and ``chgnet`` (CHGNet 0.3.0), the last two optional. Any other ASE
calculator is reached as ``"module.path:ClassName"`` with its keyword arguments, and
new names are added with :func:`register_calculator`.

Example::

    calc = get_calculator("lj", sigma=2.3, epsilon=0.4)
    [c.name for c in available_calculators(installed_only=True)]
"""

from ssestudio.calculators.registry import (CalculatorEntry, CalculatorInfo,
                                            CalculatorUnavailableError, available_calculators,
                                            check_calculator, clear_calculator_cache,
                                            get_calculator, register_calculator)

__all__ = [
    "CalculatorEntry", "CalculatorInfo", "CalculatorUnavailableError", "available_calculators",
    "check_calculator", "clear_calculator_cache", "get_calculator", "register_calculator",
]
