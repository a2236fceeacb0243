"""Exits 1, naming them, when pyproject.toml asks for a package (dev extras included) that requirements.lock did not
install, or in a version outside its range: the lock lags pyproject.toml, and `make lock` brings it up to date."""

import sys
from importlib.metadata import PackageNotFoundError, requires, version

from packaging.requirements import Requirement

unmet = []
for line in requires("attendance") or []:
    requirement = Requirement(line)
    if requirement.marker is not None and not requirement.marker.evaluate({"extra": "dev"}):
        continue
    try:
        installed = version(requirement.name)
    except PackageNotFoundError:
        unmet.append(f"{requirement}: not in the lock")
        continue
    if not requirement.specifier.contains(installed, prereleases=True):
        unmet.append(f"{requirement}: the lock has {installed}")
if unmet:
    sys.exit("requirements.lock does not match pyproject.toml; run `make lock`:\n  " + "\n  ".join(unmet))
