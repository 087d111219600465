"""Building what is under test: the Docker engine, the target, the base and Gateway images."""
