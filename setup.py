"""Only the compiled core lives here; everything else is in pyproject.toml."""
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

# Each layer's compiled module lives in that layer's folder.
MODULES = ["axdr._axdr", "hdlc._hdlc", "security._gcm", "push._push"]

# _gcm finds libcrypto with dlopen/dl_iterate_phdr; before glibc 2.34 (manylinux2014)
# those live in libdl.
LIBRARIES = {"security._gcm": ["dl"] if sys.platform.startswith("linux") else []}

extensions = [
    Extension(
        f"dlmsfast.{name}",
        [f"src/dlmsfast/{name.replace('.', '/')}.pyx"],
        # a module's own C headers sit beside it (security/_openssl_shim.h)
        include_dirs=[f"src/dlmsfast/{name.rpartition('.')[0]}"],
        libraries=LIBRARIES.get(name, []),
    )
    for name in MODULES
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
