"""Test scaffolding: servers, fixture builders, frozen schemas (never imported by the product)."""
