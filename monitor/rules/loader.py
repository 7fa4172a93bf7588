"""Loading rule files: every file under the paths, its vocabularies, its rules.

    paths ─► rule files (folders recursively, sorted) ─► YAML with positions
          ─► vocabularies (resolved on first use; cycles refused) and rules
             (RuleSpec, then the match tree: :mod:`monitor.rules.tree`)
          ─► RuleSet + every problem, each at its file:line:col

``load_rule_set`` never raises; ``load_rules`` raises the problems (one RuleError, or
ConfigErrors holding all of them).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from monitor.errors import ConfigError, ConfigErrors, RuleError
from monitor.rules.model import Example, Group, MatchNode, Rule, RuleSet, Vocabulary
from monitor.rules.spec import NODE_ADAPTER, RULE_ADAPTER, VOCABULARIES_ADAPTER
from monitor.rules.tree import TreeBuilder, positive, rescope, with_vocabulary
from monitor.yamlfile import YamlDoc, load_yaml_file

log = logging.getLogger(__name__)

__all__ = ["load_rule_set", "load_rules", "rule_files"]


def rule_files(paths: list[Path] | list[str]) -> tuple[list[Path], list[RuleError]]:
    """The YAML files under ``paths`` (folders searched recursively, sorted)."""
    files: list[Path] = []
    errors: list[RuleError] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(
                f
                for f in p.rglob("*")
                if f.suffix in (".yaml", ".yml")
                and f.is_file()
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            errors.append(RuleError("no such file or folder", path=str(p)))
    seen: set[Path] = set()
    unique = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique, errors


class _Loader(TreeBuilder):
    """One load: the files, every problem found, the vocabularies, the rules."""

    def __init__(self) -> None:
        super().__init__()
        self.vocab_specs = {}
        self.vocab_done = {}
        self.rules: list[Rule] = []

    # -- files -------------------------------------------------------------------------
    def read(self, path: Path) -> tuple[YamlDoc, list[tuple[tuple[Any, ...], Any]]] | None:
        try:
            doc = load_yaml_file(path, cls=RuleError)
        except ConfigErrors as exc:
            self.errors.extend(
                e if isinstance(e, RuleError) else RuleError(e.message, e.path, e.line, e.column)
                for e in exc.errors
            )
            return None
        except ConfigError as exc:
            self.errors.append(
                exc
                if isinstance(exc, RuleError)
                else RuleError(exc.message, exc.path, exc.line, exc.column)
            )
            return None
        data = doc.data
        rules: list[tuple[tuple[Any, ...], Any]] = []
        if data is None:
            return doc, rules
        if isinstance(data, list):
            rules = [((i,), r) for i, r in enumerate(data)]
        elif isinstance(data, dict):
            for key in data:
                if key not in ("rules", "vocabularies"):
                    self.error(
                        doc,
                        (key,),
                        f"unknown key {key!r} (a rule file has 'rules' and/or 'vocabularies')",
                    )
            raw_rules = data.get("rules")
            if raw_rules is not None and not isinstance(raw_rules, list):
                self.error(doc, ("rules",), "'rules' must be a list of rules")
            elif raw_rules:
                rules = [(("rules", i), r) for i, r in enumerate(raw_rules)]
            vocabs = data.get("vocabularies")
            if vocabs is not None:
                self.add_vocabularies(doc, vocabs)
        else:
            self.error(
                doc,
                (),
                "a rule file is a list of rules, or a mapping with 'rules' and/or 'vocabularies'",
            )
        return doc, rules

    def add_vocabularies(self, doc: YamlDoc, vocabs: Any) -> None:
        if not isinstance(vocabs, dict):
            self.error(doc, ("vocabularies",), "'vocabularies' must be a mapping of name: [terms]")
            return
        try:
            specs = VOCABULARIES_ADAPTER.validate_python(vocabs)
        except ValidationError as exc:
            self.validation_errors(doc, exc, ("vocabularies",), vocabs, "vocabularies.")
            specs = {}
            for name, entry in vocabs.items():  # keep the good ones, so references resolve
                try:
                    specs.update(VOCABULARIES_ADAPTER.validate_python({name: entry}))
                except ValidationError:
                    self.vocab_done[str(name)] = None
        for name, spec in specs.items():
            if name in self.vocab_specs:
                other_doc, other_loc, _ = self.vocab_specs[name]
                line, _col = other_doc.where(other_loc)
                self.error(
                    doc,
                    ("vocabularies", name),
                    f"vocabulary {name!r} is already defined at {other_doc.path}:{line}",
                )
                continue
            self.vocab_specs[name] = (doc, ("vocabularies", name), spec)

    # -- vocabularies ------------------------------------------------------------------
    def vocabulary(self, name: str, stack: tuple[str, ...] = ()) -> Vocabulary | None | str:
        """The resolved vocabulary, None if missing/broken, or 'cycle'."""
        if name in self.vocab_done:
            return self.vocab_done[name]
        if name in stack:
            return "cycle"
        entry = self.vocab_specs.get(name)
        if entry is None:
            return None
        doc, loc, spec = entry
        items = spec if isinstance(spec, list) else spec.terms
        items_loc = loc if isinstance(spec, list) else loc + ("terms",)
        description = "" if isinstance(spec, list) else spec.description
        before = len(self.errors)
        terms: list[MatchNode] = []
        for i, item in enumerate(items):
            node = self.node(doc, item, items_loc + (i,), None, stack + (name,), leaf_only=True)
            if node is not None:
                terms.extend(
                    node.children if isinstance(node, Group) and node.op == "any" else (node,)
                )
        if len(self.errors) > before or not terms:
            vocab = None
        else:
            terms = [with_vocabulary(t, name) for t in terms]
            line, _ = doc.where(loc)
            vocab = Vocabulary(name, tuple(terms), description, doc.path, line)
        self.vocab_done[name] = vocab
        return vocab

    # -- match nodes -------------------------------------------------------------------
    # -- rules -------------------------------------------------------------------------
    def match_alone(
        self,
        doc: YamlDoc,
        loc: tuple[Any, ...],
        raw: dict[str, Any],
        label: str,
        exc: ValidationError,
    ) -> None:
        """A rule with an invalid field (a misspelt severity) still has its match read, so
        the same run also reports an unknown vocabulary or a bad regex in it."""
        if "match" not in raw or any(
            tuple(e.get("loc", ()))[:1] == ("match",) for e in exc.errors()
        ):
            return
        try:
            spec = NODE_ADAPTER.validate_python(raw["match"])
        except ValidationError:
            return
        self.label = label
        try:
            self.node(doc, spec, loc + ("match",), None)
        finally:
            self.label = ""

    def rule(self, doc: YamlDoc, loc: tuple[Any, ...], raw: Any) -> Rule | None:
        rid = raw.get("id") if isinstance(raw, dict) else None
        label = f"rule {rid!r}: " if isinstance(rid, str) else ""
        if not isinstance(raw, dict):
            self.error(doc, loc, "a rule is a mapping with id, title, match …")
            return None
        try:
            spec = RULE_ADAPTER.validate_python(raw)
        except ValidationError as exc:
            self.validation_errors(doc, exc, loc, raw, label)
            self.match_alone(doc, loc, raw, label, exc)
            return None
        before = len(self.errors)
        self.label = label
        try:
            match = self.node(doc, spec.match, loc + ("match",), None)
        finally:
            self.label = ""
        if match is None:
            return None
        match = rescope(match, "both")
        if not positive(match):
            self.error(
                doc,
                loc + ("match",),
                f"{label}match has nothing to find: a rule of only 'none' would fire on every item",
            )
        examples: list[Example] = []
        for key, expect in (("match", True), ("no_match", False)):
            for i, ex in enumerate(getattr(spec.examples, key)):
                line, col = doc.where(loc + ("examples", key, i))
                if isinstance(ex, str):
                    examples.append(Example(text=ex, expect=expect, line=line, column=col))
                else:
                    examples.append(
                        Example(
                            text=ex.text,
                            title=ex.title,
                            language=ex.language,
                            expect=expect,
                            line=line,
                            column=col,
                        )
                    )
        if len(self.errors) > before:
            return None
        line, col = doc.where(loc)
        return Rule(
            id=spec.id,
            title=spec.title,
            match=match,
            description=spec.description,
            severity=spec.severity,
            tags=tuple(spec.tags),
            status=spec.status,
            owner=spec.owner,
            language=tuple(
                [spec.language] if isinstance(spec.language, str) else spec.language or ()
            ),
            derived_from=spec.derived_from,
            examples=tuple(examples),
            path=doc.path,
            line=line,
            column=col,
        )


def load_rule_set(paths: list[Path] | list[str]) -> tuple[RuleSet, list[RuleError]]:
    """Load what can be loaded; return the rule set and every problem (never raises)."""
    loader = _Loader()
    files, errors = rule_files(paths)
    loader.errors.extend(errors)
    docs = []
    for f in files:
        got = loader.read(f)
        if got is not None:
            docs.append(got)
    seen: dict[str, Rule] = {}
    for doc, entries in docs:
        for loc, raw in entries:
            rule = loader.rule(doc, loc, raw)
            if rule is None:
                continue
            if rule.id in seen:
                first = seen[rule.id]
                loader.error(
                    doc,
                    loc + ("id",),
                    f"duplicate rule id {rule.id!r} (first defined at {first.location})",
                )
                continue
            seen[rule.id] = rule
            loader.rules.append(rule)
    # vocabularies nobody referenced still get checked
    for name in list(loader.vocab_specs):
        loader.vocabulary(name)
    vocabs = {k: v for k, v in loader.vocab_done.items() if isinstance(v, Vocabulary)}
    errors = loader.sorted_unique()
    log.debug(
        "loaded %d rules and %d vocabularies from %d files; %d problems",
        len(loader.rules),
        len(vocabs),
        len(files),
        len(errors),
    )
    return RuleSet(loader.rules, vocabs, tuple(str(f) for f in files)), errors


def load_rules(paths: list[Path] | list[str]) -> RuleSet:
    """Load every rule under ``paths``; raise RuleError / ConfigErrors naming file:line:col."""
    rule_set, errors = load_rule_set(paths)
    if errors:
        raise errors[0] if len(errors) == 1 else ConfigErrors(list[ConfigError](errors))
    return rule_set
