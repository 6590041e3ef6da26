"""Stand-in programs for the rehearsal world's nodes and its fork (see the package doc)."""
