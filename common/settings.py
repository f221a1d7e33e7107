"""Process settings from the environment (pydantic-settings): typed, immutable,
and a value that is missing or does not parse stops the process with a message
naming the variable and what it expected."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Self

from pydantic import BeforeValidator, Field, ValidationError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from signing.keys import SigningKeys

# "ID:BASE64,..." (the first key mints), or keys already parsed.
Keys = Annotated[SigningKeys, NoDecode, BeforeValidator(SigningKeys.coerce)]


def env(variable: str, default: Any = ..., **constraints: Any) -> Any:
    """A field read from `variable`; constraints as pydantic's Field takes them (gt=0, ...)."""
    return Field(default, validation_alias=variable, **constraints)


class EnvSettings(BaseSettings):
    # Fields name their variable with validation_alias; tests build settings
    # by field name. An empty variable counts as unset, as a shell's `X=` does.
    model_config = SettingsConfigDict(
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
        env_ignore_empty=True,
        extra="ignore",
        case_sensitive=True,
        arbitrary_types_allowed=True,
    )
    # What to do about a required variable that is not set, by variable.
    missing_hints: ClassVar[dict[str, str]] = {}
    # Variables whose values never appear in a message (keys, passwords).
    secret_variables: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """From os.environ, or from `env` alone (tests)."""
        try:
            if env is None:
                return cls()
            return cls.model_validate({k: v for k, v in env.items() if v != ""})
        except ValidationError as error:
            raise SystemExit(cls.explain(error)) from None

    @classmethod
    def explain(cls, error: ValidationError) -> str:
        lines = []
        for problem in error.errors(include_url=False):
            variable = ".".join(str(part) for part in problem["loc"])
            if problem["type"] == "missing":
                hint = cls.missing_hints.get(variable)
                lines.append(f"{variable} is not set" + (f" ({hint})" if hint else ""))
            elif variable in cls.secret_variables:
                lines.append(f"{variable}: {_expected(problem)}")
            elif variable:
                lines.append(f"{variable}={_shown(problem['input'])}: {_expected(problem)}")
            else:
                lines.append(_expected(problem))
        return "settings: " + "; ".join(lines)


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else "?"


def _expected(problem: Any) -> str:
    message = str(problem["msg"])
    # pydantic says "Value error, <ours>" for a validator's ValueError.
    return message.removeprefix("Value error, ")
