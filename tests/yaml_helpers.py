"""Write small config files for tests (YAML is JSON's superset: json.dumps is valid YAML)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_config(folder: Path, *, rules_from: Path | None = None, **sections) -> Path:
    """A config.yaml in ``folder`` with the shipped rules copied beside it (unless given)."""
    rules = folder / "rules"
    if not rules.exists():
        shutil.copytree(rules_from or ROOT / "rules", rules)
    data = {"storage": {"path": "data/monitor.db"}, "rules": {"paths": ["rules"]}}
    data.update(sections)
    path = folder / "config.yaml"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path
