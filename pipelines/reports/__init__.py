"""Reports written from the warehouse: edit reports for filers (more to come for supervisors and auditors)."""
