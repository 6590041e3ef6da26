"""Work on this machine: processes, steps, yarn, the git checkouts, and verifying locally."""
