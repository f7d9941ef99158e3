"""Browser UI (Panel). The only package that imports panel, param or bokeh."""
