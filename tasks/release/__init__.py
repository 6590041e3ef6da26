"""From release to production: tag and image, env check, emergency backup, the gate, deploys."""
