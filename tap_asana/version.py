"""The version of tap-asana: read by the CLI, `--about` and setup.py."""
__version__ = "0.1.0"
