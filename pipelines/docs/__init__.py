"""Generated documentation (docs/indicators.md)."""
