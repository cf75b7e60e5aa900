"""Operation limits: depth, aliases, tokens, cost and page size, refused before anything runs.

The limits are graphql-core validation rules created ONCE, when the schema is built. Strawberry's
ValidationCache keys its LRU cache on (schema, document, rules): rule classes made afresh per request
(as Strawberry's own limiter extensions do when passed as factories) are new objects every time, so
every request would miss. Here the per-request extension only appends the same tuple of classes and sets
the same parser option, so both the parser cache and the validation cache keep hitting.

Cost: every selected field costs 1, times the number of items its parents may return. A list field's
multiplier is its page-size argument (`limit` or `first`): the literal value, a variable's default, or —
for a variable without default — the page-size cap (the worst case the resolver would accept); a
connection's page argument applies to its list child (`nodes`). A list field without a page argument
counts `default_list_size` items. Introspection fields (`__schema`, `__type`) are not counted; switch
introspection off in production instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from starlette.requests import Request
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

PAGE_ARGUMENTS = ("limit", "first")


@dataclass(frozen=True)
class QueryLimits:
    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    max_cost: int = 10000
    max_page_size: int = 100
    default_list_size: int = 10

    @classmethod
    def from_settings(cls, settings: Any) -> QueryLimits:
        return cls(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_query_aliases,
            max_tokens=settings.max_query_tokens,
            max_cost=settings.max_query_cost,
            max_page_size=settings.max_page_size,
            default_list_size=settings.query_cost_default_list_size,
        )


def limit_error(message: str, code: str, nodes: Any = None, **extra: Any) -> GraphQLError:
    return GraphQLError(message, nodes, extensions={"code": code, **extra})


@dataclass
class _Measure:
    depth: int = 0
    cost: int = 0


def build_rules(limits: QueryLimits, *, introspection: bool = True) -> tuple[type[ValidationRule], ...]:
    """The validation rules for these limits: call once per schema and reuse the tuple."""

    class OperationLimitsRule(ValidationRule):
        def enter_document(self, node: Any, *_args: Any) -> None:
            aliases = sum(1 for f in _walk_fields(node) if f.alias is not None)
            if aliases > limits.max_aliases:
                self.report_error(
                    limit_error(
                        f"the document uses {aliases} aliases; at most {limits.max_aliases} are allowed",
                        "TOO_MANY_ALIASES",
                        limit=limits.max_aliases,
                    )
                )

        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> bool:
            root = self.context.schema.get_root_type(node.operation)
            if root is None:
                return False  # another rule reports the unknown operation type
            defaults = _variable_defaults(node)
            measure = _Measure()
            self._measure(node.selection_set, root, 1, None, 1, measure, defaults, frozenset())
            name = f"operation '{node.name.value}'" if node.name else "the operation"
            if measure.depth > limits.max_depth:
                self.report_error(
                    limit_error(
                        f"{name} is {measure.depth} levels deep; at most {limits.max_depth} are allowed",
                        "QUERY_TOO_DEEP",
                        node,
                        depth=measure.depth,
                        limit=limits.max_depth,
                    )
                )
            if measure.cost > limits.max_cost:
                self.report_error(
                    limit_error(
                        f"{name} costs {measure.cost} (fields × requested page sizes); "
                        f"at most {limits.max_cost} is allowed: request fewer fields or smaller pages",
                        "QUERY_TOO_COSTLY",
                        node,
                        cost=measure.cost,
                        limit=limits.max_cost,
                    )
                )
            return False  # measured here; nothing to do below

        def _measure(
            self,
            selection_set: SelectionSetNode | None,
            parent: GraphQLNamedType,
            multiplier: int,
            pending: int | None,
            depth: int,
            out: _Measure,
            defaults: dict[str, int],
            fragments_seen: frozenset[str],
        ) -> None:
            if selection_set is None:
                return
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    name = selection.name.value
                    if name.startswith("__"):
                        continue
                    out.depth = max(out.depth, depth)
                    out.cost += multiplier
                    field = _field(parent, name)
                    if field is None or selection.selection_set is None:
                        continue
                    page = self._page_size(selection, defaults)
                    is_list = is_list_type(get_nullable_type(field.type))
                    child_mult, child_pending = multiplier, None
                    if is_list:
                        child_mult = multiplier * (page or pending or limits.default_list_size)
                    elif page is not None:
                        child_pending = page  # a connection: its list child returns `page` items
                    self._measure(
                        selection.selection_set,
                        get_named_type(field.type),
                        child_mult,
                        child_pending,
                        depth + 1,
                        out,
                        defaults,
                        fragments_seen,
                    )
                elif isinstance(selection, InlineFragmentNode):
                    target = parent
                    if selection.type_condition is not None:
                        target = self.context.schema.get_type(selection.type_condition.name.value) or parent
                    self._measure(
                        selection.selection_set, target, multiplier, pending, depth, out, defaults, fragments_seen
                    )
                elif isinstance(selection, FragmentSpreadNode):
                    fname = selection.name.value
                    fragment = self.context.get_fragment(fname)
                    if fragment is None or fname in fragments_seen:
                        continue  # unknown or cyclic: other rules report it
                    target = self.context.schema.get_type(fragment.type_condition.name.value) or parent
                    self._measure(
                        fragment.selection_set,
                        target,
                        multiplier,
                        pending,
                        depth,
                        out,
                        defaults,
                        fragments_seen | {fname},
                    )

        def _page_size(self, node: FieldNode, defaults: dict[str, int]) -> int | None:
            for arg in node.arguments or ():
                if arg.name.value not in PAGE_ARGUMENTS:
                    continue
                value = arg.value
                if isinstance(value, IntValueNode):
                    requested = int(value.value)
                    if requested < 1 or requested > limits.max_page_size:
                        self.report_error(
                            limit_error(
                                f"{node.name.value}({arg.name.value}:) must be between 1 and "
                                f"{limits.max_page_size}, got {requested}",
                                "VALIDATION_ERROR",
                                arg,
                                field=arg.name.value,
                            )
                        )
                        return limits.max_page_size
                    return requested
                if isinstance(value, VariableNode):
                    return defaults.get(value.name.value, limits.max_page_size)
                return limits.max_page_size
            return None

    rules: list[type[ValidationRule]] = [OperationLimitsRule]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return tuple(rules)


def _field(parent: GraphQLNamedType, name: str) -> GraphQLField | None:
    if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
        return parent.fields.get(name)
    return None


def _variable_defaults(node: OperationDefinitionNode) -> dict[str, int]:
    out = {}
    for definition in node.variable_definitions or ():
        if isinstance(definition.default_value, IntValueNode):
            out[definition.variable.name.value] = max(1, int(definition.default_value.value))
    return out


def _walk_fields(node: Any) -> Iterator[FieldNode]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, FieldNode):
            yield current
        for key in current.keys:
            if key == "loc":
                continue
            value = getattr(current, key, None)
            if isinstance(value, (list, tuple)):
                stack.extend(v for v in value if hasattr(v, "keys"))
            elif value is not None and hasattr(value, "keys") and not isinstance(value, str):
                stack.append(value)


class OperationLimits(SchemaExtension):
    """Per request: add the prebuilt rules and the parser's token limit (constant objects, so caches hit)."""

    def __init__(self, rules: tuple[type[ValidationRule], ...], parse_options: dict[str, Any]) -> None:
        super().__init__()
        self.rules = rules
        self.parse_options = parse_options

    def on_operation(self) -> Iterator[None]:
        ec = self.execution_context
        ec.validation_rules = ec.validation_rules + self.rules
        ec.parse_options.update(self.parse_options)  # type: ignore[typeddict-item]
        if isinstance(getattr(ec.context, "request", None), Request):
            # Subscriptions are served over websockets only; over HTTP they would "execute" as a query and
            # fail deep inside. Strawberry then refuses the operation type as a request error (HTTP 400).
            ec.allowed_operations = set(ec.allowed_operations) - {OperationType.SUBSCRIPTION}
        yield


def limits_extension(limits: QueryLimits, *, introspection: bool = True) -> Any:
    """A factory for Schema(extensions=[...]): builds the rules now, a cheap extension per request."""
    rules = build_rules(limits, introspection=introspection)
    # max_tokens counts comments too, so a document padded with comments is bounded as well.
    parse_options = {"max_tokens": limits.max_tokens}

    def factory() -> OperationLimits:
        return OperationLimits(rules, parse_options)

    factory.rules = rules  # type: ignore[attr-defined]
    return factory
