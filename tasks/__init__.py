"""Every domain rule and all the work of crvs-migrate, without a screen (never imports Textual).

Grouped by concern: ``session`` (the session file, journal, workspace), ``upgrade`` (versions,
answers, the plan), ``local`` (commands and checkouts on this machine), ``servers`` (SSH,
inventories, environments, cluster health), ``release`` (tag, env check, backup, gate,
deploy), ``report``, ``demo``; ``sections`` lists every session section and its owner.
"""
