"""Loading a learner's file: find it, execute it as a fresh module, and report its errors as theirs.

Every mistake in the learner's file (it cannot be read, a syntax error, an exception while it
loads, no function of the stub's name) becomes a :class:`LearnerError` whose message points
at their line, never a traceback through minatt.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import traceback
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from minatt.errors import ConfigError
from minatt.exercises.spec import Exercise

__all__ = ["LearnerError", "NotImplementedByLearner", "call_learner", "find_exercise_file", "learner_frame",
           "load_module", "resolve_function", "returned"]


class LearnerError(Exception):
    """The learner's code could not be loaded or run; the message says where."""


class NotImplementedByLearner(Exception):
    """The learner's function still raises NotImplementedError (the stub as handed out)."""


def call_learner(spec: Exercise, fn: Callable, args: tuple, filename: str | None, kwargs: dict | None = None) -> Any:
    """fn(*args, **kwargs), the learner's NotImplementedError and other errors turned into ours."""
    try:
        return fn(*args, **(kwargs or {}))
    except NotImplementedError:
        raise NotImplementedByLearner from None
    except (LearnerError, NotImplementedByLearner):
        raise
    except Exception as exc:  # noqa: BLE001 - any error in their code is reported, not raised
        name = getattr(fn, "__name__", spec.function)
        raise LearnerError(f"your {name} raised {type(exc).__name__}: {exc}\n{learner_frame(exc, filename)}") from None


def returned(result: Any, names: tuple[str, ...], what: str) -> list[Any]:
    """The learner's result as a list of len(names) values, or a LearnerError saying what was expected."""
    if len(names) == 1 and not isinstance(result, (tuple, list)):
        result = (result,)
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        got = f"{len(result)} values" if isinstance(result, (tuple, list)) else type(result).__name__
        raise LearnerError(f"your {what} returned {got}; it must return {len(names)} values: {', '.join(names)}")
    return list(result)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def find_exercise_file(name: str) -> Path:
    """``lessons/exercises/<name>.py`` under the current directory, else beside the minatt package."""
    candidates = [Path.cwd() / "lessons" / "exercises" / f"{name}.py",
                  Path(__file__).resolve().parents[2] / "lessons" / "exercises" / f"{name}.py"]
    for path in candidates:
        if path.is_file():
            return path
    raise ConfigError(
        f"no file for exercise {name!r}: looked for {candidates[0]} and {candidates[1]}; pass --file PATH"
    )


def learner_frame(exc: BaseException, filename: str | None) -> str:
    """The learner's line in the traceback of ``exc`` (their code, not ours), formatted."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if filename and Path(f.filename).resolve() == Path(filename).resolve()]
    frame = own[-1] if own else (frames[-1] if frames else None)
    if frame is None:
        return ""
    where = f'  File "{_display(Path(frame.filename))}", line {frame.lineno}, in {frame.name}'
    return where + (f"\n    {frame.line}" if frame.line else "")


def load_module(path: Path) -> types.ModuleType:
    """Execute the learner's file as a fresh module (no bytecode written beside it)."""
    try:
        source = path.read_text()
    except OSError as exc:
        raise LearnerError(f"cannot read {_display(path)}: {exc.strerror or exc}") from None
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as exc:
        line = (exc.text or "").rstrip()
        raise LearnerError(
            f"syntax error in {_display(path)}, line {exc.lineno}: {exc.msg}" + (f"\n    {line.strip()}" if line else "")
        ) from None
    module = types.ModuleType(f"minatt_exercise_{path.stem}")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module  # dataclasses and pickling look their module up here
    try:
        exec(code, module.__dict__)  # noqa: S102 - running the learner's own file is the point
    except Exception as exc:  # noqa: BLE001 - any error in their file is reported, not raised
        raise LearnerError(
            f"{_display(path)} raised {type(exc).__name__} while loading: {exc}\n{learner_frame(exc, str(path))}"
        ) from None
    return module


def resolve_function(spec: Exercise, path: str | Path | None, module: Any,
                     functions: Mapping[str, Callable] | None) -> tuple[dict[str, Callable], str, str | None]:
    """The learner's functions ({name: callable}, every one of ``spec.functions()``), where to say
    they came from, and the file to find their frames in."""
    names = spec.functions()
    if functions is not None:
        missing = [n for n in names if n not in functions]
        if missing:
            raise LearnerError(f"no {', '.join(missing)} among the functions given")
        fn = functions[spec.function]
        source = inspect.getsourcefile(fn) if inspect.isfunction(fn) else None
        return {n: functions[n] for n in names}, f"{getattr(fn, '__module__', '?')}.{spec.function}", source
    if module is None:
        file = Path(path) if path is not None else find_exercise_file(spec.name)
        if not file.is_file():
            raise ConfigError(f"exercise file {file} does not exist")
        module = load_module(file)
    where = _display(Path(module.__file__)) if getattr(module, "__file__", None) else repr(module)
    found = {}
    for name in names:
        fn = getattr(module, name, None)
        if not callable(fn):
            reference = getattr(importlib.import_module(spec.module), name)
            params = ", ".join(inspect.signature(reference).parameters)
            raise LearnerError(f"{where} defines no function {name}({params}): keep the stub's name")
        found[name] = fn
    return found, where, getattr(module, "__file__", None)
