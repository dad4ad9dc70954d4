"""The copilot runtime: audio sources → turn segmenters → one Live session (see `turn_stream`)."""
