"""Watch rules: the YAML format (pydantic, unknown keys are errors), loading, checking.

    rule files ──YAML with positions──► RuleSpec (pydantic) ──resolve $vocabularies,
    compile regexes──► Rule (frozen; ``match`` is a tree of Term / Pattern / Group)

Every problem is a :class:`~monitor.errors.RuleError` naming ``file:line:col``; loading
collects all of them before raising (one :class:`~monitor.errors.ConfigErrors`).
The rule language is described for analysts in ``docs/rules.md``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import re2
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from typing_extensions import TypeAliasType

try:  # the stdlib regex parser, used only to find a regex's required literal
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_parse  # type: ignore[no-redef]

from monitor import text as textmod
from monitor.errors import ConfigError, ConfigErrors, RuleError
from monitor.models import Item
from monitor.yamlfile import YamlDoc, load_yaml_file

log = logging.getLogger(__name__)

__all__ = [
    "Rule",
    "RuleSet",
    "Term",
    "Pattern",
    "Group",
    "Example",
    "Vocabulary",
    "load_rules",
    "load_rule_set",
    "check_rules",
    "rule_files",
    "rules_json_schema",
    "RuleSpec",
]

ID_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
VOCAB_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"
Scope = Literal["title", "body", "both"]
Status = Literal["draft", "active", "disabled"]
SeverityName = Literal["info", "low", "medium", "high", "critical"]
MIN_PREFIX = 3
RE2_MAX_MEM = 8 << 20


# == the YAML format, as pydantic models ====================================================


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _number_to_str(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


TermText = Annotated[
    str,
    BeforeValidator(_number_to_str),
    Field(
        min_length=1,
        description="A word or phrase (stemmed, case-insensitive), 'prefix*', or $vocabulary",
    ),
]


class TermSpec(_Spec):
    """A term with options."""

    term: TermText
    exact: bool = Field(default=False, description="match the word form as written, no stemming")
    case: bool = Field(default=False, description="match capitals exactly too (implies exact)")
    scope: Scope | None = Field(default=None, alias="in", description="title, body or both")


class RegexSpec(_Spec):
    """An RE2 regular expression (linear time; no backreferences or lookaround)."""

    regex: str = Field(min_length=1)
    case: bool = Field(default=False, description="case-sensitive (default: case-insensitive)")
    scope: Scope | None = Field(default=None, alias="in", description="title, body or both")


def _node_kind(value: Any) -> str | None:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return "term"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        if "regex" in value:
            return "regex"
        if "term" in value:
            return "term_object"
        return "group"
    return {TermSpec: "term_object", RegexSpec: "regex", GroupSpec: "group"}.get(type(value))


def _leaf_kind(value: Any) -> str | None:
    kind = _node_kind(value)
    return None if kind == "group" else kind


_NODE_ERROR = (
    "expected a term, a $vocabulary, {term: ...}, {regex: ...}, a list (any of), or a group "
    "with all / any / none / at_least+of / near+within / sentence"
)
_LEAF_ERROR = "expected a term, a $vocabulary, {term: ...}, {regex: ...} or a list of them"

Leaf = TypeAliasType(
    "Leaf",
    Annotated[
        Union[
            Annotated[TermText, Tag("term")],
            Annotated[TermSpec, Tag("term_object")],
            Annotated[RegexSpec, Tag("regex")],
            Annotated[list["Leaf"], Tag("list")],
        ],
        Discriminator(_leaf_kind, custom_error_type="invalid_term", custom_error_message=_LEAF_ERROR),
    ],
)

Node = TypeAliasType(
    "Node",
    Annotated[
        Union[
            Annotated[TermText, Tag("term")],
            Annotated[TermSpec, Tag("term_object")],
            Annotated[RegexSpec, Tag("regex")],
            Annotated["GroupSpec", Tag("group")],
            Annotated[list["Node"], Tag("list")],
        ],
        Discriminator(_node_kind, custom_error_type="invalid_node", custom_error_message=_NODE_ERROR),
    ],
)

_OPS = ("all", "any", "none", "at_least", "near", "sentence")


class GroupSpec(_Spec):
    """A group: every operator given must hold (AND)."""

    all: list[Node] | None = Field(default=None, min_length=1, description="every child matches")
    any: list[Node] | None = Field(default=None, min_length=1, description="at least one child matches")
    none: list[Node] | None = Field(default=None, min_length=1, description="no child matches")
    at_least: int | None = Field(default=None, ge=1, description="N or more of 'of' match")
    of: list[Node] | None = Field(default=None, min_length=1, description="the children counted by at_least")
    near: list[Leaf] | None = Field(
        default=None, min_length=2, description="each occurs, all within 'within' words"
    )
    within: int | None = Field(default=None, ge=0, description="most words between the first and last near term")
    sentence: list[Leaf] | None = Field(default=None, min_length=2, description="each occurs in one sentence")
    scope: Scope | None = Field(default=None, alias="in", description="title, body or both")

    @model_validator(mode="after")
    def _shape(self) -> "GroupSpec":
        if not any(getattr(self, op) is not None for op in _OPS):
            raise ValueError("a group needs one of all, any, none, at_least (with of), near (with within), sentence")
        if (self.at_least is None) != (self.of is None):
            raise ValueError("at_least and of go together: {at_least: N, of: [...]}")
        if self.at_least is not None and self.of is not None and self.at_least > len(self.of):
            raise ValueError(f"at_least: {self.at_least} but 'of' has only {len(self.of)} entries")
        if (self.near is None) != (self.within is None):
            raise ValueError("near and within go together: {near: [A, B], within: N}")
        return self


class DerivedFrom(_Spec):
    """Where a rule comes from: a brief and the signal sentence in it."""

    seed: str = Field(min_length=1)
    signal: str = ""


class ExampleSpec(_Spec):
    """An example item: title and/or text (a plain string is the text alone)."""

    title: str = ""
    text: str = ""
    language: str | None = None

    @model_validator(mode="after")
    def _some_text(self) -> "ExampleSpec":
        if not (self.title or self.text):
            raise ValueError("an example needs a title or a text")
        return self


ExampleEntry = Annotated[
    Union[Annotated[str, Tag("text")], Annotated[ExampleSpec, Tag("item")]],
    Discriminator(
        lambda v: "text" if isinstance(v, str) else ("item" if isinstance(v, (dict, ExampleSpec)) else None),
        custom_error_type="invalid_example",
        custom_error_message="an example is a text, or {title: ..., text: ...}",
    ),
]


class ExamplesSpec(_Spec):
    match: list[ExampleEntry] = Field(default_factory=list, description="texts the rule must fire on")
    no_match: list[ExampleEntry] = Field(default_factory=list, description="texts it must stay silent on")


LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]


class RuleSpec(_Spec):
    """One watch rule."""

    id: str = Field(pattern=ID_PATTERN, description="unique across all rule files")
    title: str = Field(min_length=1)
    description: str = ""
    severity: SeverityName = "medium"
    tags: list[str] = Field(default_factory=list)
    status: Status = "active"
    owner: str | None = None
    language: list[LanguageCode] | LanguageCode | None = Field(
        default=None, description="item languages the rule applies to, e.g. [en, ru] (default: all)"
    )
    derived_from: DerivedFrom | None = None
    match: Node
    examples: ExamplesSpec = Field(default_factory=ExamplesSpec)


class VocabularySpec(_Spec):
    """A vocabulary with a description (the short form is just the list of terms)."""

    description: str = ""
    terms: list[Leaf] = Field(min_length=1)


VocabularyEntry = Annotated[
    Union[Annotated[list[Leaf], Tag("list")], Annotated[VocabularySpec, Tag("mapping")]],
    Discriminator(
        lambda v: "list" if isinstance(v, list) else ("mapping" if isinstance(v, (dict, VocabularySpec)) else None),
        custom_error_type="invalid_vocabulary",
        custom_error_message="a vocabulary is a list of terms, or {description: ..., terms: [...]}",
    ),
]
VocabularyName = Annotated[str, Field(pattern=VOCAB_PATTERN)]


class RuleFileSpec(_Spec):
    """A rule file written as a mapping."""

    vocabularies: dict[VocabularyName, VocabularyEntry] = Field(default_factory=dict)
    rules: list[RuleSpec] = Field(default_factory=list)


GroupSpec.model_rebuild()
RuleSpec.model_rebuild()
RuleFileSpec.model_rebuild()

_RULE = TypeAdapter(RuleSpec)
_VOCABS = TypeAdapter(dict[VocabularyName, VocabularyEntry])


def rules_json_schema() -> dict[str, Any]:
    """JSON Schema of a rule file (a list of rules, or a mapping with rules / vocabularies)."""
    schema = TypeAdapter(Union[list[RuleSpec], RuleFileSpec]).json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://signal-monitor.invalid/schemas/rules.json",
        "title": "signal monitor watch rules",
        "description": "A list of rules, or a mapping with 'rules' and/or 'vocabularies'. See docs/rules.md.",
        **schema,
    }


# == the compiled form ======================================================================


@dataclass(frozen=True, slots=True)
class Term:
    """A word or phrase. ``words`` are normalised tokens (not yet stemmed)."""

    text: str
    words: tuple[str, ...]
    exact: bool = False
    case: bool = False
    prefix: bool = False
    scope: str = "both"
    vocabulary: str | None = None
    line: int | None = None
    column: int | None = None

    @property
    def label(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Pattern:
    """An RE2 regex; ``literal`` is folded text every match contains (for the prefilter)."""

    pattern: str
    case: bool = False
    scope: str = "both"
    literal: str | None = None
    vocabulary: str | None = None
    line: int | None = None
    column: int | None = None

    @property
    def text(self) -> str:
        return f"/{self.pattern}/"

    @property
    def label(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Group:
    """``op`` is all, any, none, at_least (``n``), near (``within``) or sentence."""

    op: str
    children: tuple["MatchNode", ...]
    n: int = 0
    within: int = 0
    scope: str = "both"
    vocabulary: str | None = None
    line: int | None = None
    column: int | None = None


MatchNode = Union[Term, Pattern, Group]


@dataclass(frozen=True, slots=True)
class Example:
    """An example inside a rule: an item the rule must (``expect``) or must not fire on."""

    text: str
    title: str = ""
    language: str | None = None
    expect: bool = True
    line: int | None = None
    column: int | None = None

    def item(self) -> Item:
        return Item(source="example", key=f"example:{self.line}", title=self.title, text=self.text,
                    language=self.language)

    @property
    def preview(self) -> str:
        s = " ".join((self.title + " " + self.text).split())
        return s if len(s) <= 80 else s[:77] + "…"


@dataclass(frozen=True, slots=True)
class Vocabulary:
    name: str
    terms: tuple[MatchNode, ...]
    description: str = ""
    path: str = ""
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """A loaded watch rule: metadata, the compiled ``match`` tree, and where it is written."""

    id: str
    title: str
    match: MatchNode
    description: str = ""
    severity: str = "medium"
    tags: tuple[str, ...] = ()
    status: str = "active"
    owner: str | None = None
    language: tuple[str, ...] = ()
    derived_from: DerivedFrom | None = None
    examples: tuple[Example, ...] = ()
    path: str = ""
    line: int | None = None
    column: int | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class RuleSet:
    """Every rule loaded from some paths (all statuses), and the vocabularies they used."""

    rules: list[Rule]
    vocabularies: dict[str, Vocabulary] = field(default_factory=dict)
    files: tuple[str, ...] = ()

    def active(self) -> list[Rule]:
        return [r for r in self.rules if r.status == "active"]

    def get(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def __iter__(self):
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)


# == loading ================================================================================


def rule_files(paths: list[Path] | list[str]) -> tuple[list[Path], list[RuleError]]:
    """The YAML files under ``paths`` (folders searched recursively, sorted)."""
    files: list[Path] = []
    errors: list[RuleError] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(
                f for f in p.rglob("*")
                if f.suffix in (".yaml", ".yml") and f.is_file()
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


def _clean_loc(data: Any, loc: tuple[Any, ...], keep_last: bool) -> tuple[Any, ...]:
    """Drop the union branch names pydantic puts in ``loc``; keep real keys and indexes."""
    out: list[Any] = []
    node = data
    for i, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        elif keep_last and i == len(loc) - 1 and isinstance(part, str):
            out.append(part)
    return tuple(out)


def _dotted(loc: tuple[Any, ...]) -> str:
    s = ""
    for part in loc:
        s += f"[{part}]" if isinstance(part, int) else ("." if s else "") + str(part)
    return s


class _Loader:
    """One load: the files, every problem found, the vocabularies, the rules."""

    def __init__(self) -> None:
        self.errors: list[RuleError] = []
        self.vocab_specs: dict[str, tuple[YamlDoc, tuple[Any, ...], Any]] = {}
        self.vocab_done: dict[str, Vocabulary | None] = {}
        self.rules: list[Rule] = []
        self.label = ""  # "rule 'id': " while a rule is being built

    # -- errors ------------------------------------------------------------------------
    def error(self, doc: YamlDoc, loc: tuple[Any, ...], message: str) -> None:
        line, col = doc.where(loc)
        self.errors.append(RuleError(message, path=doc.path, line=line, column=col))

    def node_error(self, doc: YamlDoc, loc: tuple[Any, ...], message: str) -> None:
        """An error inside a match tree: prefixed with the rule and the path in it."""
        start = next((i for i, k in enumerate(loc) if k == "match"), None)
        if self.label and start is not None:
            message = f"{self.label}{_dotted(loc[start:])}: {message}"
        elif loc and loc[0] == "vocabularies":
            message = f"{_dotted(loc)}: {message}"
        self.error(doc, loc, message)

    def validation_errors(self, doc: YamlDoc, exc: ValidationError, prefix: tuple[Any, ...],
                          data: Any, label: str) -> None:
        for err in exc.errors(include_url=False):
            kind = err.get("type", "")
            loc = _clean_loc(data, tuple(err.get("loc", ())), keep_last=kind in ("missing", "extra_forbidden"))
            msg = err.get("msg", "invalid")
            if kind == "extra_forbidden":
                msg = f"unknown key {loc[-1]!r}" if loc else "unknown key"
            elif kind == "missing":
                msg = f"missing required key {loc[-1]!r}" if loc else "missing required key"
            elif kind == "literal_error":
                msg = msg.replace("Input should be", "should be")
            elif kind == "value_error":
                msg = msg.removeprefix("Value error, ")
            elif kind == "string_pattern_mismatch" and loc and loc[-1] == "id":
                msg = "id must be lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
            where = prefix + (loc[:-1] if kind == "missing" else loc)
            path = _dotted(loc)
            self.error(doc, where, f"{label}{path}: {msg}" if path else f"{label}{msg}")

    # -- files -------------------------------------------------------------------------
    def read(self, path: Path) -> tuple[YamlDoc, list[tuple[tuple[Any, ...], Any]]] | None:
        try:
            doc = load_yaml_file(path, cls=RuleError)
        except ConfigErrors as exc:
            self.errors.extend(e if isinstance(e, RuleError) else RuleError(e.message, e.path, e.line, e.column)
                               for e in exc.errors)
            return None
        except ConfigError as exc:
            self.errors.append(exc if isinstance(exc, RuleError) else RuleError(exc.message, exc.path, exc.line, exc.column))
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
                    self.error(doc, (key,), f"unknown key {key!r} (a rule file has 'rules' and/or 'vocabularies')")
            raw_rules = data.get("rules")
            if raw_rules is not None and not isinstance(raw_rules, list):
                self.error(doc, ("rules",), "'rules' must be a list of rules")
            elif raw_rules:
                rules = [(("rules", i), r) for i, r in enumerate(raw_rules)]
            vocabs = data.get("vocabularies")
            if vocabs is not None:
                self.add_vocabularies(doc, vocabs)
        else:
            self.error(doc, (), "a rule file is a list of rules, or a mapping with 'rules' and/or 'vocabularies'")
        return doc, rules

    def add_vocabularies(self, doc: YamlDoc, vocabs: Any) -> None:
        if not isinstance(vocabs, dict):
            self.error(doc, ("vocabularies",), "'vocabularies' must be a mapping of name: [terms]")
            return
        try:
            specs = _VOCABS.validate_python(vocabs)
        except ValidationError as exc:
            self.validation_errors(doc, exc, ("vocabularies",), vocabs, "vocabularies.")
            specs = {}
            for name, entry in vocabs.items():  # keep the good ones, so references resolve
                try:
                    specs.update(_VOCABS.validate_python({name: entry}))
                except ValidationError:
                    self.vocab_done[str(name)] = None
        for name, spec in specs.items():
            if name in self.vocab_specs:
                other_doc, other_loc, _ = self.vocab_specs[name]
                line, _col = other_doc.where(other_loc)
                self.error(doc, ("vocabularies", name),
                           f"vocabulary {name!r} is already defined at {other_doc.path}:{line}")
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
                terms.extend(node.children if isinstance(node, Group) and node.op == "any" else (node,))
        if len(self.errors) > before or not terms:
            vocab = None
        else:
            terms = [_with_vocabulary(t, name) for t in terms]
            line, _ = doc.where(loc)
            vocab = Vocabulary(name, tuple(terms), description, doc.path, line)
        self.vocab_done[name] = vocab
        return vocab

    # -- match nodes -------------------------------------------------------------------
    def node(self, doc: YamlDoc, spec: Any, loc: tuple[Any, ...], scope: str | None,
             stack: tuple[str, ...] = (), leaf_only: bool = False) -> MatchNode | None:
        line, col = doc.where(loc)
        if isinstance(spec, str):
            if spec.startswith("$"):
                return self.reference(doc, spec, loc, scope, stack)
            return self.term(doc, spec, loc, scope, exact=False, case=False)
        if isinstance(spec, TermSpec):
            s = spec.scope or scope
            if spec.term.startswith("$"):
                self.node_error(doc, loc, "a {term: ...} holds a word or phrase; write a $vocabulary reference on its own")
                return None
            return self.term(doc, spec.term, loc, s, exact=spec.exact or spec.case, case=spec.case)
        if isinstance(spec, RegexSpec):
            return self.regex(doc, spec, loc, spec.scope or scope)
        if isinstance(spec, list):
            children = [self.node(doc, c, loc + (i,), scope, stack, leaf_only) for i, c in enumerate(spec)]
            if any(c is None for c in children):
                return None
            return Group("any", tuple(children), scope=scope or "both", line=line, column=col)
        if isinstance(spec, GroupSpec) and not leaf_only:
            return self.group(doc, spec, loc, spec.scope or scope, stack)
        self.node_error(doc, loc, _LEAF_ERROR)
        return None

    def reference(self, doc: YamlDoc, spec: str, loc: tuple[Any, ...], scope: str | None,
                  stack: tuple[str, ...]) -> MatchNode | None:
        name = spec[1:].strip()
        vocab = self.vocabulary(name, stack)
        if vocab == "cycle":
            self.node_error(doc, loc, f"vocabulary ${name} refers to itself (through {' → '.join(stack)})")
            return None
        if vocab is None:
            if name in self.vocab_done or name in self.vocab_specs:
                self.node_error(doc, loc, f"vocabulary ${name} has errors (see its definition)")
            else:
                known = ", ".join(sorted(self.vocab_specs)) or "none defined"
                self.node_error(doc, loc, f"unknown vocabulary ${name} (known: {known})")
            return None
        assert isinstance(vocab, Vocabulary)
        line, col = doc.where(loc)
        return Group("any", tuple(_rescope(t, scope) for t in vocab.terms), scope=scope or "both",
                     vocabulary=name, line=line, column=col)

    def term(self, doc: YamlDoc, text: str, loc: tuple[Any, ...], scope: str | None,
             exact: bool, case: bool) -> Term | None:
        line, col = doc.where(loc)
        raw = text.strip()
        prefix = raw.endswith("*")
        body = raw.rstrip("*").rstrip()
        tokens = tuple(textmod.words(body))
        if not tokens:
            self.node_error(doc, loc, f"term {text!r} has no letters or digits")
            return None
        if prefix and len(tokens[-1]) < MIN_PREFIX:
            self.node_error(doc, loc, f"prefix term {text!r} needs at least {MIN_PREFIX} letters before '*'")
            return None
        if case:
            tokens = tuple(_case_words(body))
        return Term(text=raw, words=tokens, exact=exact, case=case, prefix=prefix,
                    scope=scope or "", line=line, column=col)

    def regex(self, doc: YamlDoc, spec: RegexSpec, loc: tuple[Any, ...], scope: str | None) -> Pattern | None:
        line, col = doc.where(loc)
        try:
            compile_regex(spec.regex, spec.case)
        except re2.error as exc:
            self.node_error(doc, loc, f"invalid regex {spec.regex!r}: {exc} (RE2 syntax: no backreferences or lookaround)")
            return None
        return Pattern(pattern=spec.regex, case=spec.case, scope=scope or "",
                       literal=required_literal(spec.regex), line=line, column=col)

    def group(self, doc: YamlDoc, spec: GroupSpec, loc: tuple[Any, ...], scope: str | None,
              stack: tuple[str, ...]) -> MatchNode | None:
        line, col = doc.where(loc)
        s = scope or "both"
        parts: list[MatchNode] = []
        ok = True

        def children(key: str, items: list[Any], leaf_only: bool = False) -> tuple[MatchNode, ...] | None:
            out = [self.node(doc, c, loc + (key, i), scope, stack, leaf_only) for i, c in enumerate(items)]
            return None if any(c is None for c in out) else tuple(out)

        for op in ("all", "any", "none"):
            items = getattr(spec, op)
            if items is not None:
                kids = children(op, items)
                if kids is None:
                    ok = False
                else:
                    parts.append(Group(op, kids, scope=s, line=doc.where(loc + (op,))[0], column=col))
        if spec.at_least is not None and spec.of is not None:
            kids = children("of", spec.of)
            if kids is None:
                ok = False
            else:
                parts.append(Group("at_least", kids, n=spec.at_least, scope=s,
                                   line=doc.where(loc + ("at_least",))[0], column=col))
        if spec.near is not None:
            kids = children("near", spec.near, leaf_only=True)
            if kids is None:
                ok = False
            else:
                parts.append(Group("near", kids, within=spec.within or 0, scope=s,
                                   line=doc.where(loc + ("near",))[0], column=col))
        if spec.sentence is not None:
            kids = children("sentence", spec.sentence, leaf_only=True)
            if kids is None:
                ok = False
            else:
                parts.append(Group("sentence", kids, scope=s, line=doc.where(loc + ("sentence",))[0], column=col))
        if not ok:
            return None
        if len(parts) == 1:
            return parts[0]
        # {all: [A, B], none: [C]} reads as all(A, B, none(C))
        flat: list[MatchNode] = []
        for part in parts:
            flat.extend(part.children if isinstance(part, Group) and part.op == "all" else (part,))
        return Group("all", tuple(flat), scope=s, line=line, column=col)

    # -- rules -------------------------------------------------------------------------
    def rule(self, doc: YamlDoc, loc: tuple[Any, ...], raw: Any) -> Rule | None:
        rid = raw.get("id") if isinstance(raw, dict) else None
        label = f"rule {rid!r}: " if isinstance(rid, str) else ""
        if not isinstance(raw, dict):
            self.error(doc, loc, "a rule is a mapping with id, title, match …")
            return None
        try:
            spec = _RULE.validate_python(raw)
        except ValidationError as exc:
            self.validation_errors(doc, exc, loc, raw, label)
            return None
        before = len(self.errors)
        self.label = label
        try:
            match = self.node(doc, spec.match, loc + ("match",), None)
        finally:
            self.label = ""
        if match is None:
            return None
        match = _rescope(match, "both")
        if not _positive(match):
            self.error(doc, loc + ("match",),
                       f"{label}match has nothing to find: a rule of only 'none' would fire on every item")
        examples: list[Example] = []
        for key, expect in (("match", True), ("no_match", False)):
            for i, ex in enumerate(getattr(spec.examples, key)):
                line, col = doc.where(loc + ("examples", key, i))
                if isinstance(ex, str):
                    examples.append(Example(text=ex, expect=expect, line=line, column=col))
                else:
                    examples.append(Example(text=ex.text, title=ex.title, language=ex.language,
                                            expect=expect, line=line, column=col))
        if len(self.errors) > before:
            return None
        line, col = doc.where(loc)
        return Rule(
            id=spec.id, title=spec.title, match=match, description=spec.description,
            severity=spec.severity, tags=tuple(spec.tags), status=spec.status, owner=spec.owner,
            language=tuple([spec.language] if isinstance(spec.language, str) else spec.language or ()),
            derived_from=spec.derived_from,
            examples=tuple(examples), path=doc.path, line=line, column=col,
        )


def _case_words(body: str) -> list[str]:
    """The words of a case-sensitive term, capitals kept."""
    flat = body.translate(textmod.FLAT_CASED_TABLE)
    return flat.split()


def _with_vocabulary(node: MatchNode, name: str) -> MatchNode:
    return node if node.vocabulary else replace(node, vocabulary=name)


def _rescope(node: MatchNode, scope: str | None) -> MatchNode:
    """Give every term without a scope of its own (vocabulary terms) the scope it inherits."""
    if isinstance(node, (Term, Pattern)):
        return node if node.scope or not scope else replace(node, scope=scope)
    return replace(node, children=tuple(_rescope(c, scope) for c in node.children))


def _positive(node: MatchNode) -> bool:
    """Whether a node can only match by finding something (not by absence alone)."""
    if isinstance(node, (Term, Pattern)):
        return True
    if node.op == "none":
        return False
    if node.op == "all":
        return any(_positive(c) for c in node.children)
    if node.op in ("any", "at_least"):
        return all(_positive(c) for c in node.children)
    return True


def compile_regex(pattern: str, case: bool):
    """Compile a rule regex with RE2: case-insensitive unless ``case``, on folded text."""
    options = re2.Options()
    options.max_mem = RE2_MAX_MEM
    options.case_sensitive = bool(case)
    options.log_errors = False
    return re2.compile(_fold_pattern(pattern), options)


def _fold_pattern(pattern: str) -> str:
    """Fold the characters the text is folded on (quotes, ё) in a pattern too."""
    table = {k: v for k, v in textmod.FOLD_CHARS.items() if v in ("'", '"', "е", "Е")}
    return pattern.translate(table)


def required_literal(pattern: str) -> str | None:
    """The longest literal every match must contain, folded, or None.

    Uses the stdlib regex parser on the pattern (it reads RE2's common syntax); anything it
    cannot read simply gets no prefilter.
    """
    try:
        parsed = sre_parse.parse(_fold_pattern(pattern))
    except Exception:  # noqa: BLE001 - RE2-only syntax: run the regex on every candidate
        return None
    runs: list[str] = []

    def walk(seq) -> None:
        current: list[str] = []
        for op, arg in seq:
            name = str(op)
            if name == "LITERAL":
                current.append(chr(arg))
                continue
            if current:
                runs.append("".join(current))
                current = []
            if name == "SUBPATTERN":
                walk(arg[-1])
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and arg[0] >= 1:
                walk(arg[2])
            elif name == "AT":
                continue
        if current:
            runs.append("".join(current))

    walk(parsed)
    best = max((textmod.fold(r) for r in runs), key=len, default="")
    best = best.strip()
    return best if len(best) >= 3 else None


# == public API =============================================================================


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
                loader.error(doc, loc + ("id",), f"duplicate rule id {rule.id!r} (first defined at {first.location})")
                continue
            seen[rule.id] = rule
            loader.rules.append(rule)
    # vocabularies nobody referenced still get checked
    for name in list(loader.vocab_specs):
        loader.vocabulary(name)
    vocabs = {k: v for k, v in loader.vocab_done.items() if isinstance(v, Vocabulary)}
    errors = sorted(loader.errors, key=lambda e: (str(e.path), e.line or 0, e.column or 0))
    log.debug("loaded %d rules and %d vocabularies from %d files; %d problems",
              len(loader.rules), len(vocabs), len(files), len(errors))
    return RuleSet(loader.rules, vocabs, tuple(str(f) for f in files)), _dedupe(errors)


def _dedupe(errors: list[RuleError]) -> list[RuleError]:
    out, seen = [], set()
    for e in errors:
        if str(e) not in seen:
            seen.add(str(e))
            out.append(e)
    return out


def load_rules(paths: list[Path] | list[str]) -> RuleSet:
    """Load every rule under ``paths``; raise RuleError / ConfigErrors naming file:line:col."""
    rule_set, errors = load_rule_set(paths)
    if errors:
        raise errors[0] if len(errors) == 1 else ConfigErrors(errors)
    return rule_set


def check_rules(paths: list[Path] | list[str]) -> list[RuleError]:
    """Every problem: validation errors, then each rule's examples that fail."""
    rule_set, errors = load_rule_set(paths)
    return errors + check_examples(rule_set.rules)


def check_examples(rules: list[Rule]) -> list[RuleError]:
    """Run every rule's examples through one matcher of all the rules."""
    from monitor.matching import Matcher  # matching builds on this module

    if not rules:
        return []
    matcher = Matcher(rules, freeze=False)
    problems: list[RuleError] = []
    for rule in rules:
        for ex in rule.examples:
            fired = {m.rule_id: m for m in matcher.match(ex.item(), rule_ids={rule.id})}
            hit = fired.get(rule.id)
            if ex.expect and hit is None:
                problems.append(RuleError(
                    f"rule {rule.id!r}: example should match but does not: {ex.preview!r}",
                    path=rule.path, line=ex.line, column=ex.column))
            elif not ex.expect and hit is not None:
                problems.append(RuleError(
                    f"rule {rule.id!r}: example should not match but does ({hit.why}): {ex.preview!r}",
                    path=rule.path, line=ex.line, column=ex.column))
    return problems
