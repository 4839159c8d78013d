"""Directed acyclic graphs of service steps: validation and ordering, no Django.

A template is a set of step keys, each with the keys it depends on. ``dag_check`` names every
problem (unknown dependency, self-dependency, cycle) so admin can show them at once;
``topological_order`` gives a stable order (Kahn's algorithm, ties broken by declaration order)
used to number steps and to render timelines.
"""

from collections.abc import Mapping, Sequence


class DagError(ValueError):
    """The graph is not a valid DAG; ``problems`` lists every reason in plain words."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def parse_keys(text: str) -> list[str]:
    """``"a, b ,c"`` -> ``["a", "b", "c"]`` (blank entries dropped, order kept, no duplicates)."""
    seen: list[str] = []
    for part in (text or "").replace(";", ",").split(","):
        key = part.strip()
        if key and key not in seen:
            seen.append(key)
    return seen


def _find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    """Return one cycle as a list of keys (first key repeated at the end), or None."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = grey
        stack.append(node)
        for upstream in graph.get(node, ()):
            if upstream not in colour:
                continue
            if colour[upstream] == grey:
                return [*stack[stack.index(upstream) :], upstream]
            if colour[upstream] == white:
                found = visit(upstream)
                if found:
                    return found
        stack.pop()
        colour[node] = black
        return None

    for node in graph:
        if colour[node] == white:
            found = visit(node)
            if found:
                return found
    return None


def dag_check(graph: Mapping[str, Sequence[str]]) -> None:
    """Raise ``DagError`` unless every dependency is a known key and there is no cycle.

    ``graph`` maps each step key to the keys it depends on (its upstream steps).
    """
    problems: list[str] = []
    for key, upstream in graph.items():
        for dep in upstream:
            if dep == key:
                problems.append(f"step '{key}' depends on itself")
            elif dep not in graph:
                problems.append(f"step '{key}' depends on unknown step '{dep}'")
    if not problems:
        cycle = _find_cycle(graph)
        if cycle:
            problems.append("cycle: " + " <- ".join(cycle))
    if problems:
        raise DagError(problems)


def topological_order(graph: Mapping[str, Sequence[str]]) -> list[str]:
    """Keys with every upstream before its downstream; declaration order breaks ties."""
    dag_check(graph)
    position = {key: index for index, key in enumerate(graph)}
    remaining = {key: set(upstream) for key, upstream in graph.items()}
    ordered: list[str] = []
    while remaining:
        ready = sorted((k for k, deps in remaining.items() if not deps), key=position.__getitem__)
        key = ready[0]
        ordered.append(key)
        del remaining[key]
        for deps in remaining.values():
            deps.discard(key)
    return ordered


def descendants(graph: Mapping[str, Sequence[str]], key: str) -> set[str]:
    """Every step that depends, directly or not, on ``key``."""
    downstream: dict[str, set[str]] = {k: set() for k in graph}
    for node, upstream in graph.items():
        for dep in upstream:
            downstream.setdefault(dep, set()).add(node)
    found: set[str] = set()
    todo = [key]
    while todo:
        for child in downstream.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found
