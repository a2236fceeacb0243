"""Build step that pyproject.toml cannot express: the wheel carries the app's data inside its package.

templates/, static/ and migrations/ stay beside attendance/ in the repository; a built wheel maps each into the
package (attendance/templates, ...), where create_app() finds them when they are not beside it. The translation
catalogues are compiled into the wheel, so an install needs no `pybabel compile`.
"""

import shutil
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

MAPPED_FOLDERS = ("templates", "static", "migrations")


class BuildPyWithAppData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install reads them where they are
            return
        package = Path(self.build_lib) / "attendance"
        for folder in MAPPED_FOLDERS:
            shutil.copytree(
                folder, package / folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        for catalogue in Path("attendance/translations").glob("*/LC_MESSAGES/messages.po"):
            with catalogue.open("rb") as source:
                messages = read_po(source)
            compiled = (package / catalogue.relative_to("attendance")).with_suffix(".mo")
            compiled.parent.mkdir(parents=True, exist_ok=True)
            with compiled.open("wb") as target:
                write_mo(target, messages)


setup(cmdclass={"build_py": BuildPyWithAppData})
