"""Pure customer-matching core of the customer master (no Django import anywhere here).

Pipeline: :class:`~customers.matching.records.Observation` (raw identity fields of an order)
-> :func:`~customers.matching.records.fingerprint` (normalised, keyed hashes)
-> :func:`~customers.matching.blocking.resolve` against a candidate source
-> :class:`~customers.matching.score.Decision` (link / review / new, with reasons).
The full API is documented at the end of development in this docstring.
"""
