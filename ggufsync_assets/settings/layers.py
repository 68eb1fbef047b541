"""The configuration hierarchy: code defaults < config file < environment variables < command-line flags.

Each layer is read on its own (with pydantic-settings' sources), so every effective value can say
where it came from; the merged result is validated once, by the `Settings` model.
"""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_settings import EnvSettingsSource, YamlConfigSettingsSource
from pydantic_settings.exceptions import SettingsError

from ggufsync_assets.redaction import looks_like_token
from ggufsync_assets.settings.errors import (
    ConfigError,
    Problem,
    problems_from_validation,
    suggest,
)
from ggufsync_assets.settings.model import ENV_PREFIX, SECTIONS, Environment, Settings

CONFIG_DIR_VARIABLE = f"{ENV_PREFIX}CONFIG_DIR"
WEBHOOK_SECRET_VARIABLE = f"{ENV_PREFIX}WEBHOOK_SECRET"
# GGUFSYNC_ variables that are not settings keys (so they are not "unknown variables").
OTHER_VARIABLES = frozenset({CONFIG_DIR_VARIABLE, WEBHOOK_SECRET_VARIABLE})
ACTIVE_FILE_NAME = "sync-config.yaml"

# The user guide's own variable names, each standing for one key. The GGUFSYNC_ form of a key wins
# over these when both are set; among the token variables the first one set wins.
GUIDE_VARIABLES: dict[str, str] = {
    "SYNC_ENVIRONMENT": "environment",
    "SYNC_MODE": "sync_behavior.mode",
    "MAX_CONCURRENCY": "rate_limiting.max_concurrent_requests",
    "LOG_LEVEL": "log_level",
    "HF_ENDPOINT": "hub.endpoint",
}
TOKEN_VARIABLES = (f"{ENV_PREFIX}HUGGINGFACE_TOKEN", "HUGGINGFACE_TOKEN", "HF_TOKEN")
LOGIN_ORIGIN = "huggingface_hub login"
DEFAULT_ORIGIN = "default"


def config_dir() -> Path:
    return Path(os.environ.get(CONFIG_DIR_VARIABLE) or "config")


def environment_file(env: Environment | str, directory: Path | None = None) -> Path:
    return (directory or config_dir()) / f"sync-config-{Environment(env).value}.yaml"


def active_file(directory: Path | None = None) -> Path:
    return (directory or config_dir()) / ACTIVE_FILE_NAME


def _selected_environment(env: str | None, environ: Mapping[str, str]) -> str | None:
    """The environment named by `env` (--env), else by SYNC_ENVIRONMENT; None when neither names one."""
    selected = env or environ.get("SYNC_ENVIRONMENT") or None
    if selected is not None and selected not in {e.value for e in Environment}:
        allowed = ", ".join(e.value for e in Environment)
        raise ConfigError(
            [
                Problem(
                    "--env" if env else "env SYNC_ENVIRONMENT",
                    "environment",
                    f"must be one of {allowed}",
                    selected,
                )
            ]
        )
    return selected


def selected_file(env: str | None = None, directory: Path | None = None) -> Path:
    """The file `load_settings(env=env)` reads: the named environment's file (`env`, else
    SYNC_ENVIRONMENT), else the active file. An unknown environment name is a ConfigError."""
    selected = _selected_environment(env, os.environ)
    return environment_file(selected, directory) if selected else active_file(directory)


class _StrictLoader(yaml.SafeLoader):
    """A YAML loader that refuses duplicate keys: the last one silently winning hides mistakes."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}'", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


class StrictYamlSource(YamlConfigSettingsSource):
    """pydantic-settings' YAML source with duplicate-key refusal and a mapping-at-top check."""

    def _read_file(self, file_path: Path | Traversable) -> dict[str, Any]:
        # pydantic-settings may hand over any Traversable (a package resource), so open it through itself
        with file_path.open("rb") as raw:
            binary = gzip.GzipFile(fileobj=raw) if Path(file_path.name).suffix == ".gz" else raw
            with io.TextIOWrapper(binary, encoding="utf-8") as handle:
                data = yaml.load(handle, Loader=_StrictLoader)  # noqa: S506 - SafeLoader subclass
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ConfigError(
                [
                    Problem(
                        str(file_path),
                        "",
                        "the top level must be a mapping of keys",
                        show_value=False,
                    )
                ]
            )
        return data


def read_config_file(path: Path) -> dict[str, Any]:
    """A config file's own data (no defaults), with syntax errors turned into a ConfigError."""
    if not path.is_file():
        raise ConfigError([Problem(str(path), "", "file not found", show_value=False)])
    try:
        return dict(StrictYamlSource(Settings, yaml_file=path)())
    except yaml.YAMLError as exc:
        raise ConfigError(
            [Problem(str(path), "", f"not valid YAML: {exc}".replace("\n", " "), show_value=False)]
        ) from exc
    except (UnicodeDecodeError, gzip.BadGzipFile, EOFError) as exc:
        raise ConfigError(
            [Problem(str(path), "", "not a readable UTF-8 text file", show_value=False)]
        ) from exc


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'a': {'b': 1}} -> {'a.b': 1}; lists are leaves."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and (prefix or key in SECTIONS):
            flat.update(flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, value in flat.items():
        node = out
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


@dataclass
class Layer:
    """One level of the hierarchy: flat key paths to raw values, and who set each one."""

    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)

    def set(self, path: str, value: Any, origin: str) -> None:
        self.values[path] = value
        self.origins[path] = origin


def _secret_problems(data: Mapping[str, Any], source: str) -> list[Problem]:
    """Tokens may come only from the environment or a cached login, never from a file or a flag."""
    problems = []
    for path, value in flatten(data).items():
        if path == "huggingface_token" and value is not None:
            problems.append(
                Problem(
                    source,
                    path,
                    "a token must never be stored here; leave it null and set HUGGINGFACE_TOKEN "
                    "or HF_TOKEN in the environment (or log in with `hf auth login`)",
                    value,
                )
            )
            continue
        items = value if isinstance(value, list) else [value]
        if any(isinstance(item, str) and looks_like_token(item) for item in items):
            problems.append(
                Problem(
                    source,
                    path,
                    "looks like a Hugging Face token; secrets belong in the environment",
                    value,
                )
            )
    return problems


def known_variables() -> dict[str, str]:
    """GGUFSYNC_ variable name -> key path, for every key and whole section."""
    names = {f"{ENV_PREFIX}{name.upper()}": name for name in Settings.model_fields}
    for section, model in SECTIONS.items():
        names.update(
            {
                f"{ENV_PREFIX}{section.upper()}__{key.upper()}": f"{section}.{key}"
                for key in model.model_fields
            }
        )
    return names


def _environment_layer(environ: Mapping[str, str]) -> tuple[Layer, list[Problem]]:
    layer, problems = Layer(), []
    known = known_variables()
    for name in sorted(environ):
        upper = name.upper()
        if upper.startswith(ENV_PREFIX) and upper not in known and upper not in OTHER_VARIABLES:
            problems.append(
                Problem(f"env {name}", "", "unknown variable" + suggest(upper, known), show_value=False)
            )
    for variable, path in GUIDE_VARIABLES.items():
        if environ.get(variable):
            layer.set(path, environ[variable], f"env {variable}")
    try:
        data = EnvSettingsSource(Settings, env_prefix=ENV_PREFIX, env_nested_delimiter="__")()
    except SettingsError as exc:
        problems.append(
            Problem("environment", "", f"{exc}; lists and sections must be JSON", show_value=False)
        )
        data = {}
    data.pop("huggingface_token", None)
    for path, value in flatten(data).items():
        variable = f"{ENV_PREFIX}{path.replace('.', '__').upper()}"
        if variable not in known:  # a whole section given as JSON
            variable = f"{ENV_PREFIX}{path.split('.')[0].upper()}"
        layer.set(path, value, f"env {variable}")
    for variable in TOKEN_VARIABLES:
        if environ.get(variable):
            layer.set("huggingface_token", environ[variable], f"env {variable}")
            break
    return layer, problems


def _login_token() -> str | None:
    from huggingface_hub import get_token  # noqa: PLC0415 - only needed when no variable is set

    return get_token()


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    origins: dict[str, str]
    config_file: Path | None

    def origin(self, path: str) -> str:
        return self.origins.get(path, DEFAULT_ORIGIN)


def load_settings(
    *,
    env: str | None = None,
    config_file: Path | None = None,
    flags: Mapping[str, Any] | None = None,
    use_environment: bool = True,
    directory: Path | None = None,
) -> LoadedSettings:
    """Build the effective settings.

    env: an environment name (or SYNC_ENVIRONMENT) selects config/sync-config-<env>.yaml;
    otherwise config/sync-config.yaml, the active file. config_file names a file directly.
    flags: dotted key paths from the command line, the highest layer.
    use_environment=False reads a file on its own (defaults + file), as deploy and restore check it.
    """
    environ = os.environ if use_environment else {}
    selected = _selected_environment(env, environ)
    problems: list[Problem] = []
    path = config_file or (environment_file(selected, directory) if selected else active_file(directory))

    file_data = read_config_file(path)
    file_layer = Layer()
    for key, value in flatten(file_data).items():
        file_layer.set(key, value, str(path))
    problems += _secret_problems(file_data, str(path))
    declared = file_data.get("environment")
    if selected and declared is not None and declared != selected:
        problems.append(
            Problem(
                str(path),
                "environment",
                f"this file is for '{declared}', but '{selected}' was selected",
                declared,
            )
        )

    env_layer, env_problems = _environment_layer(environ) if use_environment else (Layer(), [])
    problems += env_problems

    flag_layer = Layer()
    if env:
        flag_layer.set("environment", env, "flag --env")
    for key, value in (flags or {}).items():
        flag_layer.set(key, value, f"flag {key}")
    problems += _secret_problems(nest(flag_layer.values), "command line")

    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for layer in (file_layer, env_layer, flag_layer):
        merged.update(layer.values)
        origins.update(layer.origins)
    if use_environment and merged.get("huggingface_token") is None:
        token = _login_token()
        if token:
            merged["huggingface_token"] = token
            origins["huggingface_token"] = LOGIN_ORIGIN
    try:
        settings = Settings(**nest(merged))
    except ValidationError as exc:
        problems += problems_from_validation(exc, origins)
    if problems:
        raise ConfigError(problems)
    return LoadedSettings(settings, origins, path)
