"""The zero-setup demo: a sandbox of real git repositories and a demo cluster on loopback."""
