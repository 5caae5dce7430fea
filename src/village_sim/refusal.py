"""Refusals: errors about a bad input that can be said in any language.

A :class:`Refusal` is made of its kind, a message of the catalogs (``error.unknown_regime`` in
``src/village_sim/i18n/{en,zh,vi}.toml``), and the fields that fill it: the option or key, the
value as given, what is allowed. ``str(error)`` is the English message, the English catalog's
template filled with the fields, so that English stays one wording for the command line, the
API and the tests; the command line says the same refusal in the language of ``--lang``
(:func:`village_sim.cli_common.say`). A new kind of refusal is one message in each catalog
and one ``raise``::

    raise Refusal("error.unknown_regime", value=name, hint=did_you_mean(name, REGIMES),
                  allowed=", ".join(REGIMES))

Fields may be plain values (the English template may show them with ``!r``), or parts said in
the reader's language too: a :class:`Phrase` (a shorter message of the catalogs), a
:class:`Number` (digits in the reader's convention), :class:`Quoted` names, an
:class:`Allowed` range of a parameter, or another exception (a refusal inside a refusal, e.g.
a bad value inside a sweep spec).

Like the scikit-learn message format of :mod:`village_sim.params` (whose
:class:`~village_sim.params.ParameterError` is the refusal of one parameter value), every
message names what was given and what is allowed.

This module imports nothing of the package, so that every module down to the parameter schema
can raise refusals (the layers contract in pyproject.toml); it reads the English catalog as a
data file.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["Allowed", "Number", "Phrase", "Quoted", "Refusal", "did_you_mean", "english"]


@cache
def _english() -> dict[str, str]:
    text = resources.files("village_sim").joinpath("i18n", "en.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    return {f"{section}.{name}": value for section in ("error", "phrase")
            for name, value in data.get(section, {}).items()}


def english(key: str) -> str:
    """The English template of a refusal's kind or phrase (``error.*``, ``phrase.*``).

    Raises:
        KeyError: for a key that is not in ``en.toml`` (add it to all three catalogs).
    """
    try:
        return _english()[key]
    except KeyError:
        raise KeyError(f"no message {key!r} (add it to src/village_sim/i18n/*.toml)") from None


def _in_english(value: Any) -> Any:
    """A field for the English template: parts said in words, other values as they are."""
    if isinstance(value, Phrase | Number | Quoted | Allowed | BaseException):
        return str(value)
    return value


def fill(template: str, fields: Mapping[str, Any], show: Any = _in_english) -> str:
    """``template`` with its ``{fields}``, each value passed through ``show`` first."""
    return template.format(**{name: show(value) for name, value in fields.items()})


class Phrase:
    """A part of a message: a message of the catalogs (``phrase.*``) and its fields.

    Example: ``did_you_mean("qouta", names)`` is ``Phrase("phrase.did_you_mean", name="quota")``,
    in English ``; did you mean 'quota'?``.
    """

    __slots__ = ("fields", "key")

    def __init__(self, key: str, /, **fields: Any):
        english(key)  # a missing message fails where it is raised, not when it is shown
        self.key = key
        self.fields = fields

    def __str__(self) -> str:
        return fill(english(self.key), self.fields)

    def __repr__(self) -> str:
        return f"Phrase({self.key!r}, **{self.fields!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_phrase, (self.key, self.fields))


def _phrase(key: str, fields: dict[str, Any]) -> Phrase:
    return Phrase(key, **fields)


class Number:
    """A number in the reader's convention.

    ``Number(5000, ",")`` is 5,000 in English and Chinese, 5.000 in Vietnamese.
    """

    __slots__ = ("spec", "value")

    def __init__(self, value: float, spec: str = ""):
        self.value = value
        self.spec = spec

    def __str__(self) -> str:
        return format(self.value, self.spec)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Number, (self.value, self.spec))


class Quoted(tuple[Any, ...]):
    """Names as given, each quoted: ``'a', 'b'`` in English, “a”, “b” in Chinese and Vietnamese."""

    def __str__(self) -> str:
        return ", ".join(map(repr, self))


class Allowed:
    """What a parameter allows, in the reader's words.

    English: the schema's (``a number in [0, 1]``); another language:
    :meth:`village_sim.i18n.Catalog.allowed`.
    """

    __slots__ = ("english", "name")

    def __init__(self, name: str, english: str):
        self.name = name
        self.english = english

    def __str__(self) -> str:
        return self.english

    def __reduce__(self) -> tuple[Any, ...]:
        return (Allowed, (self.name, self.english))


def did_you_mean(name: Any, choices: Iterable[str], cutoff: float = 0.6) -> Phrase | str:
    """``; did you mean 'closest'?`` for the closest of ``choices``, or ``""`` when none is close.

    Args:
        name: What was given.
        choices: The allowed names.
        cutoff: Similarity needed (:func:`difflib.get_close_matches`).
    """
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=cutoff)
    return Phrase("phrase.did_you_mean", name=close[0]) if close else ""


class Refusal(ValueError):
    """A bad input, said in English by ``str()`` and in any language by the command line.

    Args:
        kind: A message of the catalogs (``"error.unknown_regime"``); or, for a message not yet
            in the catalogs, the English message itself (then said in English in every
            language); or an exception this refusal puts ``at`` a place (its own message,
            prefixed).
        at: Where the input came from, kept as it is in every language and put before the
            message with ``": "`` (an option ``--set quota=2``, a file, a key of a file).
        **fields: The values that fill the message.

    Attributes:
        kind: The catalog key, or ``None`` (a message given in English, or a prefixed error).
        fields: The fields (``problem`` holds the prefixed error).
        at: The prefix, or ``""``.
        message: The English message without the prefix.
    """

    def __init__(self, kind: str | BaseException, /, *, at: str = "", **fields: Any):
        if isinstance(kind, BaseException):
            self.kind: str | None = None
            fields = {"problem": kind}
            self.message = str(kind)
        elif kind.startswith("error."):
            self.kind = kind
            self.message = fill(english(kind), fields)
        else:
            self.kind = None
            self.message = kind
        self.fields = fields
        self.at = at
        super().__init__(f"{at}: {self.message}" if at else self.message)

    @classmethod
    def within(cls, at: str, problem: BaseException) -> Refusal:
        """``problem`` (any exception) put at ``at``: ``AT: PROBLEM`` in every language."""
        return cls(problem, at=at)

    def __reduce__(self) -> tuple[Any, ...]:  # intact across processes (sweep workers)
        kind = self.kind if self.kind is not None else self.fields.get("problem", self.message)
        return (_refusal, (type(self), kind, self.at, self.fields))


def _refusal(cls: type[Refusal], kind: Any, at: str, fields: dict[str, Any]) -> Refusal:
    if isinstance(kind, BaseException):
        return cls(kind, at=at)
    return cls(kind, at=at, **fields)
