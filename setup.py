"""Packaging hook: the wheel carries the default config, the shipped rules and the seed
briefs as package data (``monitor/_data/``), so ``monitor init`` can lay them out anywhere.
Everything else about the package is in pyproject.toml."""

from pathlib import Path
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = {"config.yaml": "config.yaml", "rules": "rules", "seeds": "seeds"}


class BuildWithShippedData(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "monitor" / "_data"
        for src, dest in SHIPPED.items():
            path, out = ROOT / src, target / dest
            if path.is_dir():
                shutil.copytree(path, out, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", ".*"))
            elif path.exists():
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, out)


setup(cmdclass={"build_py": BuildWithShippedData})
