"""Each ballot kind's registry entry says which Pabulib vote types it imports and how their META reads
as round settings; the importer asks the registry, so adding a kind touches one module."""

from __future__ import annotations

from pathlib import Path

import pytest

from pb_engine import pabulib
from pb_engine.ballots.kinds import CumulativeBallot, VoteType
from pb_engine.ballots.registry import BALLOT_KINDS, kind_of_vote_type, settings_from_pabulib
from pb_engine.importer import ballot_settings

DATA = Path(__file__).resolve().parents[1] / "data" / "pabulib"


def test_every_pabulib_vote_type_is_read_by_exactly_one_kind():
    for vt in VoteType:
        readers = [k.id for k in BALLOT_KINDS.values() if vt in k.reads]
        assert len(readers) == 1, (vt, readers)
        assert kind_of_vote_type(vt).id == readers[0]
    assert {vt: kind_of_vote_type(vt).id for vt in VoteType} == {
        VoteType.APPROVAL: "approval", VoteType.CHOOSE_1: "approval", VoteType.CUMULATIVE: "cumulative",
        VoteType.SCORING: "cumulative", VoteType.ORDINAL: "ranked"}
    assert all(k.from_pabulib_meta is not None for k in BALLOT_KINDS.values() if k.reads)


@pytest.mark.parametrize("vt, meta, expected", [
    (VoteType.APPROVAL, {"min_length": "1", "max_length": "5"},
     ({"kind": "approval"}, {"min_projects": 1, "max_projects": 5})),
    (VoteType.CHOOSE_1, {"max_length": "5"}, ({"kind": "approval"}, {"min_projects": None, "max_projects": 1})),
    (VoteType.ORDINAL, {"min_length": "2", "max_length": "3.0"},
     ({"kind": "ranked"}, {"min_rank": 2, "max_rank": 3})),
    (VoteType.CUMULATIVE, {"max_sum_points": "10", "max_length": "x"},
     ({"kind": "cumulative", "max_points": 12}, {"min_projects": None, "max_projects": None})),
])
def test_meta_reads_as_the_kinds_settings(vt, meta, expected):
    # a cumulative file whose ballots hold more points than its META allows: max_points holds them all
    ballots = [CumulativeBallot.of({"a": 7, "b": 5})]
    assert settings_from_pabulib(vt, meta, ballots) == expected


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.pb")))
def test_the_importer_takes_the_kind_the_registry_names(name):
    pb = pabulib.parse_path(DATA / name)
    assert ballot_settings(pb)["kind"] == kind_of_vote_type(pb.vote_type).id
