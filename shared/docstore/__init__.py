"""The documentation side (IT Glue-like): organizations and their contacts.

`model` holds the records, `base.DocumentationStore` the interface the matcher uses, `tables` the Table
Storage implementation, `transfer` CSV/JSON import and export. A real IT Glue API connector would be another
`DocumentationStore` implementation.
"""
