"""Real datasets mapped to complete spec packages (one YAML mapping per dataset, one converter)."""
