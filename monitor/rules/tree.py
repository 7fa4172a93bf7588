"""A rule's ``match`` as written (spec models) ─► its compiled tree of Term / Pattern / Group.

    "word", "phrase", "prefix*"   ─► Term (normalised words; the matcher stems them)
    {term: …, exact, case, in}    ─► Term
    {regex: …}                    ─► Pattern (compiled once here, its required literal)
    [a, b] / {any: …}             ─► Group("any")
    $vocabulary                   ─► Group("any", its terms, vocabulary=name)
    {all, none, at_least+of, near+within, sentence} ─► Group per operator, under one "all"

Scopes (``in: title|body``) are inherited by terms that have none of their own.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import re2

from monitor import text as textmod
from monitor.rules.model import Group, MatchNode, Pattern, Term, Vocabulary
from monitor.rules.problems import Problems
from monitor.rules.regex import compile_regex, required_literal
from monitor.rules.spec import LEAF_ERROR, GroupSpec, RegexSpec, TermSpec
from monitor.suggest import closest, one_of
from monitor.yamlfile import YamlDoc


def _re2_message(exc: Exception) -> str:
    """RE2's complaint as text (it comes as bytes: ``b'missing ): (abc'``)."""
    msg: Any = exc.args[0] if exc.args else str(exc)
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", "replace")
    return str(msg)


__all__ = ["MIN_PREFIX", "TreeBuilder", "positive", "rescope"]

MIN_PREFIX = 3


class TreeBuilder(Problems):
    """Builds match trees, recording problems; vocabularies are resolved by the subclass."""

    vocab_specs: dict[str, tuple[YamlDoc, tuple[Any, ...], Any]]
    vocab_done: dict[str, Vocabulary | None]

    def vocabulary(self, name: str, stack: tuple[str, ...] = ()) -> Vocabulary | None | str:
        raise NotImplementedError

    def node(
        self,
        doc: YamlDoc,
        spec: Any,
        loc: tuple[Any, ...],
        scope: str | None,
        stack: tuple[str, ...] = (),
        leaf_only: bool = False,
    ) -> MatchNode | None:
        if isinstance(spec, str):
            if spec.startswith("$"):
                return self.reference(doc, spec, loc, scope, stack)
            return self.term(doc, spec, loc, scope, exact=False, case=False)
        if isinstance(spec, TermSpec):
            s = spec.scope or scope
            if spec.term.startswith("$"):
                self.node_error(
                    doc,
                    loc,
                    "a {term: ...} holds a word or phrase; write a $vocabulary reference on its own",
                )
                return None
            return self.term(doc, spec.term, loc, s, exact=spec.exact or spec.case, case=spec.case)
        if isinstance(spec, RegexSpec):
            return self.regex(doc, spec, loc, spec.scope or scope)
        if isinstance(spec, list):
            got = [
                self.node(doc, c, loc + (i,), scope, stack, leaf_only) for i, c in enumerate(spec)
            ]
            children = [c for c in got if c is not None]
            if len(children) < len(got):
                return None
            line, col = doc.where(loc)
            return Group("any", tuple(children), scope=scope or "both", line=line, column=col)
        if isinstance(spec, GroupSpec) and not leaf_only:
            return self.group(doc, spec, loc, spec.scope or scope, stack)
        self.node_error(doc, loc, LEAF_ERROR)
        return None

    def reference(
        self,
        doc: YamlDoc,
        spec: str,
        loc: tuple[Any, ...],
        scope: str | None,
        stack: tuple[str, ...],
    ) -> MatchNode | None:
        name = spec[1:].strip()
        vocab = self.vocabulary(name, stack)
        if vocab == "cycle":
            self.node_error(
                doc, loc, f"vocabulary ${name} refers to itself (through {' → '.join(stack)})"
            )
            return None
        if vocab is None:
            if name in self.vocab_done or name in self.vocab_specs:
                self.node_error(doc, loc, f"vocabulary ${name} has errors (see its definition)")
            else:
                near = closest(name, self.vocab_specs)
                known = ", ".join(sorted(self.vocab_specs)) or "none defined"
                hint = (
                    f"did you mean {one_of(['$' + n for n in near])}?"
                    if near
                    else f"known: {known}"
                )
                self.node_error(doc, loc, f"unknown vocabulary ${name} ({hint})")
            return None
        assert isinstance(vocab, Vocabulary)
        line, col = doc.where(loc)
        return Group(
            "any",
            tuple(rescope(t, scope) for t in vocab.terms),
            scope=scope or "both",
            vocabulary=name,
            line=line,
            column=col,
        )

    def term(
        self,
        doc: YamlDoc,
        text: str,
        loc: tuple[Any, ...],
        scope: str | None,
        exact: bool,
        case: bool,
    ) -> Term | None:
        line, col = doc.where(loc)
        raw = text.strip()
        prefix = raw.endswith("*")
        body = raw.rstrip("*").rstrip()
        tokens = tuple(textmod.words(body))
        if not tokens:
            self.node_error(doc, loc, f"term {text!r} has no letters or digits")
            return None
        if prefix and len(tokens[-1]) < MIN_PREFIX:
            self.node_error(
                doc, loc, f"prefix term {text!r} needs at least {MIN_PREFIX} letters before '*'"
            )
            return None
        if case:
            tokens = tuple(_case_words(body))
        return Term(
            text=raw,
            words=tokens,
            exact=exact,
            case=case,
            prefix=prefix,
            scope=scope or "",
            line=line,
            column=col,
        )

    def regex(
        self, doc: YamlDoc, spec: RegexSpec, loc: tuple[Any, ...], scope: str | None
    ) -> Pattern | None:
        line, col = doc.where(loc)
        try:
            compiled = compile_regex(spec.regex, spec.case)
        except re2.error as exc:
            self.node_error(
                doc,
                loc,
                f"invalid regex {spec.regex!r}: {_re2_message(exc)} "
                "(RE2 syntax: no backreferences or lookaround)",
            )
            return None
        return Pattern(
            pattern=spec.regex,
            case=spec.case,
            scope=scope or "",
            literal=required_literal(spec.regex),
            line=line,
            column=col,
            compiled=compiled,
        )

    def group(
        self,
        doc: YamlDoc,
        spec: GroupSpec,
        loc: tuple[Any, ...],
        scope: str | None,
        stack: tuple[str, ...],
    ) -> MatchNode | None:
        line, col = doc.where(loc)
        s = scope or "both"
        parts: list[MatchNode] = []
        ok = True

        def children(
            key: str, items: list[Any], leaf_only: bool = False
        ) -> tuple[MatchNode, ...] | None:
            got = [
                self.node(doc, c, loc + (key, i), scope, stack, leaf_only)
                for i, c in enumerate(items)
            ]
            out = [c for c in got if c is not None]
            return None if len(out) < len(got) else tuple(out)

        for op in ("all", "any", "none"):
            items = getattr(spec, op)
            if items is not None:
                kids = children(op, items)
                if kids is None:
                    ok = False
                else:
                    parts.append(
                        Group(op, kids, scope=s, line=doc.where(loc + (op,))[0], column=col)
                    )
        if spec.at_least is not None and spec.of is not None:
            kids = children("of", spec.of)
            if kids is None:
                ok = False
            else:
                parts.append(
                    Group(
                        "at_least",
                        kids,
                        n=spec.at_least,
                        scope=s,
                        line=doc.where(loc + ("at_least",))[0],
                        column=col,
                    )
                )
        if spec.near is not None:
            kids = children("near", spec.near, leaf_only=True)
            if kids is None:
                ok = False
            else:
                parts.append(
                    Group(
                        "near",
                        kids,
                        within=spec.within or 0,
                        scope=s,
                        line=doc.where(loc + ("near",))[0],
                        column=col,
                    )
                )
        if spec.sentence is not None:
            kids = children("sentence", spec.sentence, leaf_only=True)
            if kids is None:
                ok = False
            else:
                parts.append(
                    Group(
                        "sentence",
                        kids,
                        scope=s,
                        line=doc.where(loc + ("sentence",))[0],
                        column=col,
                    )
                )
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


def _case_words(body: str) -> list[str]:
    """The words of a case-sensitive term, capitals kept."""
    flat = body.translate(textmod.FLAT_CASED_TABLE)
    return flat.split()


def with_vocabulary(node: MatchNode, name: str) -> MatchNode:
    return node if node.vocabulary else replace(node, vocabulary=name)


def rescope(node: MatchNode, scope: str | None) -> MatchNode:
    """Give every term without a scope of its own (vocabulary terms) the scope it inherits."""
    if isinstance(node, Term):
        if node.scope or not scope:
            return node
        # (written out: ``dataclasses.replace`` costs several times more, for every term of
        # every rule)
        return Term(
            node.text,
            node.words,
            node.exact,
            node.case,
            node.prefix,
            scope,
            node.vocabulary,
            node.line,
            node.column,
        )
    if isinstance(node, Pattern):
        return node if node.scope or not scope else replace(node, scope=scope)
    return Group(
        node.op,
        tuple(rescope(c, scope) for c in node.children),
        node.n,
        node.within,
        node.scope,
        node.vocabulary,
        node.line,
        node.column,
    )


def positive(node: MatchNode) -> bool:
    """Whether a node can only match by finding something (not by absence alone)."""
    if isinstance(node, (Term, Pattern)):
        return True
    if node.op == "none":
        return False
    if node.op == "all":
        return any(positive(c) for c in node.children)
    if node.op in ("any", "at_least"):
        return all(positive(c) for c in node.children)
    return True
