"""Pure order-routing engine (no Django): problem dataclasses in, decisions out.

Filled in as the modules land; see the module docstrings.
"""
