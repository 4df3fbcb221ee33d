"""ssews through FFI with no compiler: Python's ctypes loads libssews.so and
runs a server and an SSE client against it, in pull mode (poll the event fd).

    SSEWS_LIB=build/capi/libssews.so python3 examples/ffi/ctypes_demo.py

Any runtime with a C FFI (cffi, LuaJIT, Go's cgo, ...) can do the same: the
header is plain C with opaque handles, int status codes and string options.
"""
import ctypes
import ctypes.util
import os
import select
import sys

lib = ctypes.CDLL(os.environ.get("SSEWS_LIB") or ctypes.util.find_library("ssews") or "libssews.so.0")

EV_OPEN, EV_MESSAGE, EV_CLOSE, EV_ERROR, EV_RECONNECTING = 1, 2, 3, 4, 5
P = ctypes.c_void_p
lib.ssews_open.argtypes = [ctypes.POINTER(P), ctypes.POINTER(ctypes.c_char_p), P, P]
lib.ssews_close.argtypes = [ctypes.POINTER(P)]
lib.ssews_port.argtypes = [P, ctypes.POINTER(ctypes.c_int)]
lib.ssews_event_fd.argtypes = [P, ctypes.POINTER(ctypes.c_int)]
lib.ssews_next_event.argtypes = [P, ctypes.POINTER(P)]
lib.ssews_publish.argtypes = [P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_char_p,
                              ctypes.c_char_p]
lib.ssews_event_kind.argtypes = [P]
lib.ssews_event_data.argtypes = [P, ctypes.POINTER(ctypes.c_size_t)]
lib.ssews_event_data.restype = P
lib.ssews_event_name.argtypes = [P]
lib.ssews_event_name.restype = ctypes.c_char_p
lib.ssews_event_id.argtypes = [P]
lib.ssews_event_id.restype = ctypes.c_char_p
lib.ssews_last_error.restype = ctypes.c_char_p
lib.ssews_version.restype = ctypes.c_char_p
lib.ssews_err_name.argtypes = [ctypes.c_int]
lib.ssews_err_name.restype = ctypes.c_char_p
lib.ssews_option_at.argtypes = [ctypes.c_int] + [ctypes.POINTER(ctypes.c_char_p)] * 5


def option_table():
    """(key, role, type, default) of every option, from the library itself (static strings)."""
    rows = []
    for i in range(lib.ssews_option_count()):
        fields = [ctypes.c_char_p() for _ in range(5)]  # key, role, type, default, doc
        if lib.ssews_option_at(i, *[ctypes.byref(f) for f in fields]) != 0:
            raise RuntimeError(lib.ssews_last_error().decode())
        rows.append(tuple(f.value.decode() for f in fields[:4]))
    return rows


def open_endpoint(**options):
    """Opens an endpoint in pull mode from keyword options (all values as strings)."""
    flat = [s.encode() for kv in options.items() for s in (kv[0], str(kv[1]))] + [None]
    arr = (ctypes.c_char_p * len(flat))(*flat)
    ep = P()
    rc = lib.ssews_open(ctypes.byref(ep), arr, None, None)
    if rc != 0:
        raise RuntimeError(f"{lib.ssews_err_name(rc).decode()}: {lib.ssews_last_error().decode()}")
    return ep


def next_event(ep, timeout=10.0):
    """Waits on the endpoint's event fd, then takes one event."""
    fd = ctypes.c_int()
    lib.ssews_event_fd(ep, ctypes.byref(fd))
    ev = P()
    while lib.ssews_next_event(ep, ctypes.byref(ev)) != 0:
        if not select.select([fd.value], [], [], timeout)[0]:
            raise TimeoutError("no event")
    return ev


def main():
    print("ssews", lib.ssews_version().decode())
    options = option_table()
    print(f"{len(options)} options, e.g.", ", ".join(f"{k} ({role}, {t}) = {d!r}" for k, role, t, d in options[:3]))
    assert ("history", "server", "integer", "0") in options
    try:
        open_endpoint(port=70000)
        raise AssertionError("port 70000 opened")
    except RuntimeError as err:
        assert str(err).startswith("SSEWS_EOPTION: option 'port'"), err
    server = open_endpoint(host="127.0.0.1", port=0, history=10)
    port = ctypes.c_int()
    lib.ssews_port(server, ctypes.byref(port))
    client = open_endpoint(url=f"http://127.0.0.1:{port.value}/?channel=news")

    while lib.ssews_event_kind(next_event(client)) != EV_OPEN:
        pass
    while lib.ssews_event_kind(next_event(server)) != EV_OPEN:  # the server saw it arrive
        pass
    text = "hello from ctypes".encode()
    if lib.ssews_publish(server, b"news", text, len(text), 0, b"greeting", None) != 0:
        raise RuntimeError(lib.ssews_last_error().decode())
    while True:
        ev = next_event(client)
        if lib.ssews_event_kind(ev) == EV_MESSAGE:
            n = ctypes.c_size_t()
            data = ctypes.string_at(lib.ssews_event_data(ev, ctypes.byref(n)), n.value).decode()
            print(f"{lib.ssews_event_name(ev).decode()} {lib.ssews_event_id(ev).decode()}: {data}")
            assert data == "hello from ctypes"
            break
    lib.ssews_close(ctypes.byref(client))
    lib.ssews_close(ctypes.byref(server))
    print("ok")


if __name__ == "__main__":
    sys.exit(main())
