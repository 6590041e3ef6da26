"""Files shipped with crvs-migrate: the stylesheet, the release catalogue, the notes."""

from pathlib import Path

# Installed as plain files beside this module (a wheel, never a zip): read by path.
# importlib.resources would import its zip machinery at every start (about 4 ms).
ROOT = Path(__file__).parent


def asset(*parts: str) -> Path:
    """The shipped file at ``parts`` under assets/."""
    return ROOT.joinpath(*parts)
