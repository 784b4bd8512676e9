"""A rule step's own condition (its sources and ``where``) over a plain record.

The compiler turns the same condition into the step's SQL predicate; this is its Python twin,
for the place that decides before Flink SQL: which normalized events the job keeps at all
(:mod:`seamwatch.rules.relevance`). It reads the condition as SQL does: a field matches when it
holds one of the allowed values (exactly: case and spaces count), and a null field matches
nothing. ``tests/test_condition_parity.py`` runs this and the compiled predicate of every step
of ``rules/`` over the same generated events and asserts they accept the same ones.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

Scalar = str | bool | int | float


@dataclass(frozen=True)
class StepCondition:
    sources: frozenset[str] | None  # None: any source
    where: tuple[tuple[str, frozenset[Scalar]], ...]  # field -> allowed values

    @classmethod
    def of(
        cls,
        sources: Iterable[str] | None,
        where: Mapping[str, Scalar | list[Scalar]],
        skip: Collection[str] = (),
    ) -> StepCondition:
        """The condition of a step with these ``sources`` and ``where``; fields in ``skip`` are
        left out (they are not known yet where the condition is evaluated)."""
        return cls(
            frozenset(sources) if sources else None,
            tuple(
                (name, frozenset(value if isinstance(value, list) else [value]))
                for name, value in where.items()
                if name not in skip
            ),
        )

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.where)

    def matches(self, values: Mapping[str, object]) -> bool:
        """``values`` holds ``source`` and at least :attr:`fields`."""
        if self.sources is not None and values["source"] not in self.sources:
            return False
        for name, allowed in self.where:
            value = values[name]
            if value is None or value not in allowed:
                return False
        return True
