"""Properties of the GraphQL error classifier (schema.error_convention): expected errors keep their code
and a camelCase field, anything else is masked and never shows its text."""

from __future__ import annotations

from graphql import GraphQLError
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.exc import IntegrityError, OperationalError

from app.errors import Conflict, DomainError, Forbidden, NotFound, Unauthenticated, Unavailable, ValidationFailed
from schema.error_convention import _INPUT_NAMES, ErrorConvention, camel, classify_exception

DOMAIN = [ValidationFailed, NotFound, Forbidden, Unauthenticated, Conflict, Unavailable]
snake = st.from_regex(r"[a-z][a-z0-9]{0,8}(_[a-z0-9]{1,8}){0,3}", fullmatch=True)


@given(cls=st.sampled_from(DOMAIN), message=st.text(max_size=80), field=st.none() | snake)
def test_expected_errors_keep_their_code_and_name_the_field_in_camel_case(
    cls: type[DomainError], message: str, field: str | None
) -> None:
    shaped = classify_exception(cls(message, field=field))
    assert shaped is not None
    text, ext = shaped
    assert ext["code"] == cls.code

    # Every input the message names reaches the client in camelCase (its own field and any other input).
    def inputs_in_camel_case(m: str) -> str:
        return _INPUT_NAMES.sub(lambda x: camel(x.group(1)), m)

    assert _INPUT_NAMES.search(text) is None
    if field:
        assert ext["field"] == camel(field) and "_" not in ext["field"]
        assert text == inputs_in_camel_case(message.replace(field, camel(field)))
    else:
        assert "field" not in ext and text == inputs_in_camel_case(message)


@given(
    exc_type=st.sampled_from([RuntimeError, ValueError, KeyError, TypeError, ZeroDivisionError, AssertionError]),
    secret=st.from_regex(r"secret-[A-Za-z0-9 ./:@]{4,40}", fullmatch=True),
    path=st.lists(st.sampled_from(["campaigns", "0", "title"]), min_size=1, max_size=3),
)
def test_unexpected_errors_are_masked_with_a_request_id(
    exc_type: type[Exception], secret: str, path: list[str]
) -> None:
    exc = exc_type(secret)
    assert classify_exception(exc) is None
    rewritten = ErrorConvention()._rewrite(GraphQLError(str(exc), path=path, original_error=exc), parsed=True)
    assert rewritten.message.startswith("Internal server error (request id ")
    assert rewritten.extensions is not None and rewritten.extensions["code"] == "INTERNAL_SERVER_ERROR"
    assert secret not in rewritten.message and secret not in str(rewritten.extensions)


@given(
    constraint=st.none() | snake,
    statement=st.from_regex(r"INSERT INTO [a-z_]{3,12} \(secret-[0-9]{3}\)", fullmatch=True),
)
def test_integrity_and_connection_errors_have_their_own_codes(constraint: str | None, statement: str) -> None:
    class Orig(Exception):
        pass

    cause = Exception()
    cause.constraint_name = constraint  # type: ignore[attr-defined]
    orig = Orig("duplicate key")
    orig.__cause__ = cause
    shaped = classify_exception(IntegrityError(statement, {}, orig))
    assert shaped is not None and shaped[1] == {"code": "CONFLICT"}
    assert shaped[0] == f"the change conflicts with stored data ({constraint or 'constraint'})"
    down = classify_exception(OperationalError(statement, {}, ConnectionRefusedError("refused")))
    assert down is not None and down[1] == {"code": "SERVICE_UNAVAILABLE"} and statement not in down[0]
