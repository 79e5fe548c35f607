"""The only code that builds SQL: filters, history pages, dashboard aggregates and upserts."""
