"""README "Running in production": every configuration snippet and command line works as written.

The section marks each one with `<!-- production-snippet: NAME -->` just above its fenced block, and
these tests read them from the README itself, so the page cannot drift from what Dagster and ggufsync
accept. The instance snippet is checked against Dagster's own instance schema (which holds the
Postgres storage's schema, the one `dagster-postgres` loads with), so nothing connects to Postgres;
nothing reaches the Hub and no service is started.
"""

from __future__ import annotations

import copy
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import dagster as dg
import pytest
import yaml
from click.testing import CliRunner
from dagster._cli import cli as dagster_cli
from dagster._config import process_config
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.instance.config import dagster_instance_config
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.config import pg_config
from dagster._daemon.cli import cli as daemon_cli
from dagster_webserver.cli import cli as webserver_cli

from ggufsync_assets.cli.main import build_parser, main
from ggufsync_assets.config_deploy.store import ConfigStore
from ggufsync_assets.defs.event_log import BATCH_SIZE_VARIABLE, PLANNED_EVENTS_VARIABLE
from ggufsync_assets.defs.instance import INSTANCE_YAML
from ggufsync_assets.defs.tags import SYNC_TAG
from ggufsync_assets.settings import load_settings
from ggufsync_assets.settings.layers import (
    CONFIG_DIR_VARIABLE,
    GUIDE_VARIABLES,
    TOKEN_VARIABLES,
    known_variables,
)
from ggufsync_tests.configuration.conftest import Run

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
HEADING = "## Running in production"
MARKER = re.compile(r"<!-- production-snippet: (?P<name>\S+) -->\n```(?P<lang>\w+)\n(?P<body>.*?)```", re.S)
FENCE = re.compile(r"^```(?P<lang>\w*)\n(?P<body>.*?)^```", re.S | re.M)
CONFIG_LANGUAGES = {"yaml", "yml", "bash", "sh", "shell", "toml", "ini", "json", "dotenv"}
"""Fenced blocks a reader would paste as configuration or run; each must carry a marker."""

INSTANCE, SETTINGS, ENVIRONMENT, COMMANDS = (
    "dagster.yaml",
    "sync-config-production.yaml",
    "environment",
    "commands",
)
DAGSTER_VARIABLES = {"DAGSTER_HOME", BATCH_SIZE_VARIABLE, PLANNED_EVENTS_VARIABLE}
"""Variables Dagster itself reads that the section may set."""
DAGSTER_COMMANDS: dict[str, click.Command] = {
    "dagster": dagster_cli,
    "dagster-daemon": daemon_cli,
    "dagster-webserver": webserver_cli,
}
"""The console scripts the section runs, as the click commands behind them."""


def section() -> str:
    text = README.read_text()
    start = text.index(HEADING)
    end = text.find("\n## ", start + len(HEADING))
    return text[start : end if end != -1 else len(text)]


def snippets() -> dict[str, str]:
    """Marked block name -> its text."""
    return {m["name"]: m["body"] for m in MARKER.finditer(section())}


def instance_config() -> dict[str, Any]:
    data = yaml.safe_load(snippets()[INSTANCE])
    assert isinstance(data, dict)
    return data


def env_sources(node: Any) -> Iterator[str]:
    """The variables an instance config reads through Dagster's `env:` form."""
    if isinstance(node, dict):
        if set(node) == {"env"}:
            yield node["env"]
        else:
            for value in node.values():
                yield from env_sources(value)
    elif isinstance(node, list):
        for item in node:
            yield from env_sources(item)


def key_paths(node: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every mapping key of a YAML document, as the path to it (list positions included)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from key_paths(value, (*path, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from key_paths(item, (*path, index))


def misspell(config: dict[str, Any], path: tuple[str | int, ...]) -> dict[str, Any]:
    """A copy with the key at `path` losing its next-to-last letter, as a typo would."""
    changed = copy.deepcopy(config)
    parent: Any = changed
    for step in path[:-1]:
        parent = parent[step]
    key = str(path[-1])
    parent[key[:-2] + key[-1]] = parent.pop(key)
    return changed


def exported(block: str) -> dict[str, str]:
    """`export NAME=value ...` lines of a shell block -> {NAME: value as written}."""
    names: dict[str, str] = {}
    for line in block.splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["export"]:
            for word in words[1:]:
                name, _, value = word.partition("=")
                names[name] = value
    return names


def command_lines(program: str) -> list[list[str]]:
    """The arguments of each line of the commands block that runs `program`."""
    lines = [shlex.split(line, comments=True) for line in snippets()[COMMANDS].splitlines()]
    return [words[1:] for words in lines if words[:1] == [program]]


def write_instance(home: Path, config: dict[str, Any]) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return home


@pytest.fixture
def postgres_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Stand-in values for every variable the instance snippet reads."""
    values = {
        name: "5432" if name.endswith("PORT") else f"dummy-{name.lower()}"
        for name in env_sources(instance_config())
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


# ----- the section ------------------------------------------------------------------------------


def test_the_section_marks_the_instance_the_settings_the_environment_and_the_commands() -> None:
    assert set(snippets()) == {INSTANCE, SETTINGS, ENVIRONMENT, COMMANDS}


def test_every_configuration_or_shell_block_in_the_section_is_marked_for_these_tests() -> None:
    marked = set(snippets().values())
    unmarked = [
        m["body"]
        for m in FENCE.finditer(section())
        if m["lang"] in CONFIG_LANGUAGES and m["body"] not in marked
    ]
    assert unmarked == []


# ----- the Dagster instance on Postgres ---------------------------------------------------------


def test_the_instance_snippet_is_valid_dagster_instance_config(
    tmp_path: Path, postgres_env: dict[str, str]
) -> None:
    config, custom_class = dagster_instance_config(str(write_instance(tmp_path, instance_config())))
    assert custom_class is None
    assert set(config) >= set(instance_config())


@pytest.mark.parametrize(
    "path", list(key_paths(instance_config())), ids=lambda p: ".".join(str(step) for step in p)
)
def test_a_misspelt_key_in_the_instance_snippet_is_refused(
    tmp_path: Path, postgres_env: dict[str, str], path: tuple[str | int, ...]
) -> None:
    home = write_instance(tmp_path, misspell(instance_config(), path))
    with pytest.raises(DagsterInvalidConfigError):
        dagster_instance_config(str(home))


def test_the_postgres_connection_loads_with_every_parameter_from_the_environment(
    postgres_env: dict[str, str],
) -> None:
    """`pg_config()` is the schema dagster-postgres's storages load their config with."""
    loaded = process_config(pg_config(), instance_config()["storage"]["postgres"])
    assert loaded.success, loaded.errors
    database = loaded.value["postgres_db"]
    assert database["hostname"] == postgres_env["DAGSTER_PG_HOST"]
    assert database["password"] == postgres_env["DAGSTER_PG_PASSWORD"]
    assert database["port"] == 5432


def test_the_instance_snippet_holds_no_connection_parameter_itself() -> None:
    database = instance_config()["storage"]["postgres"]["postgres_db"]
    assert all(isinstance(value, dict) and set(value) == {"env"} for value in database.values())


def test_runs_events_and_schedules_are_stored_by_dagster_postgres(tmp_path: Path) -> None:
    ref = InstanceRef.from_dir(str(write_instance(tmp_path, instance_config())))
    storages = [ref.storage_data, ref.run_storage_data, ref.event_storage_data, ref.schedule_storage_data]
    assert {s.module_name for s in storages if s is not None} == {"dagster_postgres"}
    assert ref.event_storage_data is not None
    assert ref.event_storage_data.class_name == "PostgresEventLogStorage"


def test_the_run_queue_launches_one_ggufsync_sync_at_a_time(tmp_path: Path) -> None:
    """The same settings on a SQLite instance, so an instance can be opened without Postgres."""
    config = {key: value for key, value in instance_config().items() if key != "storage"}
    with dg.DagsterInstance.from_config(str(write_instance(tmp_path / "home", config))) as instance:
        queue = instance.get_concurrency_config().run_queue_config
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    assert queue is not None
    assert queue.tag_concurrency_limits == [{"key": SYNC_TAG, "limit": 1}]


def test_the_instance_snippet_keeps_the_log_capture_and_telemetry_of_ggufsyncs_own_instance() -> None:
    own = yaml.safe_load(INSTANCE_YAML.format(event_logs='"/home"'))
    for block in ("python_logs", "telemetry"):
        assert instance_config()[block] == own[block]


# ----- the environment and the token ------------------------------------------------------------


def test_the_environment_sets_only_variables_ggufsync_or_dagster_read() -> None:
    read = (
        set(known_variables())
        | set(GUIDE_VARIABLES)
        | set(TOKEN_VARIABLES)
        | {CONFIG_DIR_VARIABLE}
        | DAGSTER_VARIABLES
        | set(env_sources(instance_config()))
    )
    assert set(exported(snippets()[ENVIRONMENT])) <= read


def test_the_environment_sets_every_variable_the_instance_snippet_reads() -> None:
    assert set(env_sources(instance_config())) <= set(exported(snippets()[ENVIRONMENT]))


def test_the_token_comes_from_a_token_variable_filled_from_a_secret_not_written_inline() -> None:
    variables = exported(snippets()[ENVIRONMENT])
    tokens = [name for name in variables if name in TOKEN_VARIABLES]
    assert tokens
    assert all(variables[name].startswith("$(") for name in tokens)


def test_the_production_file_loads_in_the_documented_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The environment block's selection, with the config folder and secrets replaced by stand-ins."""
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "sync-config-production.yaml").write_text(snippets()[SETTINGS])
    for name, value in exported(snippets()[ENVIRONMENT]).items():
        monkeypatch.setenv(name, "hf_" + "x" * 34 if name in TOKEN_VARIABLES else value)
    monkeypatch.setenv(CONFIG_DIR_VARIABLE, str(folder))
    loaded = load_settings()
    assert loaded.config_file == folder / "sync-config-production.yaml"
    assert loaded.settings.environment.value == "production"
    assert loaded.settings.token_value() == "hf_" + "x" * 34


# ----- the ggufsync production configuration ----------------------------------------------------


def test_the_production_config_snippet_validates_as_the_production_file(tmp_path: Path) -> None:
    path = tmp_path / "sync-config-production.yaml"
    path.write_text(snippets()[SETTINGS])
    settings = ConfigStore(tmp_path, audit_enabled=False).validate(path)
    assert settings.environment.value == "production"


def test_every_value_of_the_production_config_snippet_reaches_the_settings(tmp_path: Path) -> None:
    (tmp_path / "sync-config-production.yaml").write_text(snippets()[SETTINGS])
    settings = load_settings(env="production", use_environment=False, directory=tmp_path).settings
    written = yaml.safe_load(snippets()[SETTINGS])
    effective = settings.model_dump(mode="json")
    for key, value in written.items():
        if isinstance(value, dict):
            assert {k: effective[key][k] for k in value} == value, key
        else:
            assert effective[key] == value, key


def test_the_production_config_snippet_keeps_the_token_out_of_the_file() -> None:
    assert yaml.safe_load(snippets()[SETTINGS])["huggingface_token"] is None


def test_the_production_config_snippet_deploys_with_the_documented_command(
    run: Run, config_dir: Path
) -> None:
    production = config_dir / "sync-config-production.yaml"
    production.write_text(snippets()[SETTINGS])
    production.chmod(0o600)
    code, _, err = run("deploy", "production")
    assert code == 0, err
    assert (config_dir / "sync-config.yaml").read_text() == snippets()[SETTINGS]


# ----- the command lines ------------------------------------------------------------------------


def test_every_ggufsync_command_line_parses_as_written() -> None:
    lines = command_lines("ggufsync")
    assert lines
    for argv in lines:
        build_parser(argv).parse_args(argv)


def test_every_ggufsync_command_named_prints_its_help_through_the_entry_point(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for argv in command_lines("ggufsync"):
        with pytest.raises(SystemExit) as exited:
            main([*argv, "--help"])
        assert exited.value.code == 0, argv
        assert capsys.readouterr().out.startswith("usage: ggufsync")


@pytest.mark.parametrize("program", sorted(DAGSTER_COMMANDS))
def test_the_dagster_command_lines_name_commands_and_options_dagster_has(program: str) -> None:
    """Their help, after every argument as written: an unknown command or option fails first."""
    lines = command_lines(program)
    assert lines
    for argv in lines:
        result = CliRunner().invoke(DAGSTER_COMMANDS[program], [*argv, "--help"])
        assert result.exit_code == 0, result.output


def test_the_services_load_the_shipped_workspace() -> None:
    workspaces = {
        argv[argv.index("-w") + 1]
        for program in DAGSTER_COMMANDS
        for argv in command_lines(program)
        if "-w" in argv
    }
    assert workspaces == {"workspace.yaml"}
    locations = yaml.safe_load((ROOT / "workspace.yaml").read_text())["load_from"]
    assert [entry["python_module"]["module_name"] for entry in locations] == ["ggufsync_assets.definitions"]
