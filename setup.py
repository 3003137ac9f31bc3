"""Build the reader's C fast path; everything else is declared in pyproject.toml.

The extension is optional: without a C compiler the package installs all the same and
``read_tcpdump`` uses its pure-Python (pyarrow) path, with the same results.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "incidentkit.parse._fastscan",
            sources=["incidentkit/parse/_fastscan.c"],
            extra_compile_args=["-O3", "-std=c99", "-Wall", "-Wextra", "-Wno-unused-parameter"],
            optional=True,
        ),
        Extension(
            "incidentkit.parse._fastpcap",
            sources=["incidentkit/parse/_fastpcap.c"],
            extra_compile_args=["-O3", "-std=c99", "-Wall", "-Wextra", "-Wno-unused-parameter"],
            optional=True,
        ),
    ]
)
