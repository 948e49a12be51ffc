"""Only the compiled core lives here; everything else is in pyproject.toml."""
from Cython.Build import cythonize
from setuptools import Extension, setup

MODULES = ["_axdr", "_hdlc", "_gcm"]

extensions = [
    Extension(f"dlmsfast.{name}", [f"src/dlmsfast/{name}.pyx"]) for name in MODULES
]

setup(
    ext_modules=cythonize(
        extensions,
        language_level=3,
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "embedsignature": True,
        },
    )
)
