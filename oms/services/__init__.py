"""Services that change state across rows. See ``orders`` and ``inventory``."""
