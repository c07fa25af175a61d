# Only for `scrapyd-deploy`, which builds its egg with `python setup.py bdist_egg`
# (without this file it writes its own, packaging tests/ and bench/ too).
# Everything else about the package is in pyproject.toml.
from setuptools import setup

setup()
