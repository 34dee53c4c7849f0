"""SA-MP / open.mp query protocol (``protocol``) and a bounded UDP client (``client``)."""

from tai_assets.samp.client import ServerPollResult, query_server
from tai_assets.samp.protocol import MalformedPacketError, PlayerEntry, ServerInfo

__all__ = ["MalformedPacketError", "PlayerEntry", "ServerInfo", "ServerPollResult", "query_server"]
