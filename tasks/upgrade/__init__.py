"""What the upgrade is: the release catalogue, versions, the answers, detection, the plan."""
