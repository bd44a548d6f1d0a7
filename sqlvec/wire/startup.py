"""The startup phase: encryption and cancel requests, then the StartupMessage."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlvec.errors import ProtocolViolation
from sqlvec.wire.buffer import WriteBuffer, read_startup_packet
from sqlvec.wire.messages import (
    PROTOCOL_MAJOR,
    PROTOCOL_MINOR,
    PROTOCOL_OPTION_PREFIX,
    CancelRequest,
    GSSENCRequest,
    SSLRequest,
    StartupMessage,
    decode_startup_packet,
    write_negotiate_protocol_version,
)

CancelCallback = Callable[[int, int], None]  # (process id, secret key) from BackendKeyData

_ENCRYPTION_REFUSED = b"N"


async def receive_startup_message(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    cancel_callback: CancelCallback | None,
) -> StartupMessage | None:
    """Read packets until the StartupMessage; None when the connection is to be closed.

    Encryption requests are refused with 'N' and the client continues in the clear on the
    same socket (it may ask for GSS, then SSL). A CancelRequest comes on a connection of its
    own, is passed on, and gets no reply.
    """
    while (body := await read_startup_packet(reader)) is not None:
        packet = decode_startup_packet(body)
        if isinstance(packet, SSLRequest | GSSENCRequest):
            writer.write(_ENCRYPTION_REFUSED)
            await writer.drain()
        elif isinstance(packet, CancelRequest):
            if cancel_callback is not None:
                cancel_callback(packet.process_id, packet.secret_key)
            return None
        else:
            _check_protocol_major(packet)
            return packet
    return None


def _check_protocol_major(startup: StartupMessage) -> None:
    if startup.major != PROTOCOL_MAJOR:
        raise ProtocolViolation(
            f"unsupported frontend protocol {startup.major}.{startup.minor}: "
            f"server supports {PROTOCOL_MAJOR}.0 to {PROTOCOL_MAJOR}.{PROTOCOL_MINOR}"
        )


def session_parameters(startup: StartupMessage, out: WriteBuffer) -> dict[str, str]:
    """The parameters for the session; a NegotiateProtocolVersion into `out` where needed.

    A newer 3.x minor version or `_pq_.` protocol options are not errors: the client is told
    what this server speaks and carries on with 3.0 (libpq may "grease" these on purpose).
    """
    options = [name for name in startup.params if name.startswith(PROTOCOL_OPTION_PREFIX)]
    if startup.minor > PROTOCOL_MINOR or options:
        write_negotiate_protocol_version(out, options)
    return {
        name: value
        for name, value in startup.params.items()
        if not name.startswith(PROTOCOL_OPTION_PREFIX)
    }
