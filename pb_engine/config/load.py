"""Loading city config files: one transaction per file, a report of what each changed."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from pb_engine.config.apply import apply_city
from pb_engine.config.parse import parse_city_config
from pb_engine.errors import ConfigError, PBError
from pb_engine.store.db import Database

CREATED, UPDATED, UNCHANGED, FAILED = "created", "updated", "unchanged", "failed"


@dataclass
class FileReport:
    file: str
    status: str                       # created | updated | unchanged | failed
    city: str | None = None
    changes: list[str] = field(default_factory=list)
    error: str | None = None          # every line names the file and the key

    def line(self) -> str:
        if self.status == FAILED:
            return f"FAILED {self.error}"
        detail = f": {'; '.join(self.changes)}" if self.changes else ""
        return f"{self.status} {self.file} ({self.city}){detail}"


@dataclass
class LoadReport:
    files: list[FileReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.status != FAILED for f in self.files)

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.status == FAILED]

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for f in self.files:
            counts[f.status] = counts.get(f.status, 0) + 1
        return ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no config files"


def read_config(path: Path, file: str | None = None) -> tuple[dict, str]:
    """The TOML of one file (floats as Decimal, so money stays exact) and its sha256."""
    file = file or str(path)
    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"), parse_float=Decimal)
    except UnicodeDecodeError as exc:
        raise ConfigError(file, "(file)", f"not UTF-8 text: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(file, "(syntax)", f"not valid TOML: {exc}") from None
    return data, "sha256:" + hashlib.sha256(raw).hexdigest()


def config_files(path_or_dir: str | Path) -> list[Path]:
    path = Path(path_or_dir)
    if path.is_dir():
        return sorted(p for p in path.glob("*.toml") if p.is_file())
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    return [path]


def load_path(db: Database, path_or_dir: str | Path, actor: str = "cli", now: datetime | None = None) -> LoadReport:
    """Load one config file or every *.toml of a directory. A file is applied whole or not at all;
    a bad file does not stop the others."""
    report = LoadReport()
    seen: dict[str, str] = {}
    for path in config_files(path_or_dir):
        file = str(path)
        try:
            data, digest = read_config(path, file)
            cfg = parse_city_config(data, file)
            if cfg.slug in seen:
                raise ConfigError(file, "city.slug", f"city {cfg.slug!r} is already configured by {seen[cfg.slug]}")
            seen[cfg.slug] = file
            with db.write_session() as session:
                changes = apply_city(session, cfg, actor, now, config_file=path.name, config_hash=digest)
        except ConfigError as exc:
            report.files.append(FileReport(file, FAILED, error=exc.message))
            continue
        except PBError as exc:
            report.files.append(FileReport(file, FAILED, city=None, error=_name_file(file, exc)))
            continue
        if not changes:
            status = UNCHANGED
        elif any(c == f"city {cfg.slug} created" for c in changes):
            status = CREATED
        else:
            status = UPDATED
        report.files.append(FileReport(file, status, city=cfg.slug, changes=changes))
    return report


def _name_file(file: str, exc: PBError) -> str:
    """'file: rounds.<slug>.<key>: problem' for a refusal from apply_city."""
    from pb_engine.config.apply import RoundFrozen

    if isinstance(exc, RoundFrozen):
        slug = exc.ref.split("/", 1)[1]
        return "\n".join(f"{file}: rounds.{slug}.{k}: round {exc.ref}: {exc.problem}" for k in exc.keys)
    keys = list(exc.errors) or ["(file)"]
    return f"{file}: {keys[0]}: {exc.message}"
