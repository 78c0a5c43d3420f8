import re

from setuptools import find_packages, setup

VERSION = re.search(r'__version__ = "([^"]+)"', open("tap_asana/version.py", encoding="utf-8").read()).group(1)

setup(
    name="tap-asana",
    version=VERSION,
    description="Singer tap for Asana",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.9",
    # Only the tap. The fake Asana (fake_asana/) stays in the checkout, for the tests, the demo and
    # the benchmark, which find it there (the Makefile puts the checkout on PYTHONPATH): installed,
    # a top-level package of that name could collide in a production environment.
    packages=find_packages(include=["tap_asana", "tap_asana.*"]),
    package_data={"tap_asana": ["schemas/*.json", "schemas/shared/*.json", "contract.json"]},
    install_requires=[
        "singer-python>=6.0,<7",
        "requests>=2.28,<3",
        "backoff>=2.2,<3",
    ],
    extras_require={
        "test": [
            "pytest>=7,<10",
            "pytest-xdist>=3,<4",  # the end-to-end tests mostly wait on subprocesses: run them side by side
            "responses>=0.23,<1",
            "jsonschema>=2.6,<5",  # the end-to-end tests validate records against their SCHEMA
        ],
    },
    entry_points={"console_scripts": ["tap-asana=tap_asana:main"]},
)
