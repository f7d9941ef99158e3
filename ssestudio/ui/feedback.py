"""Shared by the tabs: one alert pane and errors turned into its message; periodic refresh."""

from __future__ import annotations

from ssestudio.core.errors import SSEStudioError


class AlertFeedback:
    """Mixin for views with an ``self._alert`` (a ``pn.pane.Alert``)."""

    def _show(self, text: str, kind: str = "info") -> None:
        """Show ``text`` in the alert (hidden when empty); ``kind`` is the alert type."""
        self._alert.object, self._alert.alert_type, self._alert.visible = text, kind, bool(text)

    def _guard(self, fn, *args, **kw):
        """Call ``fn``; a user error or OS error becomes a red alert and returns None."""
        try:
            return fn(*args, **kw)
        except (SSEStudioError, OSError) as exc:
            self._show(str(exc), "danger")
            return None


class Polling:
    """Mixin for views refreshed every ``self._refresh_s`` seconds by their own
    ``self._tick()`` method (which the view defines)."""

    _refresh_s: float = 2.0
    _callback = None

    def start_polling(self) -> None:
        """Refresh every ``_refresh_s`` seconds while the page is open (idempotent)."""
        import panel as pn

        if self._callback is None and pn.state.curdoc is not None:
            self._callback = pn.state.add_periodic_callback(
                self._tick, period=int(1000 * self._refresh_s))


def ticked_ids(rows: list[dict], indices, selected: list[int]) -> list[int] | None:
    """The ids of the ticked table rows (``indices``), newly ticked ones last (the last
    one is shown); None when the ticks did not change ``selected``."""
    chosen = [rows[i]["id"] for i in indices if i < len(rows)]
    if sorted(chosen) == sorted(selected):
        return None
    return [i for i in chosen if i in selected] + [i for i in chosen if i not in selected]
