"""Table Storage: clients, snapshots (pointer + packed rows), collection runs, tenants and the collection-status
dataset derived from them."""
