"""Monthly rollups of the report facts: counts and sums per cell, kept with the facts."""
