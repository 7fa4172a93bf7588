"""The rule file format as pydantic models (unknown keys are errors), and its JSON Schema.

    rule file ─► RuleFileSpec | list[RuleSpec]; RuleSpec.match ─► Node (a term, {term}, {regex},
    a list (any of) or a GroupSpec); vocabularies ─► VocabularyEntry

These models check shape only; :mod:`monitor.rules.loader` turns them into the compiled
form (:mod:`monitor.rules.model`) and names every problem at its ``file:line:col``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    model_validator,
)
from typing_extensions import TypeAliasType

ID_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
VOCAB_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"
Scope = Literal["title", "body", "both"]
Status = Literal["draft", "active", "disabled"]
SeverityName = Literal["info", "low", "medium", "high", "critical"]


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
    kinds: dict[type, str] = {TermSpec: "term_object", RegexSpec: "regex", GroupSpec: "group"}
    return kinds.get(type(value))


def _leaf_kind(value: Any) -> str | None:
    kind = _node_kind(value)
    return None if kind == "group" else kind


NODE_ERROR = (
    "expected a term, a $vocabulary, {term: ...}, {regex: ...}, a list (any of), or a group "
    "with all / any / none / at_least+of / near+within / sentence"
)
LEAF_ERROR = "expected a term, a $vocabulary, {term: ...}, {regex: ...} or a list of them"

if TYPE_CHECKING:  # recursive discriminated unions, read by pydantic; Any to the type checker
    Leaf = Any
    Node = Any
else:
    Leaf = TypeAliasType(
        "Leaf",
        Annotated[
            Union[
                Annotated[TermText, Tag("term")],
                Annotated[TermSpec, Tag("term_object")],
                Annotated[RegexSpec, Tag("regex")],
                Annotated[list["Leaf"], Tag("list")],
            ],
            Discriminator(
                _leaf_kind, custom_error_type="invalid_term", custom_error_message=LEAF_ERROR
            ),
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
            Discriminator(
                _node_kind, custom_error_type="invalid_node", custom_error_message=NODE_ERROR
            ),
        ],
    )


GROUP_OPERATORS = ("all", "any", "none", "at_least", "near", "sentence")


class GroupSpec(_Spec):
    """A group: every operator given must hold (AND)."""

    all: list[Node] | None = Field(default=None, min_length=1, description="every child matches")
    any: list[Node] | None = Field(
        default=None, min_length=1, description="at least one child matches"
    )
    none: list[Node] | None = Field(default=None, min_length=1, description="no child matches")
    at_least: int | None = Field(default=None, ge=1, description="N or more of 'of' match")
    of: list[Node] | None = Field(
        default=None, min_length=1, description="the children counted by at_least"
    )
    near: list[Leaf] | None = Field(
        default=None, min_length=2, description="each occurs, all within 'within' words"
    )
    within: int | None = Field(
        default=None, ge=0, description="most words between the first and last near term"
    )
    sentence: list[Leaf] | None = Field(
        default=None, min_length=2, description="each occurs in one sentence"
    )
    scope: Scope | None = Field(default=None, alias="in", description="title, body or both")

    @model_validator(mode="after")
    def _shape(self) -> GroupSpec:
        if not any(getattr(self, op) is not None for op in GROUP_OPERATORS):
            raise ValueError(
                "a group needs one of all, any, none, at_least (with of), near (with within), sentence"
            )
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
    def _some_text(self) -> ExampleSpec:
        if not (self.title or self.text):
            raise ValueError("an example needs a title or a text")
        return self


ExampleEntry = Annotated[
    Union[Annotated[str, Tag("text")], Annotated[ExampleSpec, Tag("item")]],
    Discriminator(
        lambda v: (
            "text"
            if isinstance(v, str)
            else ("item" if isinstance(v, (dict, ExampleSpec)) else None)
        ),
        custom_error_type="invalid_example",
        custom_error_message="an example is a text, or {title: ..., text: ...}",
    ),
]


class ExamplesSpec(_Spec):
    match: list[ExampleEntry] = Field(
        default_factory=list, description="texts the rule must fire on"
    )
    no_match: list[ExampleEntry] = Field(
        default_factory=list, description="texts it must stay silent on"
    )


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


if TYPE_CHECKING:
    VocabularyEntry = Any
else:
    VocabularyEntry = Annotated[
        Union[Annotated[list[Leaf], Tag("list")], Annotated[VocabularySpec, Tag("mapping")]],
        Discriminator(
            lambda v: (
                "list"
                if isinstance(v, list)
                else ("mapping" if isinstance(v, (dict, VocabularySpec)) else None)
            ),
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

RULE_ADAPTER = TypeAdapter(RuleSpec)
NODE_ADAPTER: TypeAdapter[Any] = TypeAdapter(
    Node
)  # a rule's match alone (its problems, when another field is wrong)
VOCABULARIES_ADAPTER = TypeAdapter(dict[VocabularyName, VocabularyEntry])


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
