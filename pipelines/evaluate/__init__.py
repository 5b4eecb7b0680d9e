"""Detection quality measured against ground truth (spec/irregularities.md)."""
