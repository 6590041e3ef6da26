"""Real parts: git repositories in temp dirs, yarn, OpenSSH sshd on loopback, subprocesses."""
