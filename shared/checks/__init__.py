"""The check engine: Centreon's counter template semantics over stored Microsoft 365 usage reports.

Modes are declarative specs (shared/checks/modes/); the engine folds stored rows into metrics, judges them
against thresholds and status expressions, and renders Centreon-identical plugin output.
"""
