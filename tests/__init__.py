"""crvs-migrate tests: unit/, integration/ (real git, yarn, sshd), tui/ (Pilot, snapshots), e2e/ (tmux, browser), bench/."""
