from setuptools import find_packages, setup

setup(
    name="tap-asana",
    version="0.1.0",
    description="Singer tap for Asana, with a local fake Asana API for tests and demos",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.9",
    packages=find_packages(include=["tap_asana", "tap_asana.*", "fake_asana", "fake_asana.*"]),
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
