"""The servers: SSH, inventories, environments (which servers are QA or production), health."""
