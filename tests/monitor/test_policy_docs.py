"""The policy keys as documented (the README's policy section, the policy module's example)
are the code's keys with the code's defaults."""

from __future__ import annotations

import re
import textwrap
import tomllib
from pathlib import Path

from apprentice.monitor import policy as policy_module
from apprentice.monitor.policy import Policy, load_policy

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_policy() -> str:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", text, flags=re.S)
    found = [b for b in blocks if b.lstrip().startswith("[drift]")]
    assert len(found) == 1, "the README holds one policy block starting with [drift]"
    return found[0]


def docstring_policy() -> str:
    doc = policy_module.__doc__ or ""
    lines: list[str] = []
    for line in doc[doc.index("::\n") + 3 :].splitlines():
        if line.strip() and not line.startswith("    "):
            break  # the example ends at the first unindented line
        lines.append(line)
    return textwrap.dedent("\n".join(lines))


def test_the_readme_lists_every_key_with_its_default(tmp_path: Path) -> None:
    documented = tomllib.loads(readme_policy())
    assert documented == Policy().to_dict()
    # and the block is a policy file monitor reads as the defaults
    path = tmp_path / "monitor.toml"
    path.write_text(readme_policy(), encoding="utf-8")
    assert load_policy(path) == Policy()


def test_the_module_example_lists_every_key_with_its_default() -> None:
    assert tomllib.loads(docstring_policy()) == Policy().to_dict()
