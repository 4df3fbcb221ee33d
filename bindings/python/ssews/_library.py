"""Where the C library installed with this package is, for ctypes/cffi users."""
import pathlib

_ABI_MAJOR = 0  # the SONAME's number (SSEWS_ABI_VERSION in CMakeLists.txt)


def library_path() -> str:
    """The absolute path of ``libssews.so.0``, the C library (``ssews.h``'s ABI)
    that this package installed beside its extension module.

    Load it with ``ctypes.CDLL(ssews.library_path())`` (or cffi's ``dlopen``);
    its own dependencies resolve through its RPATH: in a wheel repaired by
    auditwheel they are the copies in ``ssews.libs/`` (libwebsockets, OpenSSL),
    so the system needs none of them. Raises FileNotFoundError when the
    package was installed without it (a build that left it out).
    """
    path = pathlib.Path(__file__).resolve().parent / f"libssews.so.{_ABI_MAJOR}"
    if not path.is_file():
        raise FileNotFoundError(f"ssews: {path} is missing from the installed package")
    return str(path)
