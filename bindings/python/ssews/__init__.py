"""ssews — Server-Sent Events and WebSocket, server and client.

A thin binding of the ssews C library (libwebsockets underneath): one
:class:`Server` serves WebSocket and SSE on one port, with channels that
reach subscribers of both protocols and history for resume; a
:class:`Client` connects to a ``ws://`` or ``http://`` (SSE) URL and
reconnects by itself.

Events (:class:`Event`) arrive through callbacks (``on_event=`` or
``@endpoint.on("message")``, run on the endpoint's own thread) or through
``async for ev in endpoint`` on an asyncio loop. ``str`` is text, ``bytes``
binary, both ways. Failures raise :class:`Error`, whose ``code`` is an
:class:`ErrorCode` and whose message names what was wrong.

    import asyncio, ssews

    async def main():
        async with ssews.Server(history=100) as server, \\
                   ssews.Client(server.url + "/news") as reader:    # SSE
            async for ev in server:
                if ev.kind == "open":                             # the reader arrived
                    server.publish("news", "hello", event="greeting")
                    break
            async for ev in reader:
                if ev.kind == "message":
                    print(ev.event, ev.data)                      # greeting hello
                    break

    asyncio.run(main())
"""
import atexit as _atexit

from . import _core
from ._endpoint import Client, Endpoint, Server
from ._errors import Error, ErrorCode
from ._event import KINDS, Event
from ._library import library_path

__all__ = ["Server", "Client", "Endpoint", "Event", "Error", "ErrorCode", "KINDS", "__version__", "library_version",
           "library_path"]

#: The package version: CMake's project(VERSION), compiled into _core.
__version__: str = _core.BINDING_VERSION

# Shown as ssews.X (in help(), reprs and tracebacks) rather than ssews._module.X.
for _cls in (Server, Client, Endpoint, Event, Error, ErrorCode):
    _cls.__module__ = __name__
del _cls

#: Version of the C library compiled into this module ("MAJOR.MINOR.PATCH").
library_version: str = _core.version()

# Close every endpoint still open before the interpreter finalizes, so no
# service thread calls into Python during or after finalization.
_atexit.register(_core._shutdown)
