"""The README's example runs as written."""

import pathlib
import re

README = pathlib.Path(__file__).parents[2] / "README.md"


def test_readme_example_runs(capsys):
    block = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    exec(compile(block, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "func.func @loss" in out and '"tg.dot_general"' in out
    assert float(out.strip().splitlines()[-1]) > 0
