"""Reference implementation of the retailer contract in `services/openapi.yaml`.

One small aiohttp application serves orders, parcels and products from SQLite, seeded with
deterministic demo data whose dates are relative to today so that "delayed" and "out for
delivery" stay believable. A retailer replaces it with their own systems; the assistant
only relies on the contract. Run it with `python -m services`.
"""
