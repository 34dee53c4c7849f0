"""SA-MP / open.mp query protocol (``protocol``) and a bounded UDP client (``client``)."""
