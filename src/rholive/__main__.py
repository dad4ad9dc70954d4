"""``python -m rholive``: the same command line as ``rholive``."""

from rholive.cli import app

app(prog_name="rholive")
