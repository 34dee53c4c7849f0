"""World genres from world names: the rules file (`world_tags.toml`), and tagging by it.

The rules are data, not code: `load_rules` reads and checks them (a file that does not parse,
an unknown key, a bad regular expression, an implication of an unknown tag or a cycle of
implications is a `RulesError` naming the line), and `TagRules.tag` returns, for one name,
every tag and what matched it, so a wrong tag can be traced to its rule.
"""

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from rapidfuzz import fuzz, process

RULES_PATH = Path(__file__).with_name("world_tags.toml")
RULE_KINDS = ("tokens", "prefixes", "phrases", "regex", "fuzzy", "unless", "implies")
DEFAULT_FUZZY_THRESHOLD = 88

_COLOUR_CODE = re.compile(r"\{[0-9A-Fa-f]{6}\}")
_NOT_WORD = re.compile(r"[^\w]+")
# Cyrillic letters that look like Latin ones, folded to the Latin letter (and ё to е).
_LOOK_ALIKES = str.maketrans("аеёкмнорстухві", "aeekmhopctyxbi")


class RulesError(ValueError):
    """The rules file cannot be used, and where."""


def normalise(text: str, fold: bool = True) -> str:
    """Return `text` as rules match it: colour codes removed, lower case, look-alike letters
    folded (letter for letter, so `fold=False` gives the same words as shown), every run of
    punctuation or spaces one space."""
    text = _COLOUR_CODE.sub(" ", text).casefold()
    if fold:
        text = text.translate(_LOOK_ALIKES)
    return " ".join(_NOT_WORD.sub(" ", text).replace("_", " ").split())


@dataclass
class TagRule:
    """What gives one tag (normalised words and phrases, compiled expressions)."""

    tag: str
    tokens: dict[str, str] = field(default_factory=dict)  # normalised → as written
    prefixes: tuple[tuple[str, str], ...] = ()  # (as written, normalised)
    phrases: tuple[tuple[str, str], ...] = ()  # (as written, normalised)
    regex: tuple[re.Pattern, ...] = ()
    fuzzy: tuple[tuple[str, str], ...] = ()
    unless: tuple[tuple[str, str], ...] = ()
    implies: tuple[str, ...] = ()


@dataclass
class TagRules:
    """Every tag's rule, the fuzzy threshold, and the file's hash (the asset's code version)."""

    rules: dict[str, TagRule]
    fuzzy_threshold: float
    version: str
    _implied: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def vocabulary(self) -> list[str]:
        """Every tag the rules define, sorted."""
        return sorted(self.rules)

    def tag(self, name: str) -> dict[str, list[str]]:
        """Return the tags of one world name, each with what matched it ("token: rp",
        "implied by: city_rp")."""
        normalised = normalise(name)
        words = normalised.split()
        shown = dict(zip(words, normalise(name, fold=False).split(), strict=True))
        padded = f" {normalised} "
        found: dict[str, list[str]] = {}
        for rule in self.rules.values():
            evidence = _evidence(rule, name, words, shown, padded, self.fuzzy_threshold)
            if evidence and not any(_contains(words, padded, n) for _, n in rule.unless):
                found[rule.tag] = evidence
        for tag in list(found):
            for implied in self._implied.get(tag, ()):
                found.setdefault(implied, []).append(f"implied by: {tag}")
        return dict(sorted(found.items()))


def _contains(words: list[str], padded: str, normalised: str) -> bool:
    return f" {normalised} " in padded if " " in normalised else normalised in words


def _evidence(
    rule: TagRule,
    name: str,
    words: list[str],
    shown: dict[str, str],
    padded: str,
    threshold: float,
) -> list[str]:
    evidence = [f"token: {rule.tokens[w]}" for w in dict.fromkeys(words) if w in rule.tokens]
    evidence += [
        f"prefix: {written} ({shown[w]})"
        for written, p in rule.prefixes
        for w in dict.fromkeys(words)
        if w.startswith(p) and w not in rule.tokens
    ][:3]
    evidence += [f"phrase: {written}" for written, n in rule.phrases if f" {n} " in padded]
    clean = _COLOUR_CODE.sub("", name)
    evidence += [f"regex: {r.pattern}" for r in rule.regex if r.search(clean)]
    for written, term in rule.fuzzy:
        size = term.count(" ") + 1
        grams = [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]
        best = process.extractOne(term, grams, scorer=fuzz.ratio, score_cutoff=threshold)
        if best is not None and best[0] != term and not evidence:
            match = " ".join(shown[w] for w in best[0].split())
            evidence.append(f"fuzzy: {written} ~ {match} ({best[1]:.0f})")
    return evidence


def _line_of(text: str, tag: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() == f"[tags.{tag}]":
            return number
    return 0


def _words(path: Path, line: int, tag: str, kind: str, values: object) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise RulesError(f"{path}:{line}: tags.{tag}.{kind} must be a list of non-empty strings")
    return values


def _compile(path: Path, line: int, tag: str, pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as error:
        raise RulesError(f"{path}:{line}: tags.{tag}.regex {pattern!r}: {error}") from None


def _rule(path: Path, text: str, tag: str, spec: object) -> TagRule:
    line = _line_of(text, tag)
    if not isinstance(spec, dict):
        raise RulesError(f"{path}:{line}: tags.{tag} must be a table")
    unknown = set(spec) - set(RULE_KINDS) - {"description"}
    if unknown:
        raise RulesError(
            f"{path}:{line}: tags.{tag} has unknown key(s) {', '.join(sorted(unknown))} "
            f"(known: {', '.join(RULE_KINDS)})"
        )
    lists = {kind: _words(path, line, tag, kind, spec.get(kind, [])) for kind in RULE_KINDS}
    if not any(lists[k] for k in ("tokens", "prefixes", "phrases", "regex", "fuzzy")):
        raise RulesError(f"{path}:{line}: tags.{tag} has nothing that could match a name")
    tokens = [normalise(t) for t in lists["tokens"]]
    several = [t for t, n in zip(lists["tokens"], tokens, strict=True) if " " in n or not n]
    if several:
        raise RulesError(f"{path}:{line}: tags.{tag}.tokens {several} are not single words")
    return TagRule(
        tag=tag,
        tokens=dict(zip(tokens, lists["tokens"], strict=True)),
        prefixes=tuple((p, normalise(p)) for p in lists["prefixes"]),
        phrases=tuple((p, normalise(p)) for p in lists["phrases"]),
        regex=tuple(_compile(path, line, tag, r) for r in lists["regex"]),
        fuzzy=tuple((f, normalise(f)) for f in lists["fuzzy"]),
        unless=tuple((u, normalise(u)) for u in lists["unless"]),
        implies=tuple(lists["implies"]),
    )


def _closure(path: Path, text: str, rules: dict[str, TagRule]) -> dict[str, tuple[str, ...]]:
    """Return every tag's implied tags (transitively); raise on an unknown tag or a cycle."""
    for rule in rules.values():
        for implied in rule.implies:
            if implied not in rules:
                line = _line_of(text, rule.tag)
                raise RulesError(f"{path}:{line}: tags.{rule.tag} implies unknown tag {implied!r}")
    closure: dict[str, tuple[str, ...]] = {}

    def visit(tag: str, trail: tuple[str, ...]) -> tuple[str, ...]:
        if tag in trail:
            cycle = " → ".join([*trail[trail.index(tag) :], tag])
            raise RulesError(f"{path}:{_line_of(text, tag)}: implications form a cycle: {cycle}")
        if tag not in closure:
            implied: dict[str, None] = {}
            for child in rules[tag].implies:
                implied[child] = None
                implied.update(dict.fromkeys(visit(child, (*trail, tag))))
            closure[tag] = tuple(implied)
        return closure[tag]

    for tag in rules:
        visit(tag, ())
    return closure


def load_rules(path: Path = RULES_PATH) -> TagRules:
    """Return the rules of a TOML rules file; raise `RulesError` (with the line) when it
    cannot be used."""
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RulesError(f"{path}: {error}") from None
    tags = data.get("tags")
    if not isinstance(tags, dict) or not tags:
        raise RulesError(f"{path}: no [tags.NAME] tables")
    rules = {tag: _rule(path, text, tag, spec) for tag, spec in tags.items()}
    threshold = data.get("settings", {}).get("fuzzy_threshold", DEFAULT_FUZZY_THRESHOLD)
    if not isinstance(threshold, int | float) or not 0 < threshold <= 100:
        raise RulesError(f"{path}: settings.fuzzy_threshold must be a number in (0, 100]")
    result = TagRules(rules, float(threshold), hashlib.sha256(raw).hexdigest()[:16])
    result._implied = _closure(path, text, rules)
    return result


UNTAGGED = "(untagged)"


def tag_frame(names: list[str], rules: TagRules) -> pl.DataFrame:
    """Return one row per world name: its tags (sorted; empty when untagged) and the evidence
    of each, as JSON."""
    tagged = [rules.tag(name) for name in names]
    return pl.DataFrame(
        {
            "name": names,
            "tags": [list(found) for found in tagged],
            "evidence": [json.dumps(found, ensure_ascii=False) for found in tagged],
        },
        schema={"name": pl.String, "tags": pl.List(pl.String), "evidence": pl.String},
    )


def genre_popularity(world_hours: pl.DataFrame, tags: pl.DataFrame) -> pl.DataFrame:
    """Return per tag (and UNTAGGED) the worlds, world sessions started and player-hours of a
    period, from per-world figures (`name, sessions_started, player_hours`) and `tag_frame`
    rows; a world with several tags counts in each, so shares do not add up to 1."""
    total = float(world_hours["player_hours"].sum() or 0.0)
    joined = world_hours.join(tags.select("name", "tags"), on="name", how="left").with_columns(
        tag=pl.when(pl.col("tags").list.len().fill_null(0) == 0)
        .then(pl.lit([UNTAGGED]))
        .otherwise(pl.col("tags"))
    )
    exploded = joined.explode("tag")
    return (
        exploded.group_by("tag")
        .agg(
            worlds=pl.col("name").n_unique().cast(pl.Int32),
            world_sessions=pl.col("sessions_started").sum().cast(pl.Int32),
            player_hours=pl.col("player_hours").sum().cast(pl.Float64),
        )
        .with_columns(
            share_of_hours=(pl.col("player_hours") / total) if total > 0 else pl.lit(None)
        )
        .sort(["player_hours", "tag"], descending=[True, False])
    )
