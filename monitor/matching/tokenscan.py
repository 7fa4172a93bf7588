"""The token scan: the atoms a text holds, read from its tokens instead of the RE2 set.

    padded flat text ─split─► distinct tokens ─► per token (cached): the atoms it holds
        a stem atom   the token begins with one of its needles and has one of its stems
                      (or lemmas): confirmed, as the prefilter's check would confirm it
        found atoms   the token is the needle (exact) or begins with it (prefix): found
                      is enough, as in the set scan
        phrase atoms  the first word's token so, and the next tokens those of one of the
                      phrases that begin with it, as the set scan's phrase pattern reads them
    regex literals ─► looked for in the padded text itself (they may span tokens)

On text where many atoms occur (real news against thousands of rules) the set scan's
automaton has many states to walk; this costs one split and a dictionary look-up per
distinct token whatever the rule count. It finds a subset of what the set scan finds
(stem atoms already confirmed), never less than what the exact evaluation needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from monitor import morph
from monitor import text as textmod
from monitor.matching.patterns import PHRASE, SENTINEL, Atom, PhraseRest

__all__ = ["TokenScan"]

_CACHE_MAX = 300_000


class TokenScan:
    def __init__(
        self,
        atoms: Sequence[Atom],
        atom_stems: Sequence[frozenset[str] | None],
        phrase_rests: Mapping[Atom, set[PhraseRest]],
    ):
        self._stems = atom_stems
        self._phrases = frozenset(a for a, atom in enumerate(atoms) if atom[0] == PHRASE)
        # per phrase atom, the further words of its phrases: per word, (exact?, needles)
        self._rests: dict[int, list[tuple[tuple[bool, tuple[str, ...]], ...]]] = {
            a: [
                tuple((kind == "t", tuple(n.strip(" ") for n in needles)) for kind, needles in r)
                for r in sorted(phrase_rests.get(atom, ()))
            ]
            for a, atom in enumerate(atoms)
            if a in self._phrases
        }
        # per phrase atom, what the token after its first word must be for any of its
        # phrases: one of these tokens, or beginning with one of these prefixes
        self._seconds: dict[int, tuple[frozenset[str], tuple[str, ...]]] = {}
        for a, rests in self._rests.items():
            exact = frozenset(n for r in rests if r and r[0][0] for n in r[0][1])
            begins = tuple(sorted({n for r in rests if r and not r[0][0] for n in r[0][1]}))
            self._seconds[a] = (exact, begins)
        self._lemma_atoms = frozenset(
            a
            for a, t in enumerate(atom_stems)
            if t is not None and any(k.startswith(morph.LEMMA_MARK) for k in t)
        )
        self._exact: dict[str, list[int]] = {}  # a whole token → the atoms it is
        self._prefix: dict[str, list[int]] = {}  # a token's beginning → the atoms it starts
        self.literals: list[tuple[str, int]] = []  # text a regex needs, anywhere
        for a, atom in enumerate(atoms):
            if atom == SENTINEL:
                continue
            needles = atom[1][1] if atom[0] == PHRASE else atom
            for n in needles:
                body = n[1:]
                if n.startswith(" ") and body.endswith(" ") and " " not in body[:-1]:
                    self._exact.setdefault(body[:-1], []).append(a)
                elif n.startswith(" ") and body and " " not in body:
                    self._prefix.setdefault(body, []).append(a)
                else:
                    self.literals.append((n, a))
        self._lengths = sorted({len(k) for k in self._prefix})
        self._cache: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}

    def _token_atoms(self, token: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The atoms a token holds, and the phrase atoms whose first word it is."""
        out = set(self._exact.get(token, ()))
        n = len(token)
        prefix = self._prefix
        stems = self._stems
        for length in self._lengths:
            if length > n:
                break
            for a in prefix.get(token[:length], ()):
                need = stems[a]
                if (
                    need is None
                    or textmod.stem(token) in need
                    or (a in self._lemma_atoms and not need.isdisjoint(morph.lemma_keys(token)))
                ):
                    out.add(a)
        phrases = self._phrases
        return tuple(sorted(out - phrases)), tuple(sorted(out & phrases))

    def _phrase_after(self, atom: int, tokens: list[str], i: int) -> bool:
        """Whether the tokens from ``i`` on are the rest of one of the phrase atom's phrases."""
        if i >= len(tokens):
            return False
        exact, begins = self._seconds[atom]
        second = tokens[i]
        if second not in exact and not second.startswith(begins):
            return False
        for rest in self._rests[atom]:
            if i + len(rest) > len(tokens):
                continue
            for k, (whole, needles) in enumerate(rest, start=i):
                token = tokens[k]
                if not (token in needles if whole else token.startswith(needles)):
                    break
            else:
                return True
        return False

    def atoms(self, padded: str) -> set[int]:
        """The atoms ``padded`` (``" " + flat + " "``) holds, the sentinel (0) among them."""
        cache = self._cache
        get = cache.get
        found = {0}
        tokens = padded.split()
        starts: list[tuple[str, tuple[int, ...]]] = []
        for token in set(tokens):
            got = get(token)
            if got is None:
                got = self._token_atoms(token)
                if len(cache) >= _CACHE_MAX:
                    cache.clear()
                cache[token] = got
            plain, phrases = got
            if plain:
                found.update(plain)
            if phrases:
                starts.append((token, phrases))
        if starts:
            first = dict(starts)
            after = self._phrase_after
            for i, token in enumerate(tokens):
                begun = first.get(token)
                if begun is None:
                    continue
                for a in begun:
                    if a not in found and after(a, tokens, i + 1):
                        found.add(a)
        for needle, a in self.literals:
            if needle in padded:
                found.add(a)
        return found
