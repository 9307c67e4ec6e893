"""Print the README's set-up commands, one per line, as CI runs them.

The commands are the non-comment lines of the first ```bash block after the heading
"## Two commands"; CI runs exactly these, so the README cannot drift from what is tested.
"""

import pathlib
import re
import sys


def readme_commands(readme):
    text = pathlib.Path(readme).read_text(encoding="utf-8")
    section = text.split("## Two commands", 1)
    if len(section) != 2:
        return []
    block = re.search(r"```bash\n(.*?)```", section[1], flags=re.S)
    if block is None:
        return []
    lines = (line.strip() for line in block.group(1).splitlines())
    return [line for line in lines if line and not line.startswith("#")]


if __name__ == "__main__":
    for command in readme_commands(sys.argv[1] if len(sys.argv) > 1 else "README.md"):
        print(command)
