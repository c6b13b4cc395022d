"""Comparing a recorded answer with the model's, under a bijection between the trace's ids and the model's.

What is compared (docs/trace-format.md says the same):

* an error: the ``Code`` and the HTTP status (``Message`` is not compared);
* success versus error: that alone decides;
* CopyImage: the ``ImageId``, through the id map (a new id binds);
* DescribeImages: ``TotalCount`` and the (ImageId, Status) pairs of the page;
* DescribeRegions: the set of ``RegionId``;
* RunInstances: the ``InstanceIdSets.InstanceIdSet`` ids, through the id map (new ids bind);
* CancelCopyImage, DeleteImage, ReplaceSystemDisk: success only (their bodies hold nothing else).

``RequestId``, ``HostId``, ``Recommend``, ``Message``, ``Progress`` and every
other field are cosmetic and ignored.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Iterable, Mapping

from ..semantics.errors import Refusal
from ..semantics.requests import DescribeImagesRequest
from ..semantics.step import step
from ..semantics.world import World
from .records import Call

__all__ = ["IdMap", "translate_params", "compare", "distance", "model_summary", "recorded_summary", "request_summary",
           "answer_key"]

_UNBOUND = "unbound-trace-id:"  # an id no model image can have


class IdMap:
    """A bijection between the trace's ids (images, instances) and the model's. Immutable, hashable.

    An id the map does not bind stands for itself, unless the model already
    uses that string for another trace id's object: then it names nothing.
    """

    __slots__ = ("fwd", "back", "_hash")

    def __init__(self, fwd: Mapping[str, str] | None = None) -> None:
        self.fwd: dict[str, str] = dict(fwd or {})
        self.back: dict[str, str] = {m: r for r, m in self.fwd.items()}
        self._hash: int | None = None

    @classmethod
    def identity(cls, ids: Iterable[str]) -> "IdMap":
        return cls({i: i for i in ids})

    def to_model(self, rid: str) -> str:
        mid = self.fwd.get(rid)
        if mid is not None:
            return mid
        if rid in self.back:
            return _UNBOUND + rid
        return rid

    def to_trace(self, mid: str) -> str:
        rid = self.back.get(mid)
        if rid is not None:
            return rid
        return mid

    def bind(self, rid: str, mid: str) -> "IdMap | None":
        """The map with ``rid`` <-> ``mid`` (itself when already so); None when either is bound elsewhere."""
        have = self.fwd.get(rid)
        if have is not None:
            return self if have == mid else None
        if mid in self.back:
            return None
        out = IdMap.__new__(IdMap)
        out.fwd = dict(self.fwd)
        out.fwd[rid] = mid
        out.back = dict(self.back)
        out.back[mid] = rid
        out._hash = None
        return out

    def renamed(self) -> dict[str, str]:
        """The trace ids bound to another model id."""
        return {r: m for r, m in self.fwd.items() if r != m}

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = self._hash = hash(frozenset(self.fwd.items()))
        return h

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, IdMap) and hash(self) == hash(other) and self.fwd == other.fwd)

    def __repr__(self) -> str:
        return f"IdMap({self.renamed()!r})"


def translate_params(action: str, params: Any, ids: IdMap) -> Any:
    """The request's parameters with the trace's ids replaced by the model's."""
    if not isinstance(params, Mapping):
        return params
    out: dict | None = None
    for key in ("ImageId", "InstanceId"):
        value = params.get(key)
        if not isinstance(value, str):
            continue
        if action == "DescribeImages" and key == "ImageId":
            parts = [p.strip() for p in value.split(",")]
            mapped = [ids.to_model(p) if p else p for p in parts]
            new = value if mapped == parts else ",".join(mapped)
        else:
            new = ids.to_model(value)
        if new != value:
            if out is None:
                out = dict(params)
            out[key] = new
    return params if out is None else out


# --- reading answers ---------------------------------------------------------------------

def _rows(body: Any) -> list[tuple[str, str]] | None:
    """The (ImageId, Status) pairs of a DescribeImages body, or None when it has no usable list."""
    if type(body) is not dict:
        return None
    images = body.get("Images")
    rows = images.get("Image") if type(images) is dict else None
    if type(rows) is not list:
        return None
    out = []
    for row in rows:
        if type(row) is not dict:
            return None
        image_id, status = row.get("ImageId"), row.get("Status")
        if type(image_id) is not str or type(status) is not str:
            return None
        out.append((image_id, status))
    return out


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _instance_ids(body: Any) -> list[str] | None:
    if not isinstance(body, Mapping):
        return None
    sets = body.get("InstanceIdSets")
    ids = sets.get("InstanceIdSet") if isinstance(sets, Mapping) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        return None
    return ids


def all_describe_rows(world: World, req: DescribeImagesRequest, now: float) -> list[tuple[str, str]]:
    """Every (ImageId, Status) the model matches for ``req``, all pages (through ``step``)."""
    out: list[tuple[str, str]] = []
    page = 1
    while True:
        _, answer = step(world, dataclasses.replace(req, page_number=page, page_size=100), now)
        rows = _rows(answer) or []
        out.extend(rows)
        total = answer.get("TotalCount", 0) if isinstance(answer, dict) else 0
        if not rows or len(out) >= total:
            return out
        page += 1


# --- comparing ---------------------------------------------------------------------------

def compare(action: str, request: Any, answer: Any, call: Call, ids: IdMap, *, world: World, now: float,
            exact_pages: bool, first_line: Mapping[str, int], explain: bool = True) -> tuple[IdMap | None, str]:
    """Whether the model's ``answer`` is the recorded one: (the id map it implies, "") or (None, why not).

    With ``explain=False`` the reason is left empty (the search compares thousands of candidates).
    """
    rec_code, rec_status = call.code, call.http_status
    if isinstance(answer, Refusal):
        if not call.is_error:
            return None, f"the model refuses this request ({answer.status} {answer.code}); the trace says it succeeded"
        if rec_code != answer.code:
            return None, f"the model answers {answer.code}, the trace {rec_code or f'HTTP {rec_status}'}"
        if rec_status is not None and rec_status != answer.status:
            return None, f"the code is {answer.code} in both, but the model's HTTP status is {answer.status}, " \
                         f"the trace's {rec_status}"
        return ids, ""
    if not isinstance(answer, dict):
        return None, "the model gives no answer to this request"
    if call.is_error:
        return None, f"the model accepts this request; the trace says {rec_code or 'HTTP'} {rec_status or ''}".rstrip()
    body = call.response
    if action == "CopyImage":
        rid, mid = body.get("ImageId"), answer.get("ImageId")
        if not isinstance(rid, str):
            return None, "the recorded CopyImage answer has no ImageId"
        bound = ids.bind(rid, mid)
        if bound is None:
            if mid in ids.back:
                old = ids.back[mid]
                where = f" (first answered at line {first_line[old]})" if old in first_line else ""
                return None, f"the model answers ImageId {old}, the copy the trace already knows{where}; " \
                             f"the trace answers {rid}"
            where = f" at line {first_line[rid]}" if rid in first_line else ""
            return None, f"the trace's {rid} is already another copy{where}; the model answers a new copy here " \
                         f"(model id {mid})"
        return bound, ""
    if action == "DescribeImages":
        return _compare_describe(request, answer, body, ids, world, now, exact_pages, explain)
    if action == "DescribeRegions":
        rec = body.get("Regions", {}).get("Region") if isinstance(body.get("Regions"), Mapping) else None
        if not isinstance(rec, list):
            return None, "the recorded DescribeRegions answer has no Regions.Region list"
        rec_ids = {r.get("RegionId") for r in rec if isinstance(r, Mapping) and isinstance(r.get("RegionId"), str)}
        model_ids = {r["RegionId"] for r in answer["Regions"]["Region"]}
        if rec_ids != model_ids:
            return None, f"the model lists regions {sorted(model_ids)}, the trace {sorted(map(str, rec_ids))}"
        return ids, ""
    if action == "RunInstances":
        rec_ids = _instance_ids(body)
        model_ids = _instance_ids(answer) or []
        if rec_ids is None:
            return None, "the recorded RunInstances answer has no InstanceIdSets.InstanceIdSet list"
        if len(rec_ids) != len(model_ids):
            return None, f"the model starts {len(model_ids)} instances, the trace {len(rec_ids)}"
        for r, m in zip(rec_ids, model_ids):
            nxt = ids.bind(r, m)
            if nxt is None:
                return None, f"the trace's instance {r} is already another object"
            ids = nxt
        return ids, ""
    return ids, ""


def _compare_describe(request: Any, answer: dict, body: Mapping, ids: IdMap, world: World, now: float,
                      exact_pages: bool, explain: bool) -> tuple[IdMap | None, str]:
    rec_rows = _rows(body)
    if rec_rows is None:
        return None, "the recorded DescribeImages answer has no Images.Image list of ImageId and Status"
    model_rows = _rows(answer) or []
    model_total = answer.get("TotalCount", len(model_rows))
    whole = len(model_rows) == model_total and getattr(request, "page_number", 1) == 1
    # Pages compare row for row when the order is the model's own (replay) or the page holds everything.
    exact = exact_pages or whole
    if "TotalCount" in body:
        rec_total = _int(body.get("TotalCount"))
        if rec_total != model_total:
            if not explain:
                return None, ""
            diff = _row_diff(rec_rows, model_rows, ids, world) if exact else ""
            return None, f"TotalCount: the model counts {model_total}, the trace {body.get('TotalCount')!r}" \
                + (";" + diff if diff else "")
    translated = sorted((ids.to_model(i), s) for i, s in rec_rows)
    if exact:
        if translated != sorted(model_rows):
            return None, ("the images differ:" + _row_diff(rec_rows, model_rows, ids, world)) if explain else ""
        return ids, ""
    # A later or partial page of a trace recorded elsewhere: the service's order is not the model's,
    # so the page must hold as many images as the model's page, each one the model matches.
    if len(translated) != len(model_rows) or len(set(translated)) != len(translated):
        return None, f"the page holds {len(rec_rows)} images, the model's {len(model_rows)}"
    everything = set(all_describe_rows(world, request, now))
    extra = [(ids.to_trace(i), s) for i, s in translated if (i, s) not in everything]
    if extra:
        if not explain:
            return None, ""
        return None, "the model matches none of: " + ", ".join(
            f"{i} {s} ({_known(world, ids.to_model(i))})" for i, s in extra)
    return ids, ""


def _row_diff(rec_rows: list[tuple[str, str]], model_rows: Iterable[tuple[str, str]], ids: IdMap,
              world: World | None = None) -> str:
    """What differs between the trace's rows and the model's, in the trace's ids."""
    rec = {}
    for i, s in rec_rows:
        rec.setdefault(i, []).append(s)
    mod = {}
    for i, s in model_rows:
        mod.setdefault(ids.to_trace(i), []).append(s)
    parts = []
    for i in sorted(set(rec) | set(mod)):
        r, m = sorted(rec.get(i, [])), sorted(mod.get(i, []))
        if r == m:
            continue
        if r and m:
            parts.append(f"{i} is {'/'.join(m)} in the model, {'/'.join(r)} in the trace")
        elif r:
            known = f" ({_known(world, ids.to_model(i))})" if world is not None else ""
            parts.append(f"the trace lists {i} {'/'.join(r)}, the model does not{known}")
        else:
            parts.append(f"the model lists {i} {'/'.join(m)}, the trace does not")
    return (" " + "; ".join(parts)) if parts else ""


def _known(world: World, mid: str) -> str:
    """What the model's world says about an image id the answer leaves out."""
    task = world.task(mid)
    image = world.image(mid)
    if image is not None:
        return f"there it is {image.status} in {image.region}"
    if task is not None:
        return f"there the copy is {task.state}"
    return "the model has no such image"


def distance(action: str, answer: Any, call: Call, ids: IdMap) -> int:
    """How far the model's answer is from the recorded one (0: the same kind of answer), to rank alternatives."""
    if isinstance(answer, Refusal) or not isinstance(answer, dict):
        if not call.is_error:
            return 1000
        return 0 if isinstance(answer, Refusal) and answer.code == call.code else 500
    if call.is_error:
        return 1000
    if action != "DescribeImages":
        return 0
    rec: dict[str, set[str]] = {}
    for i, s in _rows(call.response) or []:
        rec.setdefault(ids.to_model(i), set()).add(s)
    mod: dict[str, set[str]] = {}
    for i, s in _rows(answer) or []:
        mod.setdefault(i, set()).add(s)
    differing = sum(1 for i in set(rec) | set(mod) if rec.get(i) != mod.get(i))
    rec_total = _int(call.response.get("TotalCount"))
    model_total = answer.get("TotalCount", 0)
    return differing + (0 if rec_total is None else 3 * abs(rec_total - model_total))


# --- summaries for messages --------------------------------------------------------------

_MAX_ROWS = 12


def _rows_text(rows: list[tuple[str, str]]) -> str:
    shown = ", ".join(f"{i} {s}" for i, s in rows[:_MAX_ROWS])
    if len(rows) > _MAX_ROWS:
        shown += f", ... ({len(rows) - _MAX_ROWS} more)"
    return shown or "(none)"


def model_summary(action: str, answer: Any, ids: IdMap) -> str:
    """The model's answer as one line, with ids in the trace's names where bound."""
    if isinstance(answer, Refusal):
        return f"{answer.status} {answer.code}: {answer.message}"
    if not isinstance(answer, dict):
        return "(no answer)"
    if action == "CopyImage":
        mid = answer.get("ImageId", "?")
        rid = ids.back.get(mid)
        return f"200 ImageId {rid}" if rid is not None else f"200 ImageId (a new copy; model id {mid})"
    if action == "DescribeImages":
        rows = [(ids.to_trace(i), s) for i, s in (_rows(answer) or [])]
        return f"200 TotalCount {answer.get('TotalCount')}: {_rows_text(rows)}"
    if action == "DescribeRegions":
        return "200 regions " + ", ".join(r["RegionId"] for r in answer["Regions"]["Region"])
    if action == "RunInstances":
        return "200 InstanceIds " + ", ".join(ids.to_trace(i) for i in _instance_ids(answer) or [])
    return "200 (success)"


def recorded_summary(call: Call) -> str:
    """The recorded answer as one line."""
    status = call.http_status
    if call.is_error:
        msg = call.response.get("Message")
        text = f"{status if status is not None else '(no status)'} {call.code or '(no Code)'}"
        return text + (f": {msg}" if isinstance(msg, str) and msg else "")
    body = call.response
    if call.action == "CopyImage":
        return f"{status} ImageId {body.get('ImageId', '(none)')}"
    if call.action == "DescribeImages":
        rows = _rows(body)
        if rows is None:
            return f"{status} (no Images.Image list)"
        return f"{status} TotalCount {body.get('TotalCount', '(not given)')}: {_rows_text(rows)}"
    if call.action == "RunInstances":
        return f"{status} InstanceIds " + ", ".join(_instance_ids(body) or [])
    return f"{status} (success)"


def request_summary(call: Call) -> str:
    try:
        params = json.dumps(call.params, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        params = repr(call.params)
    if len(params) > 400:
        params = params[:400] + "..."
    who = "account root" if call.caller is None else f"RAM user {call.caller}"
    return f"{call.action} {params} (caller: {who})"


def answer_key(action: str, answer: Any) -> Any:
    """A hashable digest of a model answer, to group the answers the model could give."""
    if isinstance(answer, Refusal):
        return ("error", answer.status, answer.code)
    if not isinstance(answer, dict):
        return ("none",)
    if action == "CopyImage":
        return ("ok", answer.get("ImageId"))
    if action == "DescribeImages":
        return ("ok", answer.get("TotalCount"), tuple(_rows(answer) or ()))
    if action == "RunInstances":
        return ("ok", tuple(_instance_ids(answer) or ()))
    return ("ok",)
