"""Scenario files: the initial world, semantics options, simulation steps, and what to explore.

A scenario is YAML (or the same structure as a Python dict). Every section is
optional; what is not given takes the defaults of ``Cloud()``. A mistake is
reported as a ``ScenarioError`` that names the file, the line, what is wrong
and how to fix it, before anything runs.

    name: queue-overflow
    seed: 7
    options: {copy_limit: 5}
    regions: [cn-hangzhou, {id: cn-shanghai, copy_limit: 5}]
    images:
      - {name: web, region: cn-hangzhou, size: 40}
    steps:
      - {call: CopyImage, name: c1, params: {RegionId: cn-hangzhou, ImageId: $web, DestinationRegionId: cn-shanghai}}
      - {advance: 60}
      - {expect_status: {c1: Creating}}
    explore: {...}      # read by the model checker (model.check.ecs)

References: in step parameters, ``$web`` is the id of the image whose
``ref`` (by default its name) is ``web``, or the ImageId answered by the step
named ``web``; ``$c1.InstanceIdSets.InstanceIdSet.0`` reads a field of a
step's answer. ``$$`` stands for a literal ``$``.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml

from .semantics.requests import ACTIONS
from .semantics.world import (
    DEFAULT_RESOURCE_GROUP, Account, Image, ImageSpec, ImageStatus, Instance, KmsKey, Options, Owner, RamUser,
    Region, Setting, Snapshot, World, digest_id,
)

__all__ = ["Scenario", "ScenarioError", "load_scenario", "DEFAULT_SCENARIO", "map_refs", "ref_names"]


class ScenarioError(ValueError):
    """A scenario that cannot be used: where (file, line), what is wrong, and how to fix it."""

    def __init__(self, source: str, line: int | None, what: str, fix: str) -> None:
        self.source, self.line, self.what, self.fix = source, line, what, fix
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {what}\n  fix: {fix}")

    def to_json(self) -> dict[str, Any]:
        return {"file": self.source, "line": self.line, "what": self.what, "fix": self.fix}


# --- YAML with line numbers -------------------------------------------------------------

class _Map(dict):
    """A mapping that remembers the line of itself and of each key."""

    line: int | None = None
    key_lines: dict


class _List(list):
    line: int | None = None
    item_lines: list


class _Loader(yaml.SafeLoader):
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    out = _Map()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise ScenarioError("", key_node.start_mark.line + 1, "a mapping key must be a plain value",
                                "write the key as a word") from None
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1  # the key's line, where a person looks for it
    return out


def _construct_list(loader: _Loader, node: yaml.SequenceNode) -> _List:
    out = _List(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_list)


def line_of(obj: Any, key: Any = None) -> int | None:
    """The line of ``obj`` (or of its ``key``/index) when it came from YAML."""
    if key is not None:
        if isinstance(obj, _Map):
            return obj.key_lines.get(key, obj.line)
        if isinstance(obj, _List) and isinstance(key, int) and 0 <= key < len(obj.item_lines):
            return obj.item_lines[key]
    return getattr(obj, "line", None)


# --- The scenario -----------------------------------------------------------------------

DEFAULT_SCENARIO: dict = {
    "name": "default",
    "regions": ["cn-hangzhou", "cn-shanghai"],
    "images": [
        {"name": "web-server", "region": "cn-hangzhou", "size": 40},
        {"name": "database", "region": "cn-hangzhou", "size": 100},
        {"name": "batch-worker", "region": "cn-hangzhou", "size": 20},
    ],
}


@dataclass
class Scenario:
    """A loaded scenario: the setting, the initial world, refs, steps and the raw explore section."""

    name: str
    source: str
    setting: Setting
    world: World
    refs: dict[str, str]  # ref -> image id
    access_keys: dict[str, tuple[str, str | None]]
    steps: list[Mapping[str, Any]] = field(default_factory=list)
    explore: Mapping[str, Any] | None = None
    failure_rate: float = 0.0
    description: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)

    def error(self, obj: Any, key: Any, what: str, fix: str) -> ScenarioError:
        return ScenarioError(self.source, line_of(obj, key), what, fix)


class _Reader:
    """Typed reads from a scenario section, failing with the file and line."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, obj: Any, key: Any, what: str, fix: str) -> ScenarioError:
        return ScenarioError(self.source, line_of(obj, key), what, fix)

    def mapping(self, parent: Any, key: Any, value: Any, what: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(parent, key, f"{what} must be a mapping (key: value), not {type(value).__name__}",
                            f"write {what} as `key: value` lines or `{{key: value}}`")
        return value

    def listing(self, parent: Any, key: Any, value: Any, what: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(parent, key, f"{what} must be a list, not {type(value).__name__}",
                            f"write {what} as a YAML list (`- item` lines or `[a, b]`)")
        return value

    def keys(self, m: Mapping[str, Any], allowed: tuple[str, ...], what: str) -> None:
        for k in m:
            if k not in allowed:
                close = difflib.get_close_matches(str(k), allowed, n=1)
                hint = f"did you mean `{close[0]}`?" if close else f"use one of: {', '.join(allowed)}"
                raise self.fail(m, k, f"unknown key `{k}` in {what}", hint)

    def typed(self, m: Mapping[str, Any], key: str, kind: type | tuple[type, ...], what: str) -> Any:
        value = m[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            names = " or ".join(k.__name__ for k in kinds)
            article = "an" if names[0] in "aeiou" else "a"
            raise self.fail(m, key, f"`{key}` in {what} must be {names}, not {value!r}",
                            f"give `{key}` {article} {names} value")
        return value


def _fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if not f.name.startswith("_"))


def _dataclass_from(r: _Reader, m: Mapping[str, Any], cls: type, what: str, rename: dict[str, str] | None = None,
                    skip: tuple[str, ...] = ()) -> Any:
    rename = rename or {}
    names = _fields(cls)
    allowed = tuple(n for n in names if n not in skip) + tuple(rename)
    r.keys(m, allowed, what)
    kwargs = {}
    types = {f.name: f.type for f in dataclasses.fields(cls)}
    for key in m:
        target = rename.get(key, key)
        value = m[key]
        t = str(types.get(target, ""))
        if t.startswith("bool"):
            value = r.typed(m, key, bool, what)
        elif t.startswith("int |") or t == "int":
            value = r.typed(m, key, int, what) if value is not None or t == "int" else None
        elif t.startswith("float"):
            value = float(r.typed(m, key, (int, float), what))
        elif "frozenset" in t:
            if value is not None:
                value = frozenset(str(v) for v in r.listing(m, key, value, f"`{key}`"))
        elif t.startswith("str"):
            if value is not None and not isinstance(value, str):
                value = r.typed(m, key, str, what)
        kwargs[target] = value
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise r.fail(m, None, f"{what}: {exc}", "check the keys and values of this entry") from None


_OPTION_CHOICES = {
    "limit_region": ("destination", "source"),
    "conflict_scope": ("any", "same_destination"),
    "copying_source_error": ("OperationDenied.ImageCopying", "IncorrectImageStatus"),
    "kms_without_encrypted": ("by_presence", "EncryptedIllegal", "NotMatchKmsKeyId"),
    "queue_order": ("fifo", "any"),
}


def _options(r: _Reader, m: Mapping[str, Any]) -> Options:
    opts = _dataclass_from(r, m, Options, "options")
    for key, choices in _OPTION_CHOICES.items():
        if getattr(opts, key) not in choices:
            raise r.fail(m, key, f"options.{key} is {getattr(opts, key)!r}", f"use one of: {', '.join(choices)}")
    if opts.copy_limit < 1:
        raise r.fail(m, "copy_limit", "options.copy_limit must be at least 1", "give a positive number (N4: 5)")
    return opts


def _action_names(r: _Reader, parent: Mapping[str, Any], key: str, value: Any) -> frozenset[str]:
    out = set()
    for i, a in enumerate(r.listing(parent, key, value, "actions")):
        a = str(a)
        if a in ("*", "ecs:*"):
            out.add("ecs:*")
            continue
        name = a.removeprefix("ecs:")
        if name not in ACTIONS:
            close = difflib.get_close_matches(name, ACTIONS, n=1)
            raise r.fail(value, i, f"unknown action `{a}`",
                         f"did you mean `{close[0]}`?" if close else f"use one of: {', '.join(ACTIONS)} or `*`")
        out.add(f"ecs:{name}")
    return frozenset(out)


_IMAGE_KEYS = ("name", "ref", "id", "region", "status", "size", "owner", "format", "tags", "resource_group",
               "encrypted", "kms_key_id", "snapshots", "shared", "importing", "exporting", "published_regions",
               "marketplace_authorized", "description", "platform", "os_name")
_SNAPSHOT_KEYS = ("id", "created", "encrypted", "exists", "image_allowed")


def _snapshots(r: _Reader, m: Mapping[str, Any], image_ref: str, seed: int) -> tuple[Snapshot, ...]:
    value = m.get("snapshots", 1)
    if isinstance(value, int) and not isinstance(value, bool):
        return tuple(Snapshot(digest_id("s-", seed, image_ref, i)) for i in range(value))
    out = []
    for i, s in enumerate(r.listing(m, "snapshots", value, "snapshots")):
        s = r.mapping(value, i, s, "a snapshot")
        r.keys(s, _SNAPSHOT_KEYS, "a snapshot")
        created = str(s.get("created", "2024-01-01"))
        out.append(Snapshot(str(s.get("id", digest_id("s-", seed, image_ref, i))), created,
                            bool(s.get("encrypted", False)), bool(s.get("exists", True)),
                            bool(s.get("image_allowed", True))))
    return tuple(out)


def _tags(r: _Reader, m: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    value = m.get("tags")
    if value is None:
        return ()
    if isinstance(value, Mapping):
        return tuple((str(k), "" if v is None else str(v)) for k, v in value.items())
    raise r.fail(m, "tags", "tags must be a mapping of key: value", "write tags as `{team: web, env: prod}`")


def load_scenario(source: str | Path | Mapping[str, Any]) -> Scenario:
    """Read and check a scenario from a YAML file path or a dict. Raises ScenarioError."""
    if isinstance(source, Mapping):
        data, name = source, "<scenario>"
    else:
        path = Path(source)
        name = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(name, None, f"cannot read the file ({exc.__class__.__name__}: {exc})",
                                "check the path and that the file is UTF-8 text") from None
        try:
            data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
        except ScenarioError as exc:
            raise ScenarioError(name, exc.line, exc.what, exc.fix) from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            problem = getattr(exc, "problem", None) or str(exc)
            context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
            if context and start is not None and (mark is None or start.line != mark.line):
                problem += f" ({context} that starts on line {start.line + 1})"  # e.g. an unclosed `[`
            raise ScenarioError(name, mark.line + 1 if mark else None, f"not valid YAML: {problem}",
                                "fix the YAML syntax at that line (indentation, a missing `:` or quote)") from None
        if data is None:
            data = {}
    return _build(name, data)


_TOP_KEYS = ("name", "description", "seed", "options", "regions", "account", "users", "resource_groups",
             "kms_keys", "images", "instances", "access_keys", "steps", "explore", "failure_rate")


def _build(source: str, data: Any) -> Scenario:
    r = _Reader(source)
    if not isinstance(data, Mapping):
        raise ScenarioError(source, line_of(data), "a scenario must be a mapping at the top level",
                            "start the file with keys such as `name:`, `regions:`, `images:`")
    r.keys(data, _TOP_KEYS, "the scenario")
    seed = r.typed(data, "seed", int, "the scenario") if "seed" in data else 0
    options = _options(r, r.mapping(data, "options", data.get("options"), "options"))

    regions: dict[str, Region] = {}
    raw_regions = data.get("regions", DEFAULT_SCENARIO["regions"])
    for i, item in enumerate(r.listing(data, "regions", raw_regions, "regions")):
        if isinstance(item, str):
            item = {"id": item}
        m = r.mapping(raw_regions, i, item, "a region")
        if "id" not in m:
            raise r.fail(m, None, "a region needs an `id`", "write `- {id: cn-hangzhou}` or just `- cn-hangzhou`")
        region = _dataclass_from(r, m, Region, "a region", rename={"id": "region_id"})
        if region.region_id in regions:
            raise r.fail(raw_regions, i, f"region {region.region_id} is listed twice", "list each region once")
        regions[region.region_id] = region
    if not regions:
        raise r.fail(data, "regions", "the scenario has no regions", "list at least one region id")

    account = _dataclass_from(r, r.mapping(data, "account", data.get("account"), "account"), Account, "account")

    groups = {DEFAULT_RESOURCE_GROUP}
    for g in r.listing(data, "resource_groups", data.get("resource_groups"), "resource_groups"):
        groups.add(str(g))

    users: dict[str, RamUser] = {}
    raw_users = data.get("users")
    for i, item in enumerate(r.listing(data, "users", raw_users, "users")):
        m = r.mapping(raw_users, i, item, "a user")
        r.keys(m, ("name", "actions", "resource_groups"), "a user")
        if "name" not in m:
            raise r.fail(m, None, "a user needs a `name`", "write `- {name: alice, actions: [CopyImage]}`")
        groups_allowed = frozenset(str(g) for g in r.listing(m, "resource_groups", m.get("resource_groups", ["*"]),
                                                             "resource_groups"))
        users[str(m["name"])] = RamUser(str(m["name"]), _action_names(r, m, "actions", m.get("actions", [])),
                                        groups_allowed)

    keys: dict[str, KmsKey] = {}
    raw_keys = data.get("kms_keys")
    for i, item in enumerate(r.listing(data, "kms_keys", raw_keys, "kms_keys")):
        m = r.mapping(raw_keys, i, item, "a KMS key")
        if "id" not in m or "region" not in m:
            raise r.fail(m, None, "a KMS key needs an `id` and a `region`", "write `- {id: key-1, region: cn-shanghai}`")
        key = _dataclass_from(r, m, KmsKey, "a KMS key", rename={"id": "key_id"})
        if key.region not in regions:
            raise r.fail(m, "region", f"KMS key {key.key_id} is in unknown region {key.region}",
                         f"use one of the scenario's regions: {', '.join(regions)}")
        keys[key.key_id] = key

    setting = Setting(regions=regions, account=account, users=users, resource_groups=frozenset(groups),
                      kms_keys=keys, options=options, seed=seed)

    images: list[Image] = []
    refs: dict[str, str] = {}
    # The default images exist only in the default regions.
    raw_images = data["images"] if "images" in data else (DEFAULT_SCENARIO["images"] if "regions" not in data else [])
    first_region = next(iter(regions))
    for i, item in enumerate(r.listing(data, "images", raw_images, "images")):
        m = r.mapping(raw_images, i, item, "an image")
        r.keys(m, _IMAGE_KEYS, "an image")
        name = m.get("name")
        ref = str(m.get("ref", name if name is not None else f"image{i + 1}"))
        if ref in refs:
            raise r.fail(raw_images, i, f"two images have the ref `{ref}`", "give each image a distinct `name` or `ref`")
        region = str(m.get("region", first_region))
        if region not in regions:
            raise r.fail(m, "region", f"image `{ref}` is in unknown region {region}",
                         f"use one of the scenario's regions: {', '.join(regions)}")
        status = str(m.get("status", ImageStatus.AVAILABLE))
        if status not in ImageStatus.ALL:
            raise r.fail(m, "status", f"unknown image status {status!r}", f"use one of: {', '.join(ImageStatus.ALL)}")
        owner = str(m.get("owner", Owner.SELF))
        if owner not in Owner.ALL:
            raise r.fail(m, "owner", f"unknown owner {owner!r}", f"use one of: {', '.join(Owner.ALL)}")
        fmt = str(m.get("format", "raw"))
        if fmt not in ("raw", "vhd", "qcow2"):
            raise r.fail(m, "format", f"unknown image format {fmt!r}", "use raw, vhd or qcow2")
        size = r.typed(m, "size", int, "an image") if "size" in m else 40
        if size < 1:
            raise r.fail(m, "size", "an image size must be at least 1 GiB", "give the size in GiB, e.g. `size: 40`")
        for flag in ("encrypted", "shared", "importing", "exporting", "marketplace_authorized"):
            if flag in m:
                r.typed(m, flag, bool, "an image")
        rg = str(m.get("resource_group", DEFAULT_RESOURCE_GROUP))
        if rg not in groups:
            raise r.fail(m, "resource_group", f"unknown resource group {rg}", "list it under `resource_groups:`")
        published = m.get("published_regions")
        spec = ImageSpec(
            name=None if name is None else str(name),
            description=None if m.get("description") is None else str(m["description"]),
            size=size, owner=owner, format=fmt, tags=_tags(r, m), resource_group=rg,
            encrypted=bool(m.get("encrypted", False)),
            kms_key_id=None if m.get("kms_key_id") is None else str(m["kms_key_id"]),
            snapshots=_snapshots(r, m, ref, seed),
            shared=bool(m.get("shared", False)), importing=bool(m.get("importing", False)),
            exporting=bool(m.get("exporting", False)),
            published_regions=None if published is None else frozenset(
                str(p) for p in r.listing(m, "published_regions", published, "published_regions")),
            marketplace_authorized=bool(m.get("marketplace_authorized", True)),
            platform=str(m.get("platform", "Aliyun")), os_name=str(m.get("os_name", "Alibaba Cloud Linux 3")),
        )
        image_id = str(m.get("id", digest_id("m-", seed, "image", ref)))
        if any(im.image_id == image_id for im in images):
            raise r.fail(m, "id", f"image id {image_id} is used twice", "give each image a distinct `id`")
        images.append(Image(image_id, region, status, spec))
        refs[ref] = image_id

    instances: list[Instance] = []
    raw_instances = data.get("instances")
    for i, item in enumerate(r.listing(data, "instances", raw_instances, "instances")):
        m = r.mapping(raw_instances, i, item, "an instance")
        r.keys(m, ("image", "id"), "an instance")
        ref = str(m.get("image"))
        if ref not in refs:
            raise r.fail(m, "image", f"instance uses unknown image `{ref}`", f"use one of: {', '.join(refs) or '(none)'}")
        image = next(im for im in images if im.image_id == refs[ref])
        instances.append(Instance(str(m.get("id", digest_id("i-", seed, "instance", i))), image.region, image.image_id))

    access: dict[str, tuple[str, str | None]] = {}
    raw_access = data.get("access_keys")
    for i, item in enumerate(r.listing(data, "access_keys", raw_access, "access_keys")):
        m = r.mapping(raw_access, i, item, "an access key")
        r.keys(m, ("id", "secret", "user"), "an access key")
        if "id" not in m or "secret" not in m:
            raise r.fail(m, None, "an access key needs `id` and `secret`", "write `- {id: AK1, secret: SK1, user: alice}`")
        user = m.get("user")
        if user is not None and str(user) not in users:
            raise r.fail(m, "user", f"access key for unknown user `{user}`", "list the user under `users:` or drop `user`")
        access[str(m["id"])] = (str(m["secret"]), None if user is None else str(user))
    if not access:
        access["LTAI5tCopyImageLocal01"] = ("copyimage-local-secret", None)

    steps = r.listing(data, "steps", data.get("steps"), "steps")
    _check_steps(r, steps, refs)
    explore = data.get("explore")
    if explore is not None:
        r.mapping(data, "explore", explore, "explore")
    failure_rate = float(r.typed(data, "failure_rate", (int, float), "the scenario")) if "failure_rate" in data else 0.0
    if not 0.0 <= failure_rate <= 1.0:
        raise r.fail(data, "failure_rate", "failure_rate must be between 0 and 1", "give a probability, e.g. 0.05")

    world = World(setting, images=tuple(sorted(images)), instances=tuple(sorted(instances)))
    default_name = Path(source).stem if source != "<scenario>" else "scenario"
    return Scenario(
        name=str(data.get("name", default_name)), source=source, setting=setting, world=world, refs=refs,
        access_keys=access, steps=list(steps), explore=explore, failure_rate=failure_rate,
        description=str(data.get("description", "")), raw=data,
    )


_STEP_KINDS = ("call", "advance", "run_until_idle", "fail", "expect_status", "expect_invariants")
_CALL_KEYS = ("call", "params", "as", "name", "expect")


def map_refs(value: Any, resolve: Callable[[str, list[str], Any, Any], Any], parent: Any = None, key: Any = None) -> Any:
    """``value`` rebuilt with every ``$name`` / ``$name.Field.Path`` string replaced by ``resolve``.

    The one reading of the reference syntax (the simulator, the explorer and
    the loader's checks all use it): ``resolve(name, path, parent, key)``
    gets the reference split at dots, plus where it stands (for error lines).
    ``$$`` is a literal ``$``.
    """
    if isinstance(value, Mapping):
        return {k: map_refs(v, resolve, value, k) for k, v in value.items()}
    if isinstance(value, list):
        return [map_refs(v, resolve, value, i) for i, v in enumerate(value)]
    if not isinstance(value, str) or not value.startswith("$"):
        return value
    if value.startswith("$$"):
        return value[1:]
    name, *path = value[1:].split(".")
    return resolve(name, path, parent, key)


def ref_names(value: Any) -> set[str]:
    """The names ``value``'s references use."""
    names: set[str] = set()
    map_refs(value, lambda name, path, parent, key: names.add(name))
    return names


def _check_refs(r: _Reader, value: Any, parent: Any, key: Any, refs: Mapping[str, str], names: set[str]) -> None:
    """Every ``$ref`` in ``value`` names an image ref or an earlier named step (as ``simulate.resolve`` needs)."""

    def check(name: str, path: list[str], at: Any, at_key: Any) -> None:
        if name not in names and not (name in refs and not path):
            known = sorted(set(refs) | names)
            raise r.fail(at if at is not None else parent, at_key if at is not None else key,
                         f"unknown reference ${'.'.join([name, *path])}",
                         f"refer to an image ref or an earlier named step: {', '.join(known) or '(none yet)'}")

    map_refs(value, check, parent, key)


def _check_steps(r: _Reader, steps: list, refs: Mapping[str, str]) -> None:
    names: set[str] = set()
    for i, step in enumerate(steps):
        m = r.mapping(steps, i, step, "a step")
        kinds = [k for k in m if k in _STEP_KINDS]
        if len(kinds) != 1:
            raise r.fail(steps, i, "a step must have exactly one of: " + ", ".join(_STEP_KINDS),
                         "write e.g. `- {call: CopyImage, params: {...}}` or `- {advance: 60}`")
        kind = kinds[0]
        if kind == "call":
            r.keys(m, _CALL_KEYS, "a call step")
            action = m["call"]
            if action not in ACTIONS:
                close = difflib.get_close_matches(str(action), ACTIONS, n=1)
                raise r.fail(m, "call", f"unknown action `{action}`",
                             f"did you mean `{close[0]}`?" if close else f"use one of: {', '.join(ACTIONS)}")
            _check_refs(r, r.mapping(m, "params", m.get("params"), "params"), m, "params", refs, names)
            if "expect" in m:
                r.mapping(m, "expect", m["expect"], "expect")
            if "name" in m:
                if m["name"] in names:
                    raise r.fail(m, "name", f"two steps are named `{m['name']}`", "give each step a distinct name")
                names.add(str(m["name"]))
        else:
            r.keys(m, (kind,), f"a `{kind}` step")
            if kind == "advance":
                seconds = r.typed(m, "advance", (int, float), "an advance step")
                if seconds < 0:
                    raise r.fail(m, "advance", "cannot advance by a negative time", "give seconds >= 0")
            elif kind == "expect_status":
                expected = r.mapping(m, "expect_status", m["expect_status"], "expect_status")
                for ref in expected:
                    _check_refs(r, f"${ref}", expected, ref, refs, names)
            elif kind == "fail":
                _check_refs(r, m["fail"], m, "fail", refs, names)
