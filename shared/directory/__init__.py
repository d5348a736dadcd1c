"""The Microsoft 365 directory of each tenant (organization, users, subscribed SKUs), fetched from Graph
and stored as one packed snapshot per tenant (`model` for the rows, `store` for storage, `sync` for Graph)."""
