"""Command-line interface: thin argparse layer over the library.

Each command lives in its own module with ``add_parser(subparsers)`` and ``run(args)``;
:mod:`ssestudio.cli.main` holds the registry.
"""
