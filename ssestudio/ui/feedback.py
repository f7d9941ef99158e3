"""User feedback shared by the tabs: one alert pane, and errors turned into its message."""

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
