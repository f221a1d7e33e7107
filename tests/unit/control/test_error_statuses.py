"""Which gRPC status a failure becomes: the database being away is a retry, a bug is not."""

from __future__ import annotations

import asyncpg
import grpc
import pytest

from control.api.errors import status_for
from control.domain.errors import InvalidArgument


def postgres_error(cls: type[asyncpg.PostgresError], message: str) -> asyncpg.PostgresError:
    return cls.new({"M": message, "C": cls.sqlstate})  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
        postgres_error(
            asyncpg.exceptions.CannotConnectNowError, "the database system is starting up"
        ),
        postgres_error(asyncpg.exceptions.AdminShutdownError, "terminating connection"),
        postgres_error(asyncpg.exceptions.TooManyConnectionsError, "too many clients already"),
        postgres_error(
            asyncpg.ObjectNotInPrerequisiteStateError,
            'database "shop" is not currently accepting connections',
        ),
    ],
)
def test_the_database_away_is_unavailable(error: BaseException) -> None:
    assert status_for(error) is grpc.StatusCode.UNAVAILABLE


def raised_while_handling(error: Exception, lost: BaseException) -> Exception:
    try:
        try:
            raise lost
        except BaseException:
            raise error  # noqa: B904 (the implicit context is the point)
    except Exception as raised:
        return raised


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.InterfaceError("cannot perform operation: connection is closed"),
        raised_while_handling(
            asyncpg.InterfaceError(
                "cannot call Transaction.rollback(): the underlying connection is closed"
            ),
            ConnectionResetError(104, "Connection reset by peer"),
        ),
        raised_while_handling(
            KeyError("raised by a handler of the loss"),
            postgres_error(asyncpg.exceptions.AdminShutdownError, "terminating connection"),
        ),
        # A pooled connection terminated while idle, used before its close arrived.
        asyncpg.exceptions.InternalClientError(
            "cannot switch to state 15; another operation (2) is in progress"
        ),
    ],
)
def test_an_error_raised_over_a_lost_connection_is_unavailable(error: BaseException) -> None:
    assert status_for(error) is grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize(
    "error",
    [
        postgres_error(asyncpg.ObjectNotInPrerequisiteStateError, "cannot refresh concurrently"),
        postgres_error(asyncpg.exceptions.UndefinedColumnError, 'column "x" does not exist'),
        postgres_error(asyncpg.exceptions.QueryCanceledError, "canceling statement"),
        KeyError("a bug"),
        asyncpg.InterfaceError("the number of query arguments cannot exceed 32767"),
        raised_while_handling(KeyError("a bug"), KeyError("another bug")),
        # One connection used by two queries at once.
        asyncpg.exceptions.InternalClientError(
            "cannot switch to state 15; another operation (12) is in progress"
        ),
    ],
)
def test_anything_else_unexpected_is_internal(error: BaseException) -> None:
    assert status_for(error) is grpc.StatusCode.INTERNAL


def test_domain_errors_keep_their_status() -> None:
    assert status_for(InvalidArgument("name: required")) is grpc.StatusCode.INVALID_ARGUMENT
