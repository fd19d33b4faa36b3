"""The user's settings: a small TOML file in the user's config directory, read at start, saved on change.

A damaged or hand-edited file never stops the app: what cannot be read falls back to its default, and
:attr:`LoadedSettings.problems` says what was ignored so the app can show it once. Written atomically
(a temporary file renamed over the old one), so a crash mid-save leaves the old file, not half a file.
No Textual here; the settings screen and the app read and write a :class:`Settings`.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

import platformdirs

from chat_tui.atomic_file import write_atomically

MAX_SETTINGS_BYTES = 64 * 1024
"""A settings file larger than this is not ours (or not settings): ignored, not parsed."""


@dataclass(frozen=True, slots=True)
class Settings:
    theme: str = "textual-dark"
    timestamps: bool = True
    bell: bool = True
    """Ring the terminal bell when someone names you (rate-limited)."""
    typing: bool = True
    """Send and show "is typing"."""
    name_colours: bool = True


@dataclass(frozen=True, slots=True)
class LoadedSettings:
    settings: Settings
    problems: tuple[str, ...] = ()


def settings_path() -> Path:
    return Path(platformdirs.user_config_dir("groupchat")) / "settings.toml"


def load(path: Path) -> LoadedSettings:
    """The settings in ``path``; defaults for what is missing or unreadable, with the reasons."""
    try:
        if path.stat().st_size > MAX_SETTINGS_BYTES:
            return LoadedSettings(Settings(), (f"{path} is larger than {MAX_SETTINGS_BYTES} bytes: ignored",))
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return LoadedSettings(Settings())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return LoadedSettings(Settings(), (f"cannot read {path}: {exc}; using the defaults",))
    settings, problems = Settings(), []
    known = {field.name: type(getattr(settings, field.name)) for field in fields(Settings)}
    for key, value in data.items():
        wanted = known.get(key)
        if wanted is None:
            problems.append(f"{path}: unknown setting {key!r} ignored")
        elif type(value) is not wanted:
            problems.append(f"{path}: {key} must be {'true or false' if wanted is bool else 'text'}; default kept")
        else:
            settings = replace(settings, **{key: value})
    return LoadedSettings(settings, tuple(problems))


def save(path: Path, settings: Settings) -> None:
    """Write ``settings`` to ``path`` atomically, creating its directory."""
    lines = ["# groupchat settings: written by the app's settings screen; safe to edit by hand", ""]
    for field in fields(Settings):
        value = getattr(settings, field.name)
        # JSON's string escapes (with ensure_ascii off) are a subset of TOML's basic-string escapes.
        rendered = ("true" if value else "false") if isinstance(value, bool) else json.dumps(value, ensure_ascii=False)
        lines.append(f"{field.name} = {rendered}")
    write_atomically(path, "\n".join(lines) + "\n")
