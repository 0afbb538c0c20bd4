"""localoffer: Linked Open Data for the SEND Local Offer."""

__version__ = "0.1.0"
