"""One of each helper: phone normalising and masking, HMAC signing, backoff, keyed hashes.

Each lives in exactly one module (``HOMES``). The check parses every ``.py`` file of the
project (not ``.venv``, migrations or tests) and fails when one of these appears anywhere else:

- phone: a function named like a phone normaliser or masker (``mask_phone``,
  ``normalise_phone``, ``phone_to_e164``...), an import of ``phonenumbers``, or an f-string
  that hides digits with ``****``;
- signing: a function whose name has the word ``sign`` or ``signature`` in it;
- backoff: a function named like a backoff or retry delay, or an exponential ``2 ** n``;
- keyed hash: ``hmac.new`` / ``hmac.digest`` / ``hmac.HMAC`` (also imported or aliased),
  ``salted_hmac``, or a function whose name has the word ``hmac`` or ``keyed`` in it.

Before writing one of these, import the one that exists (STYLE.md: "One of each helper").
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {".venv", "venv", ".git", "migrations", "tests", "node_modules", "__pycache__"}

PHONE, SIGNING, BACKOFF, KEYED = "phone", "signing", "backoff", "keyed hash"
HOMES = {
    PHONE: "customers/matching/normalize.py",
    SIGNING: "channels/signing.py",
    BACKOFF: "oms/backoff.py",
    KEYED: "customers/matching/keyed.py",
}

_PHONE_VERBS = ("mask", "normali", "canonical", "e164", "clean", "format", "parse", "valid")
_RETRY_WORDS = ("delay", "wait", "interval", "after")
_HMAC_FUNCTIONS = {"new", "digest", "HMAC"}


def _words(name: str) -> list[str]:
    return name.lower().strip("_").split("_")


def _kind_of_function(name: str) -> str | None:
    lowered, words = name.lower(), _words(name)
    if "phone" in lowered and any(verb in lowered for verb in _PHONE_VERBS):
        return PHONE
    if {"sign", "signature", "signatures", "signer"} & set(words):
        return SIGNING
    if "backoff" in lowered or ("retry" in words and set(_RETRY_WORDS) & set(words)):
        return BACKOFF
    if {"hmac", "keyed"} & set(words):
        return KEYED
    return None


Found = list[tuple[str, int, str]]


def _in_import(node: ast.Import) -> Found:
    return [
        (PHONE, node.lineno, "import phonenumbers")
        for alias in node.names
        if alias.name.split(".")[0] == "phonenumbers"
    ]


def _in_import_from(node: ast.ImportFrom) -> Found:
    module, names = node.module or "", {a.name for a in node.names}
    found: Found = []
    if module.split(".")[0] == "phonenumbers":
        found.append((PHONE, node.lineno, f"from {module} import"))
    if module == "hmac" and names & _HMAC_FUNCTIONS:
        found.append((KEYED, node.lineno, "from hmac import new/digest/HMAC"))
    if "salted_hmac" in names:
        found.append((KEYED, node.lineno, "import salted_hmac"))
    return found


def _in_attribute(node: ast.Attribute, hmac_modules: set[str]) -> Found:
    value = node.value
    if node.attr in _HMAC_FUNCTIONS and isinstance(value, ast.Name) and value.id in hmac_modules:
        return [(KEYED, node.lineno, f"{value.id}.{node.attr}")]
    if node.attr == "salted_hmac":
        return [(KEYED, node.lineno, "salted_hmac")]
    return []


def _in_power(node: ast.BinOp) -> Found:
    left, right = node.left, node.right
    exponential = (
        isinstance(node.op, ast.Pow)
        and isinstance(left, ast.Constant)
        and left.value == 2
        and not isinstance(right, ast.Constant)
    )
    return [(BACKOFF, node.lineno, "exponential 2 ** n")] if exponential else []


def _in_fstring(node: ast.JoinedStr) -> Found:
    texts = [v.value for v in node.values if isinstance(v, ast.Constant)]
    if any("****" in str(text) for text in texts):
        return [(PHONE, node.lineno, "an f-string masking digits with ****")]
    return []


def _in_function(node: ast.FunctionDef | ast.AsyncFunctionDef) -> Found:
    kind = _kind_of_function(node.name)
    return [(kind, node.lineno, f"function {node.name}()")] if kind else []


def find_helpers(source: str) -> Found:
    """Every helper-like thing in ``source``: (kind, line, what), wherever it is."""
    tree = ast.parse(source)
    hmac_modules = {"hmac"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            hmac_modules |= {a.asname or a.name for a in node.names if a.name == "hmac"}
    found: Found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found += _in_function(node)
        elif isinstance(node, ast.Import):
            found += _in_import(node)
        elif isinstance(node, ast.ImportFrom):
            found += _in_import_from(node)
        elif isinstance(node, ast.Attribute):
            found += _in_attribute(node, hmac_modules)
        elif isinstance(node, ast.BinOp):
            found += _in_power(node)
        elif isinstance(node, ast.JoinedStr):
            found += _in_fstring(node)
    return found


def misplaced_helpers(source: str, path: str) -> list[str]:
    """The helpers in ``source`` (the file at ``path``, relative to the root) not in their home."""
    return [
        f"{path}:{line}: {what} is a {kind} helper; use the one in {HOMES[kind]}"
        for kind, line, what in find_helpers(source)
        if path != HOMES[kind]
    ]


def _project_files() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if not SKIPPED_DIRS & set(path.relative_to(ROOT).parts[:-1])
    )


def test_each_helper_lives_in_its_one_module_only():
    files = _project_files()
    assert len(files) > 100, "the scan found too few files: is ROOT right?"
    problems = []
    for path in files:
        relative = path.relative_to(ROOT).as_posix()
        problems += misplaced_helpers(path.read_text(encoding="utf-8"), relative)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("kind", list(HOMES))
def test_each_home_holds_its_helper(kind):
    # A home that no longer holds a recognisable helper means the table above is stale.
    source = (ROOT / HOMES[kind]).read_text(encoding="utf-8")
    assert kind in {found[0] for found in find_helpers(source)}


SYNTHETIC = """
import hmac as mac
import phonenumbers
from django.utils.crypto import salted_hmac


def normalise_phone(raw):
    return phonenumbers.parse(raw, "CN")


def hide(number):
    return f"{number[:3]}****{number[-4:]}"


def sign_payload(secret, body):
    return mac.new(secret, body, "sha256").hexdigest()


def retry_delay(attempt):
    return min(3600, 30 * 2 ** attempt)


def keyed_digest(value):
    return salted_hmac("purpose", value).hexdigest()
"""


def test_the_checker_flags_every_kind_of_copy():
    problems = misplaced_helpers(SYNTHETIC, "shop/helpers.py")
    text = "\n".join(problems)
    for expected in (
        "normalise_phone()",
        "import phonenumbers",
        "masking digits with ****",
        "sign_payload()",
        "mac.new",
        "retry_delay()",
        "exponential 2 ** n",
        "keyed_digest()",
        "import salted_hmac",
        "salted_hmac",
    ):
        assert expected in text, expected
    assert {kind for kind, _line, _what in find_helpers(SYNTHETIC)} == set(HOMES)


def test_the_checker_allows_a_helper_in_its_home_only():
    source = "import hmac\n\ndef keyed(key, value):\n    return hmac.new(key, value, 'sha256')\n"
    assert misplaced_helpers(source, HOMES[KEYED]) == []
    assert len(misplaced_helpers(source, "channels/identity.py")) == 2
    assert misplaced_helpers("def mask_phone(raw):\n    return raw\n", HOMES[SIGNING]) != []


def test_the_checker_leaves_ordinary_code_alone():
    source = (
        "import hmac\n"
        "def new_signing_secret():\n    return 'x'\n"
        "def signals_at(hour):\n    return hour ** 2\n"
        "def mask_address(line):\n    return line[:2] + '****'\n"
        "def same(a, b):\n    return hmac.compare_digest(a, b)\n"
        "def phone_digest(e164, key):\n    return keyed_hash(e164, key)\n"
    )
    assert misplaced_helpers(source, "shop/ordinary.py") == []
