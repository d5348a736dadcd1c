"""External documentation systems (IT Glue): clients that speak their APIs."""
