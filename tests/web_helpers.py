"""A review page with accounts: one user and token per role, a rules folder, a config."""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from helpers_hits import HitsDB, serve_review_page
from monitor.accounts import digest, hash_password, new_secret
from monitor.config import load_config
from monitor.models import utcnow

ROLES = ("viewer", "analyst", "admin")
PASSWORD = "a long enough password"

RULE_FILE = """\
# Plants in the news: a file for the editor tests.
rules:
  - id: quillwort-watch   # the rare fern
    title: Quillwort sightings
    severity: high
    tags: [plants]
    match:
      any: [quillwort]
    examples:
      match: ["A quillwort was found by the lake"]
"""


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@dataclass
class Team:
    url: str
    tokens: dict[str, str]
    db: HitsDB
    rules_dir: object
    served: object

    def client(self, role: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=20)


def add_team(db: HitsDB) -> dict[str, str]:
    tokens = {}
    with db.open() as store:
        for role in ROLES:
            store.add_user(role, role, hash_password(PASSWORD), utcnow())
            tokens[role] = new_secret()
            store.add_token(digest(tokens[role]), role, utcnow())
    return tokens


@contextmanager
def serve_team(db: HitsDB, extra_config: str = ""):
    rules_dir = db.config_path.parent / "rules"
    (rules_dir / "plants.yaml").write_text(RULE_FILE, encoding="utf-8")
    db.config_path.write_text(
        "storage:\n  path: monitor.db\nrules:\n  paths: [rules]\n" + extra_config, encoding="utf-8"
    )
    tokens = add_team(db)
    with serve_review_page(db, config=load_config(db.config_path), poll=True) as served:
        yield Team(url=served.url, tokens=tokens, db=db, rules_dir=rules_dir, served=served)
