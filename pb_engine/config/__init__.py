"""City configs: parse (pure), apply to the database (idempotent, audited), read a round back, load files.

    parse_city_config(data, file) -> CityConfig         raises ConfigError listing every problem
    parse_round(data, timezone=, currency=, categories=, file=, prefix=) -> RoundConfig
    apply_city(session, cfg, actor) -> [change, ...]     [] when nothing changed
    upsert_round(session, city_row, round_cfg, actor, now) -> Round   raises RoundFrozen (a Conflict)
    round_to_dict(session, round_row, now) -> dict       the round section in JSON form + current_phase
    load_path(db, path_or_dir, actor="cli") -> LoadReport
"""

from pb_engine.config.apply import FROZEN_KEYS, RoundFrozen, apply_city, frozen_since, round_to_dict, upsert_round
from pb_engine.config.load import LoadReport, load_path, read_config
from pb_engine.config.model import CategoryConfig, CityConfig, DistrictConfig, RoundConfig
from pb_engine.config.parse import config_error, parse_city_config, parse_round

__all__ = [
    "CategoryConfig", "CityConfig", "DistrictConfig", "RoundConfig", "FROZEN_KEYS", "RoundFrozen", "LoadReport",
    "apply_city", "config_error", "frozen_since", "load_path", "parse_city_config", "parse_round", "read_config",
    "round_to_dict", "upsert_round",
]
