"""The PostgreSQL v3 wire protocol: framing, messages, codecs and the connection state machine.

It knows bytes and message order; what a statement means is the session's business
(`sqlvec.wire.handler.QueryHandler`).
"""
