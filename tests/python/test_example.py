"""The Python example runs to completion by itself and says what it should."""
import os
import subprocess
import sys
import textwrap

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python", "chat_notify.py")


def test_chat_notify_demo():
    # Unclosed endpoints (ResourceWarning) and never-awaited coroutines
    # (RuntimeWarning) would show on stderr.
    p = subprocess.run([sys.executable, "-W", "error::ResourceWarning", "-W", "error::RuntimeWarning",
                        EXAMPLE, "--demo"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    assert p.stdout.splitlines() == [
        "[notification] join: alice",
        "[notification] join: bob",
        "[bob sees]     alice: hi everyone",
        "[alice sees]   alice: hi everyone",
        "[alice sees]   bob: hello @alice, welcome",
        "[notification] bob mentioned alice: hello @alice, welcome",
        "[notification] leave: bob",
        "demo: done",
    ]


def test_chat_notify_help():
    p = subprocess.run([sys.executable, EXAMPLE, "--help"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "--demo" in p.stdout


def run_snippet(code):
    p = subprocess.run([sys.executable, "-W", "error::ResourceWarning", "-c", code], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    return p.stdout


def test_module_docstring_example_runs():
    import ssews
    code = textwrap.dedent(ssews.__doc__[ssews.__doc__.index("    import asyncio"):])
    assert run_snippet(code) == "greeting hello\n"


def test_readme_python_example_runs():
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "README.md")) as f:
        readme = f.read()
    code = readme[readme.index("## Python"):].split("```python\n", 1)[1].split("```", 1)[0]
    out = run_snippet(code).split()
    assert out[:2] == ["hello", "chat"] and out[2]  # data, channel, an assigned id
