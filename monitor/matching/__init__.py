"""Matching: every rule compiled once into one :class:`Matcher`; ``match(item)`` is pure.

matcher.py   the facade: Matcher(rules), match(item), match_text(...), refresh()
compiler.py  rules ─► operator trees, atoms and clauses
tree.py      the operator tree, a class per operator (eval / holds / describe)
leaves.py    words, phrases and regexes: where they occur in a document
document.py  one item's text in the forms the evaluation needs
prefilter.py the scan, the rule index, confirming stem atoms ─► candidate rules
tokenscan.py the scan by tokens, for streams where many atoms occur
learner.py   the words that only begin like a rule's stem; refresh() compiles them in
scanset.py   the RE2 set of every atom's pattern
patterns.py  the RE2 pattern of an atom: needles, phrases, learned exclusions
scantext.py  the bytes the scan reads (the raw text, else the flat text)
"""

from monitor.matching.matcher import Matcher

__all__ = ["Matcher"]
