"""Calls to the upstream API: slots, key failover, retries, deadlines and relaying."""

from .client import CHUNK_BYTES, UpstreamClient, UpstreamObserver, UpstreamTrace, build_session

__all__ = ["CHUNK_BYTES", "UpstreamClient", "UpstreamObserver", "UpstreamTrace", "build_session"]
