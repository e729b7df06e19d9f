"""Call-type vocabulary and agency maps: validation with file/line/field, lookups with
implied flags, normalisation, the unmapped report from the store, and the CLI."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, insert
from typer.testing import CliRunner

from smart_policing.cli import app
from smart_policing.datafiles import DataFileError
from smart_policing.store import tables as t
from smart_policing.triage.types import CallFlag
from smart_policing.triage.vocabulary import (
    CALL_TYPE_ID_PATTERN,
    DEFAULT_MAP,
    AgencyMap,
    CallTypeCategory,
    UnmappedCode,
    builtin_map,
    builtin_map_names,
    load_map,
    load_vocabulary,
    normalise_code,
    stored_call_type_counts,
)
from smart_policing.triage.vocabulary_cli import call_types_markdown, read_csv_codes

F = CallFlag
runner = CliRunner()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


MAP_HEAD = "schema_version: 1\nname: springfield\nagencies: [POLICE, FIRE]\nentries:\n"


# ---------------------------------------------------------------- the canonical list


def test_builtin_vocabulary_has_unique_well_formed_ids() -> None:
    vocab = load_vocabulary()
    ids = [ct.id for ct in vocab.call_types]
    assert len(ids) == len(set(ids)) >= 70
    assert all(re.fullmatch(CALL_TYPE_ID_PATTERN, i) for i in ids)
    assert {ct.category for ct in vocab.call_types} == set(CallTypeCategory)
    assert vocab["assault"].nena == "Assault"
    assert "assault" in vocab
    assert vocab.get("no-such-type") is None
    with pytest.raises(KeyError, match="did you mean 'assault'"):
        vocab["asault"]


def test_vocabulary_errors_name_file_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "types.yaml",
        "schema_version: 1\n"
        "call_types:\n"
        "  - {id: assault, label: Assault, category: person, nena: Assault}\n"
        "  - {id: Theft_X, label: Theft, category: property, nena: Theft}\n"
        "  - {id: fire, label: Fire, category: flames, nena: Fire}\n"
        "  - {id: assault, label: Again, category: person, nena: Assault}\n",
    )
    with pytest.raises(DataFileError) as info:
        load_vocabulary(path)
    message = str(info.value)
    assert f"{path}, line 4, field 'call_types.1.id': String should match pattern" in message
    assert "line 5, field 'call_types.2.category'" in message
    assert "'behavioural-health'" in message  # the known categories are listed
    # the duplicate is reported once the entries themselves are valid
    path.write_text(
        "schema_version: 1\ncall_types:\n"
        "  - {id: assault, label: Assault, category: person, nena: Assault}\n"
        "  - {id: assault, label: Again, category: person, nena: Assault}\n"
    )
    with pytest.raises(DataFileError, match=r"line 4, field 'call_types\.1\.id': duplicate call"):
        load_vocabulary(path)


# ---------------------------------------------------------------- map validation


def test_unknown_call_type_names_line_field_and_known_ids(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "m.yaml",
        MAP_HEAD
        + "  - {agency: POLICE, code: ASSAULT, call_type: assault}\n"
        + "  - {agency: POLICE, code: FIGHT, call_type: asault}\n",
    )
    with pytest.raises(DataFileError) as info:
        load_map(path)
    [problem] = info.value.problems
    assert problem.startswith("line 6, field 'entries.1.call_type': unknown call type 'asault'")
    assert "did you mean 'assault'" in problem
    assert "known: abandoned-vehicle, administrative," in problem


def test_unknown_flag_names_line_field_and_known_flags(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "m.yaml",
        MAP_HEAD
        + "  - code: ASSAULT IN PROG\n    call_type: assault\n    flags: [in-progress, inj]\n",
    )
    with pytest.raises(DataFileError) as info:
        load_map(path)
    [problem] = info.value.problems
    assert problem.startswith("line 7, field 'entries.0.flags.1'")
    for flag in CallFlag:
        assert repr(flag.value) in problem


def test_duplicate_codes_after_normalisation_are_errors(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "m.yaml",
        MAP_HEAD
        + "  - {agency: POLICE, code: MVC INJURY, call_type: traffic-collision-injury}\n"
        + "  - {agency: FIRE, code: MVC INJURY, call_type: traffic-collision-injury}\n"
        + "  - {agency: police, code: ' mvc  injury', call_type: traffic-collision-unknown}\n",
    )
    with pytest.raises(DataFileError) as info:
        load_map(path)
    [problem] = info.value.problems
    assert problem == (
        "line 7, field 'entries.2.code': code 'MVC INJURY' for agency POLICE is already "
        "mapped by entries.0"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            MAP_HEAD + "  - {agency: SHERIFF, code: X, call_type: assault}\n",
            "line 5, field 'entries.0.agency': agency 'SHERIFF' is not one of this map's "
            "agencies (FIRE, POLICE)",
        ),
        (
            MAP_HEAD + "  - {code: X, call_type: assault, colour: red}\n",
            "line 5, field 'entries.0.colour': Extra inputs are not permitted",
        ),
        (
            MAP_HEAD + "  - {code: '   ', call_type: assault}\n",
            "line 5, field 'entries.0.code': Value error, must not be blank",
        ),
        (
            MAP_HEAD + "  - {code: X, call_type: assault, flags: [dui, dui]}\n",
            "line 5, field 'entries.0.flags': Value error, flag listed twice: dui",
        ),
        (
            MAP_HEAD.replace("schema_version: 1", "schema_version: 2")
            + "  - {code: X, call_type: assault}\n",
            "line 1, field 'schema_version': Input should be 1",
        ),
        (MAP_HEAD + "  []\n", "line 4, field 'entries': list at least one entry"),
    ],
)
def test_other_map_errors(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(DataFileError) as info:
        load_map(write(tmp_path, "m.yaml", text))
    assert expected in info.value.problems


def test_builtin_maps() -> None:
    assert DEFAULT_MAP in builtin_map_names()
    assert builtin_map() is builtin_map(DEFAULT_MAP)
    with pytest.raises(KeyError, match="unknown call-type map 'nowhere'; known: cad-2025"):
        builtin_map("nowhere")


def test_map_round_trips_through_yaml(tmp_path: Path) -> None:
    original = builtin_map()
    dumped = original.model_dump(mode="json", exclude_defaults=True)
    path = write(tmp_path, "copy.yaml", yaml.safe_dump(dumped, sort_keys=False))
    again = load_map(path)
    assert again == original
    assert again.lookup("ALARM HOLDUP", "POLICE") == original.lookup("ALARM HOLDUP", "POLICE")


# ---------------------------------------------------------------- lookups


@pytest.mark.parametrize(
    ("agency", "code", "call_type", "flags"),
    [
        ("POLICE", "ASSAULT MINOR INJ IN PROG", "assault", {F.INJURY, F.IN_PROGRESS}),
        ("POLICE", "MVC PROPERTY DAMAGE", "traffic-collision-property", set()),
        ("POLICE", "DWI - DRUNK/INTOX DRIVER", "dui-driver", {F.DUI}),
        ("POLICE", "MENTAL HEALTH CASE", "mental-health", {F.BEHAVIOURAL_HEALTH}),
        ("POLICE", "ALARM HOLDUP", "alarm-panic", set()),
        ("POLICE", "ALARM COMMERCIAL", "alarm-burglar", set()),
        ("POLICE", "SHOPLIFTING HOLDING SUSPECT", "shoplifting", {F.SUSPECT_ON_SCENE}),
        ("POLICE", "WEAPON VIOL GUN IN PROG", "weapons-offence", {F.WEAPON, F.IN_PROGRESS}),
        (
            "POLICE",
            "SUICIDE IN PROG TRAUMA",
            "suicide-threat",
            {F.SUICIDAL, F.BEHAVIOURAL_HEALTH, F.INJURY, F.IN_PROGRESS},
        ),
        ("POLICE", "HAZARD", "traffic-hazard", set()),
        ("FIRE", "HAZARD", "fire", set()),
        ("FIRE", "MVC ENTRAPMENT", "traffic-collision-injury", {F.INJURY}),
        ("EMS", "FALL BLS", "medical", {F.INJURY}),
        (
            "EMS",
            "PSYCHIATRIC EMERGENCY VIOLENT",
            "medical",
            {F.BEHAVIOURAL_HEALTH, F.VIOLENT_BEHAVIOUR},
        ),
    ],
)
def test_cad_2025_lookups_with_implied_flags(
    agency: str, code: str, call_type: str, flags: set[CallFlag]
) -> None:
    hit = builtin_map().lookup(code, agency)
    assert hit is not None
    assert (hit.call_type, set(hit.flags)) == (call_type, flags)
    assert hit.label == load_vocabulary()[call_type].label
    assert hit.category == load_vocabulary()[call_type].category


def test_report_only_hint_for_tru_codes() -> None:
    m = builtin_map()
    tru = m.lookup("LARCENY RESIDENTIAL TRU", "POLICE")
    assert tru is not None
    assert (tru.call_type, tru.report_only_hint) == ("larceny", True)
    delayed = m.lookup("LARCENY RESIDENTIAL DELAY", "POLICE")
    assert delayed is not None
    assert not delayed.report_only_hint
    assert tru.to_dict() == {
        "call_type": "larceny",
        "label": "Larceny / theft",
        "category": "property",
        "flags": [],
        "report_only_hint": True,
        "code": "LARCENY RESIDENTIAL TRU",
        "agency": "POLICE",
    }


def test_case_and_white_space_do_not_matter() -> None:
    m = builtin_map()
    exact = m.lookup("ASSAULT MINOR INJ IN PROG", "POLICE")
    assert exact is not None
    for code, agency in [
        ("  assault minor inj in prog ", "police"),
        ("Assault\tMinor  Inj In Prog", " Police "),
    ]:
        assert m.lookup(code, agency) is exact


def test_agency_rules(tmp_path: Path) -> None:
    m = load_map(
        write(
            tmp_path,
            "m.yaml",
            MAP_HEAD
            + "  - {code: HAZARD, call_type: traffic-hazard}\n"
            + "  - {agency: FIRE, code: HAZARD, call_type: fire}\n"
            + "  - {agency: FIRE, code: CO ALARM, call_type: hazmat}\n",
        )
    )
    assert isinstance(m, AgencyMap)

    def kind(code: str, agency: str | None) -> str | None:
        hit = m.lookup(code, agency)
        return None if hit is None else hit.call_type

    assert kind("HAZARD", "FIRE") == "fire"  # the agency's own entry wins
    assert kind("HAZARD", "POLICE") == "traffic-hazard"  # an entry for any agency
    assert kind("HAZARD", None) == "traffic-hazard"
    assert kind("HAZARD", "  ") == "traffic-hazard"  # a blank agency is no agency
    assert kind("CO ALARM", "POLICE") is None  # another agency's code is not guessed
    assert kind("CO ALARM", None) is None
    assert kind("HAZARD", "SHERIFF") is None  # outside the map's agencies


@given(code=st.text(max_size=40), agency=st.none() | st.text(max_size=10))
def test_lookup_never_raises_and_normalisation_is_idempotent(code: str, agency: str | None) -> None:
    m = builtin_map()
    once = normalise_code(code)
    assert normalise_code(once) == once
    assert once == once.strip()
    hit = m.lookup(code, agency)
    assert hit is m.lookup(once, None if agency is None else normalise_code(agency))
    if hit is not None:
        assert hit.code == once


@given(
    entry=st.sampled_from(builtin_map().entries),
    pad=st.tuples(st.sampled_from(["", " ", "  ", "\t"]), st.sampled_from(["", " ", "\n"])),
    lower=st.booleans(),
)
def test_every_entry_is_found_however_it_is_spelt(
    entry: object, pad: tuple[str, str], lower: bool
) -> None:
    from smart_policing.triage.vocabulary import MapEntry

    assert isinstance(entry, MapEntry)
    code = entry.code.lower() if lower else entry.code
    hit = builtin_map().lookup(pad[0] + code + pad[1], entry.agency)
    assert hit is not None
    assert (hit.call_type, hit.flags) == (entry.call_type, frozenset(entry.flags))


def test_check_and_unmapped_sum_normalised_codes() -> None:
    rows: list[tuple[str | None, str, int]] = [
        ("POLICE", "MVC PROPERTY DAMAGE", 5),
        ("police", "mvc property damage ", 2),
        ("POLICE", "CAT IN TREE", 1),
        ("POLICE", "cat in tree", 2),
        ("SHERIFF", "MVC PROPERTY DAMAGE", 4),
        (None, "ALARM HOLDUP", 1),
    ]
    check = builtin_map().check(rows)
    assert (check.mapped_codes, check.mapped_calls) == (1, 7)
    assert check.unmapped == (
        UnmappedCode("SHERIFF", "MVC PROPERTY DAMAGE", 4),
        UnmappedCode("POLICE", "CAT IN TREE", 3),
        UnmappedCode(None, "ALARM HOLDUP", 1),
    )
    assert (check.unmapped_codes, check.unmapped_calls, check.ok) == (3, 8, False)
    assert builtin_map().unmapped(rows) == list(check.unmapped)
    assert builtin_map().check([("POLICE", "ON VIEW", 3)]).ok


# ---------------------------------------------------------------- the store


def add_calls(engine: Engine, rows: list[tuple[str | None, str]], import_id: int = 1) -> None:
    received = datetime(2025, 9, 1, 12, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(t.calls),
            [
                {
                    "source": "test",
                    "call_id": f"{import_id}-{i}",
                    "agency": agency,
                    "received_at": received,
                    "call_type_code": code,
                    "source_channel": "911",
                    "self_initiated": False,
                    "reopened": False,
                    "import_id": import_id,
                }
                for i, (agency, code) in enumerate(rows)
            ],
        )


def test_unmapped_report_from_the_store(engine: Engine) -> None:
    add_calls(
        engine,
        [
            ("POLICE", "MVC PROPERTY DAMAGE"),
            ("POLICE", "MVC PROPERTY DAMAGE"),
            ("POLICE", "CAT IN TREE"),
            ("POLICE", "CAT IN TREE"),
            ("EMS", "FALL BLS"),
            (None, "FALL BLS"),
        ],
    )
    add_calls(engine, [("FIRE", "DRAGON SIGHTING")], import_id=2)
    counts = stored_call_type_counts(engine)
    assert sorted(counts, key=repr) == sorted(
        [
            ("POLICE", "MVC PROPERTY DAMAGE", 2),
            ("POLICE", "CAT IN TREE", 2),
            ("EMS", "FALL BLS", 1),
            (None, "FALL BLS", 1),
            ("FIRE", "DRAGON SIGHTING", 1),
        ],
        key=repr,
    )
    assert builtin_map().unmapped(counts) == [
        UnmappedCode("POLICE", "CAT IN TREE", 2),
        UnmappedCode(None, "FALL BLS", 1),
        UnmappedCode("FIRE", "DRAGON SIGHTING", 1),
    ]
    assert stored_call_type_counts(engine, import_id=2) == [("FIRE", "DRAGON SIGHTING", 1)]
    assert stored_call_type_counts(engine, source="elsewhere") == []


# ---------------------------------------------------------------- the command line

CAD_HEADER = (
    "Master_Incident_Number,Response_Date,WeekNo,DOW,Day,Hour,Shift,Day_Night,ShiftPart,Agency,Problem,"
    "Priority_Number,Call_Reception,Call_Taker,Dispatcher,Incident_Start_Time,TimeCallViewed,"
    "Incident_Queue_Time,Time_To_Queue,Elapsed_PS_Queue,Time_To_Queue_Diff,Incident_Dispatch_Time,"
    "Time_To_Dispatch,Elapsed_Queue_Disp,Time_To_Disp_Diff,Incident_Phone_Stop,Phone_Time,Elapsed_PS_CTD,"
    "Phone_Time_Diff,TimeFirstUnitDispatchAcknowledged,Processing_Time,Elapsed_Processing,Diff_Proc_Time,"
    "Incident_Enroute_Time,Rollout_Time,Elapsed_Rollout,Diff_Rollout_Time,Incident_Arrival_Time,Transit_Time,"
    "Elapsed_Transit,Diff_Transit_Time,TimeFirstCallCleared,Incident_First_Close_Time,Call_Reopened,"
    "First_Reopen_Time,Final_Closed_Time,Total_Call_Time,Elapsed_Call_Time,Diff_Total_Call_Time,Disposition"
)
CAD_ROW = (
    "25-071089,2025-08-24 00:07:06.000,35,SUN,24,0,C,NIGHT,MIDS,POLICE,ALARM COMMERCIAL,2,Phone,"
    "staff-91adbe8f29,staff-bb50d6fd81,2025-08-24 00:07:06.000,2025-08-24 00:08:19.000,"
    "2025-08-24 00:07:53.000,47,47.0,0,2025-08-24 00:09:46.810,113,113,0,2025-08-24 00:09:52.000,166.0,"
    "166.0,0.0,2025-08-24 00:13:10.710,160,160.0,0,2025-08-24 00:13:10.710,204.0,203,1.0,"
    "2025-08-24 00:23:51.860,641.0,641,0.0,2025-08-24 00:35:47.190,2025-08-24 00:35:47.190,0,,"
    "2025-08-24 00:35:47.260,1721.0,1721.0,0.0,FALSE-False Alarm"
)


def cad_file(tmp_path: Path, problems: list[tuple[str, str]], *, gz: bool = False) -> Path:
    rows = [
        CAD_ROW.replace("25-071089", f"25-{i:06d}").replace(
            "POLICE,ALARM COMMERCIAL", f"{agency},{problem}"
        )
        for i, (agency, problem) in enumerate(problems)
    ]
    text = "\n".join([CAD_HEADER, *rows]) + "\n"
    if gz:
        path = tmp_path / "cad.csv.gz"
        path.write_bytes(gzip.compress(text.encode()))
        return path
    return write(tmp_path, "cad.csv", text)


def test_cli_call_types(tmp_path: Path) -> None:
    result = runner.invoke(app, ["triage", "call-types", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [c["id"] for c in listed] == [ct.id for ct in load_vocabulary().call_types]
    assert listed[0].keys() == {"id", "label", "category", "nena"}

    result = runner.invoke(app, ["--json", "triage", "call-types", "--category", "alarm"])
    assert {c["id"] for c in json.loads(result.stdout)} == {
        "alarm-burglar",
        "alarm-panic",
        "alarm-fire",
        "alarm-vehicle",
    }
    result = runner.invoke(app, ["triage", "call-types"])
    assert result.exit_code == 0
    assert "alarm-panic" in result.stdout


def test_cli_map_check_file_lists_unmapped_codes_and_exits_1(tmp_path: Path) -> None:
    f = cad_file(
        tmp_path,
        [
            ("POLICE", "ALARM HOLDUP"),
            ("POLICE", "CAT IN TREE"),
            ("POLICE", "CAT IN TREE"),
            ("FIRE", "HAZARD"),
        ],
        gz=True,
    )
    result = runner.invoke(app, ["triage", "map-check", str(f), "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["map"] == "cad-2025"
    assert (report["mapped_codes"], report["mapped_calls"]) == (2, 2)
    assert (report["unmapped_codes"], report["unmapped_calls"]) == (1, 2)
    assert report["unmapped"] == [{"agency": "POLICE", "code": "CAT IN TREE", "count": 2}]

    result = runner.invoke(app, ["triage", "map-check", str(f)])
    assert result.exit_code == 1
    assert "2 of 3 codes mapped" in result.stdout
    assert "CAT IN TREE" in result.stdout


def test_cli_map_check_with_a_map_file_and_plain_columns(tmp_path: Path) -> None:
    m = write(
        tmp_path,
        "mine.yaml",
        "schema_version: 1\nname: mine\nentries:\n  - {code: CAT IN TREE, call_type: animal}\n",
    )
    f = write(tmp_path, "calls.csv", "Type\nCat in tree\n cat in tree \n\n")
    result = runner.invoke(
        app,
        ["--json", "triage", "map-check", str(f), "--map-file", str(m), "--code-column", "type"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["mapped_calls"] == 2
    assert read_csv_codes(f, code_column="TYPE") == [
        (None, "Cat in tree", 1),
        (None, "cat in tree", 1),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["triage", "map-check"], "give a FILE or --from-db"),
        (["triage", "map-check", "x.csv", "--from-db"], "give a FILE or --from-db"),
        (["triage", "map-check", "--from-db", "--map", "nowhere"], "unknown call-type map"),
        (
            ["triage", "map-check", "--from-db", "--map", "cad-2025", "--map-file", "m.yaml"],
            "not both",
        ),
        (["triage", "map-check", "missing.csv"], "missing.csv"),
        (["triage", "map-check", "cad.csv", "--code-column", "Nope"], "no column 'Nope'"),
        (["triage", "map-check", "cad.csv", "--agency-column", "Dept"], "no column 'Dept'"),
        (
            ["triage", "map-check", "cad.csv", "--map-file", "bad.yaml"],
            "line 4, field 'entries.0.code': Field required",
        ),
    ],
)
def test_cli_map_check_unusable_input_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    cad_file(tmp_path, [("POLICE", "ON VIEW")])
    write(tmp_path, "bad.yaml", "schema_version: 1\nname: bad\nentries:\n  - {}\n")
    result = runner.invoke(app, ["--db", f"sqlite:///{tmp_path / 'x.db'}", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_cli_import_reports_unmapped_call_types_and_map_check_from_db(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    f = cad_file(tmp_path, [("POLICE", "ALARM HOLDUP"), ("POLICE", "CAT IN TREE")])
    result = runner.invoke(app, ["--db", db, "--json", "import", "cad", str(f)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["unmapped_call_types"]["unmapped"] == [
        {"agency": "POLICE", "code": "CAT IN TREE", "count": 1}
    ]
    assert "call types not in map cad-2025: 1 codes, 1 calls" in result.stderr

    result = runner.invoke(app, ["--db", db, "--json", "import", "cad", str(f)])
    assert "unmapped_call_types" not in json.loads(result.stdout)  # nothing new inserted

    result = runner.invoke(app, ["--db", db, "--json", "triage", "map-check", "--from-db"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["input"], report["mapped_calls"], report["unmapped_calls"]) == ("database", 1, 1)


def test_docs_table_matches_the_vocabulary() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "call-types.md").read_text()
    table = doc.split("<!-- call-types:begin -->\n")[1].split("<!-- call-types:end -->")[0]
    assert table == call_types_markdown(), "regenerate: smart-policing triage call-types --markdown"
    result = runner.invoke(app, ["triage", "call-types", "--markdown"])
    assert result.stdout == table


# ---------------------------------------------------------------- the real export


@pytest.mark.realdata
def test_every_problem_of_the_real_cad_export_is_mapped(
    real_file: Callable[[str], Path],
) -> None:
    """The real export has 303 distinct Problem texts (the data README says 315), in
    306 agency/Problem pairs (HAZARD, MUTUAL CPR and MVC INTO BUILDING exist for two
    agencies), 22,147 calls: every one is mapped."""
    rows = read_csv_codes(real_file("cad/cad_2025_weeks35-48.csv.gz"))
    assert len({code for _, code, _ in rows}) == 303
    assert len(rows) == 306
    check = builtin_map().check(rows)
    assert check.unmapped == ()
    assert (check.mapped_codes, check.mapped_calls) == (306, 22_147)
    # no entry of the shipped map is dead weight: each one is used by the export
    assert len(builtin_map().entries) == 306


def test_the_synthetic_city_map_covers_every_synthetic_problem_code() -> None:
    """The demo city's calls are decided like a real export's: no code is unmapped."""
    import yaml

    from smart_policing.data.synth import tables

    path = Path(tables.__file__).with_name("call_types.yaml")
    codes = [(c["agency"], c["problem"]) for c in yaml.safe_load(path.read_text())["call_types"]]
    synthetic = builtin_map("synthetic-city")
    assert len(codes) == 80
    assert [c for c in codes if synthetic.lookup(c[1], c[0]) is None] == []
    assert synthetic.lookup("MENTAL HEALTH/EDP", "POLICE").call_type == "mental-health"


def test_best_builtin_map_is_the_one_that_knows_the_most_calls() -> None:
    from smart_policing.triage.vocabulary import best_builtin_map

    real = {("POLICE", "ALARM COMMERCIAL"): 40, ("POLICE", "LARCENY RESIDENTIAL TRU"): 9}
    demo = {("POLICE", "LARCENY REPORT"): 30, ("POLICE", "MENTAL HEALTH/EDP"): 12}
    assert best_builtin_map(real).name == "cad-2025"
    assert best_builtin_map(demo).name == "synthetic-city"
    # the demo map also knows ALARM COMMERCIAL: 82 calls against 49
    assert best_builtin_map({**real, **demo}).name == "synthetic-city"
    assert best_builtin_map({}).name == DEFAULT_MAP
