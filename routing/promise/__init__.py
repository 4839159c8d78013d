"""The delivery promise: what a cart can be promised to an address before payment.

``POST /api/promise/`` (``api``) asks ``service.cart_promise``, which builds the routing context
the way routing does (same profile, signals, lanes) but with stock from the available-to-promise
cache (``atp``), and hands it to ``options.promise_options``. That pure function asks the engine,
through the one adapter module ``engine_adapter``, which plans routing would choose under a few
promise deadlines, and keeps the plans whose arrival window routing would honour (see
``options``). ``windows`` turns an expected transit into a window on the merchant's clock.
"""
