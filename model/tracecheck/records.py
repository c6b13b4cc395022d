"""Reading a trace: the three shapes it may come in, as one list of records with their line numbers.

* The server's JSON lines (``copyimage serve --trace FILE``): ``type: request``
  and ``type: response`` records paired by ``seq``, ``type: event`` records
  wrapping a ``cloud.trace`` event, ``type: admin`` records.
* A JSON list as ``cloud.trace`` dumps it (``Cloud.trace_json()``): entries
  ``{"kind": "call", ...}`` and ``{"kind": "event", ...}``.
* JSON lines in the documented shape (docs/trace-format.md): one
  ``{"kind": "call", ...}`` or ``{"kind": "event", ...}`` object per line.

Every problem is a ``TraceError`` naming the file, the line, what is wrong and
how to fix it; reading never raises anything else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from ..scenario import ScenarioError

__all__ = ["TraceError", "Call", "EventRecord", "Reset", "Record", "Trace", "read_trace", "parse_trace_text"]

EVENT_NAMES = ("Start", "Complete", "Fail")


class TraceError(ScenarioError):
    """A trace that cannot be read: where (file, line), what is wrong, and how to fix it."""


@dataclass(frozen=True)
class Call:
    """A request and the answer it got. ``line`` is where the request is written."""

    line: int
    action: str
    params: Any
    caller: str | None
    status: int | None  # the HTTP status, None when the trace does not say
    response: dict
    t: float | None = None
    response_line: int | None = None

    @property
    def code(self) -> str | None:
        code = self.response.get("Code")
        return code if isinstance(code, str) else None

    @property
    def http_status(self) -> int | None:
        """The recorded status: ``status``, else the body's ``HttpStatus``, else 200 for a body without ``Code``."""
        if self.status is not None:
            return self.status
        hs = self.response.get("HttpStatus")
        if isinstance(hs, int) and not isinstance(hs, bool):
            return hs
        return 200 if self.code is None else None

    @property
    def is_error(self) -> bool:
        status = self.http_status
        return self.code is not None or (status is not None and status >= 400)


@dataclass(frozen=True)
class EventRecord:
    """A service event: a queued copy started, a running copy completed or failed."""

    line: int
    event: str  # Start | Complete | Fail
    image_id: str
    t: float | None = None


@dataclass(frozen=True)
class Reset:
    """The world went back to the scenario's initial world (admin reset, or a new server session)."""

    line: int
    why: str


Record = Union[Call, EventRecord, Reset]


@dataclass
class Trace:
    """The records of one trace file, in order, and what was left out (with why)."""

    source: str
    shape: str  # "server" | "cloud-list" | "json-lines"
    records: list[Record] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)

    @property
    def calls(self) -> list[Call]:
        return [r for r in self.records if isinstance(r, Call)]



_FIX_SHAPE = ("write one JSON object per line: {\"kind\": \"call\", \"action\": ..., \"params\": {...}, "
              "\"caller\": null, \"status\": 200, \"response\": {...}} or {\"kind\": \"event\", "
              "\"event\": \"Complete\", \"ImageId\": ...} (see docs/trace-format.md)")


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            return None
    return None


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.trace = Trace(source, "json-lines")
        self.pending: dict[Any, tuple[int, dict]] = {}  # server request records waiting for their response
        self.last_seq: int | None = None

    def fail(self, line: int | None, what: str, fix: str = _FIX_SHAPE) -> TraceError:
        return TraceError(self.source, line, what, fix)

    # --- one object -------------------------------------------------------------------

    def add(self, line: int, obj: Any) -> None:
        if not isinstance(obj, dict):
            raise self.fail(line, f"a trace record must be a JSON object, not {_kind_of(obj)}")
        if "type" in obj and "kind" not in obj:
            self.trace.shape = "server"
            self._server(line, obj)
        elif obj.get("kind") == "call":
            self.trace.records.append(self._call(line, obj, obj.get("response"), "response"))
        elif obj.get("kind") == "event":
            self.trace.records.append(self._event(line, obj))
        elif "kind" in obj:
            raise self.fail(line, f"unknown record kind {obj['kind']!r}", "use \"kind\": \"call\" or \"kind\": \"event\"")
        else:
            raise self.fail(line, "not a trace record: it has neither `kind` (call, event) nor the server's `type`")

    def _call(self, line: int, obj: dict, response: Any, response_key: str, *, response_line: int | None = None,
              status: Any = None) -> Call:
        action = obj.get("action")
        if not isinstance(action, str) or not action:
            raise self.fail(line, "a call needs its `action` as a string (e.g. \"CopyImage\")",
                            "add \"action\": \"CopyImage\" (the API action's name)")
        params = obj.get("params")
        if params is None:
            params = {}
        caller = obj.get("caller")
        if caller is not None and not isinstance(caller, str):
            raise self.fail(line, f"`caller` must be a RAM user name or null (the account root), not {_kind_of(caller)}",
                            "write \"caller\": null or \"caller\": \"alice\"")
        where = response_line or line
        if not isinstance(response, dict):
            raise self.fail(where, f"a call needs its answer as a JSON object in `{response_key}`, "
                                   f"not {_kind_of(response)}",
                            f"give the answer's JSON body in `{response_key}` ({{}} for an empty success)")
        if status is None:
            status = obj.get("status")
        if status is not None and (not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599):
            raise self.fail(where, f"`status` must be an HTTP status (an integer 100-599), not {status!r}",
                            "write the answer's HTTP status, e.g. \"status\": 200, or leave `status` out")
        return Call(line, action, params, caller, status, response, _number(obj.get("t", obj.get("now"))),
                    response_line)

    def _event(self, line: int, obj: dict, t: Any = None) -> EventRecord:
        name = obj.get("event")
        if isinstance(name, str) and name.capitalize() in EVENT_NAMES:
            name = name.capitalize()
        if name not in EVENT_NAMES:
            raise self.fail(line, f"unknown service event {name!r}", f"use one of: {', '.join(EVENT_NAMES)}")
        image_id = obj.get("ImageId", obj.get("image_id"))
        if not isinstance(image_id, str) or not image_id:
            raise self.fail(line, f"the {name} event needs the copy's `ImageId` as a string",
                            "add \"ImageId\": \"m-...\" (the new image of the copy)")
        return EventRecord(line, name, image_id, _number(obj.get("t", t)))

    # --- the server's records ---------------------------------------------------------

    def _server(self, line: int, obj: dict) -> None:
        kind = obj.get("type")
        if kind == "request":
            seq = obj.get("seq")
            if isinstance(seq, int) and not isinstance(seq, bool):
                if self.last_seq is not None and seq < self.last_seq:
                    # a new server appended to the same file: its cloud started from the initial world
                    self.trace.records.append(Reset(line, "a new server session (seq starts again)"))
                self.last_seq = seq
            try:
                hash(seq)
            except TypeError:
                raise self.fail(line, "`seq` must be a number", "the server numbers requests 1, 2, ...") from None
            if seq in self.pending:
                raise self.fail(line, f"two requests with seq {seq!r} and no response between them",
                                "keep each request's response line right after it")
            self.pending[seq] = (line, obj)
        elif kind == "response":
            seq = obj.get("seq")
            try:
                req = self.pending.pop(seq, None)
            except TypeError:
                req = None
            if req is None:
                raise self.fail(line, f"a response (seq {seq!r}) without its request",
                                "keep the request line (same seq) before its response")
            req_line, req_obj = req
            call = self._call(req_line, req_obj, obj.get("body"), "body", response_line=line,
                              status=obj.get("status"))
            if "auth" in req_obj and req_obj.get("auth") is None:
                # The gateway refused it (bad signature, unknown key...): the model never saw it.
                self.trace.skipped.append((req_line, f"{call.action}: refused by the gateway "
                                                     f"({call.code or call.http_status}), not seen by the model"))
            else:
                self.trace.records.append(call)
        elif kind == "event":
            inner = obj.get("event")
            if isinstance(inner, dict):
                self.trace.records.append(self._event(line, inner, obj.get("now")))
            else:
                self.trace.records.append(self._event(line, obj, obj.get("now")))
        elif kind == "admin":
            op = obj.get("op")
            if op == "reset":
                self.trace.records.append(Reset(line, "admin reset"))
            else:
                self.trace.skipped.append((line, f"admin {op}: service time only (its events are recorded)"))
        else:
            raise self.fail(line, f"unknown server record type {kind!r}",
                            "the server writes request, response, event and admin records")

    def finish(self) -> Trace:
        for seq, (line, obj) in self.pending.items():
            self.trace.skipped.append((line, f"{obj.get('action')}: a request without a response (seq {seq!r})"))
        self.pending.clear()
        return self.trace


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


def _decode_error(source: str, line: int, exc: Exception) -> TraceError:
    if isinstance(exc, json.JSONDecodeError):
        what = f"not valid JSON: {exc.msg} (column {exc.colno})"
    elif isinstance(exc, RecursionError):
        what = "not usable JSON: nested too deeply"
    else:
        what = f"not usable JSON: {exc}"
    return TraceError(source, line, what,
                      "each line must be one complete JSON object (no comments, no trailing commas, "
                      "double-quoted strings); delete or repair that line")


def parse_trace_text(text: str, source: str = "<trace>") -> Trace:
    """The records of a trace given as text (a JSON list, or JSON lines)."""
    reader = _Reader(source)
    stripped = text.lstrip()
    if stripped.startswith("["):
        reader.trace.shape = "cloud-list"
        for line, obj in _list_items(text, source):
            reader.add(line, obj)
    else:
        for n, raw in enumerate(text.splitlines(), 1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except (ValueError, RecursionError) as exc:
                raise _decode_error(source, n, exc) from None
            reader.add(n, obj)
    trace = reader.finish()
    if not trace.records:
        raise TraceError(source, None, "the trace holds no calls or events",
                         "record one with `copyimage serve --trace FILE`, dump `cloud.trace`, or write JSON lines "
                         "as docs/trace-format.md describes")
    return trace


def _list_items(text: str, source: str) -> list[tuple[int, Any]]:
    """The items of a top-level JSON list, each with the line it starts on."""
    decoder = json.JSONDecoder()
    out: list[tuple[int, Any]] = []
    pos = text.index("[") + 1
    n = len(text)

    def skip(p: int) -> int:
        while p < n and text[p] in " \t\r\n":
            p += 1
        return p

    def line_at(p: int) -> int:
        return text.count("\n", 0, p) + 1

    pos = skip(pos)
    if pos < n and text[pos] == "]":
        pos += 1
    else:
        while True:
            try:
                obj, end = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                raise _decode_error(source, exc.lineno, exc) from None
            except (ValueError, RecursionError) as exc:
                raise _decode_error(source, line_at(pos), exc) from None
            out.append((line_at(pos), obj))
            pos = skip(end)
            if pos < n and text[pos] == ",":
                pos = skip(pos + 1)
                continue
            if pos < n and text[pos] == "]":
                pos += 1
                break
            raise TraceError(source, line_at(pos), "not valid JSON: the list needs `,` between items and `]` at its end",
                             "repair the list, or write the trace as JSON lines (one object per line)")
    if skip(pos) < n:
        raise TraceError(source, line_at(skip(pos)), "not valid JSON: text after the list's closing `]`",
                         "remove it, or write the trace as JSON lines (one object per line)")
    return out


def read_trace(path: str | Path) -> Trace:
    """The records of the trace file at ``path`` (TraceError when it cannot be read)."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise TraceError(source, None, f"cannot read the file ({exc.strerror or exc.__class__.__name__})",
                         "check the path and that the file is readable") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise TraceError(source, line, "not UTF-8 text", "save the trace as UTF-8 JSON") from None
    return parse_trace_text(text, source)
