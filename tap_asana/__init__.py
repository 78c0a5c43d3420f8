"""tap-asana: a Singer tap for Asana. The command line is cli.py; ARCHITECTURE.md maps the rest."""
from tap_asana.cli import main
from tap_asana.version import __version__

__all__ = ["main", "__version__"]
