"""One idempotency mechanism for every API a device may retry (``Idempotency-Key``)."""
