"""Domain errors. Each class is one caller-facing status; the gRPC layer maps
them with a single table (control/api/errors.py). Messages name the field."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a caller can cause and fix."""


class InvalidArgument(DomainError):
    """The request itself is malformed: a missing or out-of-range field."""

    @classmethod
    def field(cls, name: str, why: str) -> InvalidArgument:
        return cls(f"{name}: {why}")


class NotFound(DomainError):
    """The request names something that does not exist (in the caller's account)."""

    @classmethod
    def account(cls, account_id: int) -> NotFound:
        return cls(f"account_id: account {account_id} not found")

    @classmethod
    def template(cls, account_id: int, template_id: int) -> NotFound:
        return cls(f"template_id: template {template_id} not found in account {account_id}")

    @classmethod
    def token(cls) -> NotFound:
        return cls("token: no such Smart URL")


class FailedPrecondition(DomainError):
    """The request is well formed but the account is not in a state to serve it."""

    @classmethod
    def smart_urls_disabled(cls, account_id: int) -> FailedPrecondition:
        return cls(
            f"account_id: Smart URLs are not enabled for account {account_id}"
            " (an admin turns them on with SetSmartUrlsEnabled)"
        )

    @classmethod
    def no_share_domain(cls, account_id: int) -> FailedPrecondition:
        return cls(
            f"account_id: account {account_id} has no share-link domain"
            " (set one with SetShareDomain)"
        )


class AlreadyExists(DomainError):
    """The idempotency key was used before with different content."""


class Unauthenticated(DomainError):
    """The call carries no usable API key: none, malformed, unknown or revoked.
    Messages name the key id at most, never the secret."""

    @classmethod
    def missing(cls) -> Unauthenticated:
        return cls("authorization: no API key (send metadata 'authorization: Bearer su_...')")

    @classmethod
    def malformed(cls, why: str) -> Unauthenticated:
        return cls(f"authorization: malformed API key ({why})")

    @classmethod
    def unknown(cls, key_id: str) -> Unauthenticated:
        return cls(f"authorization: unknown API key {key_id}")

    @classmethod
    def revoked(cls, key_id: str) -> Unauthenticated:
        return cls(f"authorization: API key {key_id} was revoked")


class PermissionDenied(DomainError):
    """The API key is valid, but its role or its account does not allow the call."""

    @classmethod
    def role(cls, role: str, method: str) -> PermissionDenied:
        return cls(f"role {role} may not call {method}")

    @classmethod
    def account(cls, role: str, key_account: int | None, account_id: int) -> PermissionDenied:
        return cls(
            f"account_id: a {role} key of account {key_account} may not act on account {account_id}"
        )
