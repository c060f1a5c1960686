"""wiredesk: a streaming wire desk over Kafka."""

__version__ = "0.1.0"
