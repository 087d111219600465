"""Users' states and fixtures: reading, inventory, seeding, unpacking, redacting a copy, the harness config."""
