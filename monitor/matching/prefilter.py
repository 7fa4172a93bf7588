"""The prefilter: which rules are worth evaluating on an item, from one scan of its text.

    text ─► the set scan (raw bytes, else the flat text) ─► atoms found
         ─► rules filed under an atom found (their anchor clause holds) whose other clause
            has an atom found too (two unions and an intersection, all in C)
         ─► their further clauses ─► stem atoms confirmed: a token they point at in the flat
            text has one of their stems (tokens refused are noted by the learner)
         ─► candidates

It is only a necessary condition: every hit is decided by the exact evaluation. Most items
stop after the scan and are never flattened, tokenised or stemmed.

Where the stream's items hold many atoms (the words of thousands of rules occur in real
news), the set scan walks many automaton states and most items are flattened for the
confirming anyway: then the token scan (:mod:`.tokenscan`) reads the flat text's tokens
instead, its stem atoms confirmed as it goes. Which one runs follows a running average of
the atoms found per item; both give the same hits.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from itertools import chain

from monitor import morph
from monitor import text as textmod
from monitor.matching.compiler import CompiledRule
from monitor.matching.learner import Learner
from monitor.matching.patterns import Atom
from monitor.matching.scanset import ScanSet
from monitor.matching.scantext import raw_scan_bytes, scan_bytes
from monitor.matching.tokenscan import TokenScan

log = logging.getLogger(__name__)

__all__ = ["Candidates", "Prefilter"]

# the rules to evaluate, the atoms the scan found (None: not known), the padded flat text
# if it was made
Candidates = tuple[list[CompiledRule], set[int] | None, str | None]

# the running average of atoms found per item above which the token scan reads the items,
# and below which the set scan takes over again; the weight of each new item in it
_DENSE_ATOMS = 64
_SPARSE_ATOMS = 24
_AVERAGE_WEIGHT = 1 / 32


def _index(clauses: Sequence[frozenset[int]], n_atoms: int) -> list[tuple[int, ...]]:
    """Per atom, the rules (by position) with that atom in their clause."""
    by_atom: list[list[int]] = [[] for _ in range(n_atoms)]
    for i, atoms in enumerate(clauses):
        for a in atoms:
            by_atom[a].append(i)
    return [tuple(x) for x in by_atom]


class Prefilter:
    def __init__(
        self,
        rules: list[CompiledRule],
        atoms: Sequence[Atom],
        atom_stems: Sequence[frozenset[str] | None],
        scan_set: ScanSet,
        learner: Learner,
    ):
        self.rules = rules
        self._atoms = atoms
        self._atom_stems = atom_stems
        self.scan_set = scan_set
        self.learner = learner
        self._scan_failed = False
        self.token_scan = TokenScan(atoms, atom_stems, scan_set.phrase_rests)
        self._average_atoms = 0.0  # found per item, running (racy between threads: a pace)
        self._by_tokens = False
        # rules without a clause: evaluated on every item
        self.unfiltered = [c for c in rules if not c.clauses]
        # each rule is filed under the atoms of its rarest clause (its anchor), and under
        # those of its next rarest (its anchor again when it has only one)
        anchors = [c.clauses[0] if c.clauses else frozenset() for c in rules]
        seconds = [
            (c.clauses[1] if len(c.clauses) > 1 else c.clauses[0]) if c.clauses else frozenset()
            for c in rules
        ]
        self._rules_by_anchor_atom = _index(anchors, len(atoms)).__getitem__
        self._rules_by_second_clause_atom = _index(seconds, len(atoms)).__getitem__
        # the stem atoms: found by the scan, they still need a token of their stems
        self.stem_atoms = frozenset(a for a, t in enumerate(atom_stems) if t is not None)
        # the stem atoms whose stems include lemma keys (Russian words by lemma)
        self._lemma_atoms = frozenset(
            a
            for a, t in enumerate(atom_stems)
            if t is not None and any(k.startswith(morph.LEMMA_MARK) for k in t)
        )

    # -- the scan ------------------------------------------------------------------------
    def scan(self, text: str) -> list[int] | None:
        """The atoms found in ``text`` (the sentinel, 0, among them), or None if the scan
        failed. Read from the raw text when it can be, else from its flat text."""
        return self._scan(text)[0]

    def _scan(self, text: str) -> tuple[list[int] | None, bytes]:
        raw = raw_scan_bytes(text)
        match = self.scan_set.match
        unsafe = self.scan_set.unsafe
        if raw is not None:
            ids = match(raw)
            if not ids or unsafe not in ids:
                return ids or None, raw
        flat = scan_bytes(text)
        ids = match(flat)
        if not ids:
            return None, flat
        return ([i for i in ids if i != unsafe] if unsafe in ids else ids), flat

    # -- candidates ------------------------------------------------------------------------
    def candidates(self, text: str) -> Candidates:
        """The rules worth evaluating: every clause they need is present in ``text``."""
        if self._by_tokens:
            return self._token_candidates(text)
        ids, scanned = self._scan(text)
        if ids:
            self._pace(len(ids))
        if not ids:  # the sentinel always matches: no answer means the scan failed
            if not self._scan_failed:
                log.warning(
                    "the prefilter scan failed (RE2 out of memory?): evaluating every rule "
                    "on such items; slower, still exact"
                )
                self._scan_failed = True
            return list(self.rules), None, None
        out = list(self.unfiltered)
        if len(ids) == 1:
            return out, set(), None
        learner = self.learner
        if learner.check_due():
            checks = learner.atoms_to_check(self.stem_atoms.intersection(ids))
            if checks:
                read = scanned.decode()  # valid UTF-8: encoded, then only ASCII bytes changed
                for a in checks:
                    self._verify(a, read, flat_only=True)
        reached = set(chain.from_iterable(map(self._rules_by_anchor_atom, ids))).intersection(
            chain.from_iterable(map(self._rules_by_second_clause_atom, ids))
        )
        if not reached:
            return out, (set(ids) if out else None), None
        found = set(ids)
        rules = self.rules
        stem_atoms = self.stem_atoms
        confirmed: dict[int, bool] = {}
        padded = None
        for c in map(rules.__getitem__, reached):
            clauses = c.clauses
            # … and any further clause (rules of three or more clauses)
            if len(clauses) > 2 and any(map(found.isdisjoint, clauses[2:])):
                continue
            # a clause holds if an atom found needs no stemming (exact, prefix, phrase,
            # regex literal); else one of its stem atoms must point at a token of its stems
            for atoms in clauses:
                present = atoms & found
                if not present <= stem_atoms:
                    continue
                for a in present:
                    ok = confirmed.get(a)
                    if ok is None:
                        if padded is None:
                            padded = f" {textmod.flat_of(text)} "
                        ok = confirmed[a] = self._verify(a, padded)
                    if ok:
                        break
                else:
                    break  # no atom of this clause is really there
            else:
                out.append(c)
        return out, found, padded

    @property
    def reads_tokens(self) -> bool:
        """Whether items are read by the token scan now (the stream holds many atoms)."""
        return self._by_tokens

    def sparse(self) -> None:
        """Read the next items with the set scan, the running average started again."""
        self._average_atoms = 0.0
        self._by_tokens = False

    def _pace(self, found: int) -> None:
        avg = self._average_atoms = self._average_atoms + (found - self._average_atoms) * (
            _AVERAGE_WEIGHT
        )
        if self._by_tokens:
            self._by_tokens = avg > _SPARSE_ATOMS
        else:
            self._by_tokens = avg > _DENSE_ATOMS

    def _token_candidates(self, text: str) -> Candidates:
        """:meth:`candidates` from the token scan: its stem atoms are confirmed already."""
        padded = f" {textmod.flat_of(text)} "
        found = self.token_scan.atoms(padded)
        self._pace(len(found))
        out = list(self.unfiltered)
        if len(found) == 1:
            return out, found, padded
        reached = set(chain.from_iterable(map(self._rules_by_anchor_atom, found))).intersection(
            chain.from_iterable(map(self._rules_by_second_clause_atom, found))
        )
        rules = self.rules
        for c in map(rules.__getitem__, reached):
            clauses = c.clauses
            if len(clauses) > 2 and any(map(found.isdisjoint, clauses[2:])):
                continue
            out.append(c)
        return out, found, padded

    def _verify(self, atom: int, text: str, flat_only: bool = False) -> bool:
        """Whether a token of ``text`` that begins with one of the stem atom's needles has
        one of its stems; if none has, those tokens are noted by the learner. ``flat_only``:
        ``text`` is what the raw scan read, and a token there counts only if it is its own
        flat form (a token cut short by a quote the raw scan left, or with a capital outside
        ASCII, is skipped), so each token learned is one the flat text can hold."""
        stems = self._atom_stems[atom]
        assert stems is not None
        by_lemma = atom in self._lemma_atoms
        find = text.find
        stem = textmod.stem
        lemmas = morph.lemma_keys
        refused: list[tuple[str, str]] = []
        for needle in self._atoms[atom]:  # " " + a prefix forms of the stems start with
            i = find(needle)
            while i >= 0:
                end = find(" ", i + 1)
                token = text[i + 1 : end]
                if not flat_only or textmod.flat_of(token) == token:
                    if stem(token) in stems or (by_lemma and not stems.isdisjoint(lemmas(token))):
                        return True
                    refused.append((needle, token))
                i = find(needle, end)
        if refused:
            self.learner.note(atom, refused)
        return False
