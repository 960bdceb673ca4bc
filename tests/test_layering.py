"""The package layering of STYLE.md, read from the imports of `keras_lk/` with `ast`:
no circle between modules (function-level imports included), and no import from a
package to one above it (a block knows no model, a model trains anywhere, the library
never imports the command line)."""

import ast
import pathlib
import subprocess
import sys
import warnings

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "keras_lk"

# Each top-level package or module of keras_lk and its rank: a module may import its own
# package and any of a lower rank, never one of its own rank or above. `keras_lk/__init__`
# (the facade that imports the subpackages so their objects register) is not ranked.
RANKS = {
    "_startup": 0, "_moved": 0, "registry": 0, "utils": 0, "papers": 0,
    "layers": 1,
    "losses": 2, "metrics": 2,
    "backbones": 3,
    "data": 4,
    "models": 5,
    "training": 6, "evaluation": 6, "export": 6,
    "inference": 7, "testing": 7,
    "experiments": 8,
    "cli": 9, "demo": 9,
}


def _module_name(path, root):
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root=ROOT):
    """``{module: {imported keras_lk module, ...}}`` over every file of `root`, with the
    imports inside functions; ``from package import name`` counts as an import of the
    module ``package.name`` where that is a module, else of ``package``."""
    files = {_module_name(path, root): path for path in root.rglob("*.py")}
    graph = {}
    for module, path in files.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base
                         for alias in node.names]
            else:
                continue
            for name in names:
                while name not in files and "." in name:
                    name = name.rpartition(".")[0]
                if name in files and name != module and name.startswith("keras_lk"):
                    imported.add(name)
        graph[module] = imported
    return graph


def circles(graph):
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(module):
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in graph.get(module, ()):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def _top(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def upward_imports(graph):
    """``"a -> b"`` for every import of a package of the same or a higher rank."""
    bad = []
    for module, imported in sorted(graph.items()):
        source = _top(module)
        if source is None:
            continue
        for other in sorted(imported):
            target = _top(other)
            if target is not None and target != source and RANKS[target] >= RANKS[source]:
                bad.append(f"{module} -> {other}")
    return bad


def test_every_package_has_a_rank():
    tops = {_top(module) for module in import_graph()} - {None}
    assert tops == set(RANKS)


def test_no_circle_between_modules():
    assert circles(import_graph()) == []


def test_no_import_of_a_package_at_or_above_the_importer():
    assert upward_imports(import_graph()) == []


def test_the_checks_find_a_circle_and_an_upward_import(tmp_path):
    """The two checks fail where they should: on a planted circle and a model that
    imports the training engine."""
    package = tmp_path / "keras_lk"
    (package / "models").mkdir(parents=True)
    (package / "training").mkdir()
    for path in ("__init__.py", "models/__init__.py", "training/__init__.py"):
        (package / path).write_text("")
    (package / "models" / "a.py").write_text("def f():\n    from keras_lk.training import b\n")
    (package / "training" / "b.py").write_text("from keras_lk.models.a import f\n")
    graph = import_graph(package)
    assert circles(graph) == [["keras_lk.models.a", "keras_lk.training.b"]]
    assert upward_imports(graph) == ["keras_lk.models.a -> keras_lk.training.b"]


def test_importing_keras_lk_warns_of_no_moved_path():
    """The package itself uses only the new homes (no DeprecationWarning of its own)."""
    code = ("import warnings; warnings.simplefilter('error', DeprecationWarning); "
            "import keras_lk, keras_lk.cli, keras_lk.demo, keras_lk.experiments")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("old, new", [
    ("keras_lk.models.spatial.CropToMatch", "keras_lk.layers.CropToMatch"),
    ("keras_lk.backbones.CaffePreprocessing", "keras_lk.layers.CaffePreprocessing"),
    ("keras_lk.backbones.preprocess_input", "keras_lk.layers.preprocess_input"),
    ("keras_lk.training.SegmentationCrossEntropy", "keras_lk.losses.SegmentationCrossEntropy"),
    ("keras_lk.training.losses.make_loss", "keras_lk.losses.make_loss"),
    ("keras_lk.cli.load_model", "keras_lk.models.load_model"),
    ("keras_lk.data.boundary_region", "keras_lk.evaluation.boundary_region"),
    ("keras_lk.data.colorize_mask", "keras_lk.data.colorize"),
    ("keras_lk.evaluation.colorize", "keras_lk.data.colorize"),
    ("keras_lk.evaluation.export.save_label_png", "keras_lk.evaluation.save_label_png"),
    ("keras_lk.evaluation.inference.predict_multiscale",
     "keras_lk.evaluation.predict_multiscale"),
])
def test_old_import_paths_resolve_to_the_new_home_with_a_warning(old, new):
    import importlib

    def resolve(path):
        module_name, _, attribute = path.rpartition(".")
        old_file = ROOT.parent / (module_name.replace(".", "/") + ".py")
        if old_file.exists() and "warn_moved_module(" in old_file.read_text():
            sys.modules.pop(module_name, None)  # a moved module warns when it is imported
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = getattr(importlib.import_module(module_name), attribute)
        return value, [str(w.message) for w in caught
                       if issubclass(w.category, DeprecationWarning)]

    expected, _ = resolve(new)
    found, messages = resolve(old)
    assert found is expected
    assert any(new.rpartition(".")[0] in message for message in messages), messages


def test_removed_names_say_what_replaced_them():
    import keras_lk.data

    with pytest.raises(AttributeError, match="allow_subset=True"):
        keras_lk.data.subset_allowed  # noqa: B018
