from pafdecode import cli


def test_demo_decodes_a_crowd(capsys):
    assert cli.main(["demo", "--people", "4", "--repeat", "2", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "4 synthetic people" in out
    lines = [line.split() for line in out.splitlines() if line.startswith(("greedy", "hungarian"))]
    assert [line[0] for line in lines] == ["greedy", "hungarian"]
    for line in lines:
        people, recovered, visible = int(line[2]), int(line[5]), int(line[7])
        assert people >= 1 and 0 < recovered <= visible
