"""The world the operations act on: a fixed ``Setting`` and a changing ``World``.

Everything no operation can change (regions and their capabilities, the
account, RAM users, resource groups, KMS keys, semantics options) lives in
the ``Setting``, built once from a scenario. The ``World`` holds only what
requests and service events change: images, copy tasks, region queues,
ClientTokens and instances. Worlds are immutable and hashable, and the
explorer stores millions of them, so:

* records are NamedTuples of strings, ints and shared objects;
* every collection is kept in one canonical order (images and tasks sorted by
  id, running tasks sorted, waiting tasks in queue order), so equal worlds
  reached along different paths compare and hash equal;
* nothing incidental is stored: no clock reading other than a task's start
  time (always 0.0 in the explorer), no RequestIds, no global counters. A new
  image's id is a digest of the source, the destination and how many copies of
  that source already went there, never of the order of unrelated requests.

An ``ImageSpec`` (the attributes an image keeps for its whole life) is shared
between worlds by identity: specs are interned by the ``Setting``, by value,
so two paths that create the same copy (or an equal spec, here or in another
process of a parallel search) share one spec object.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from typing import Callable, NamedTuple

from .lifecycle import IN_PROGRESS, STATES

__all__ = [
    "ImageStatus", "Owner", "Region", "Account", "RamUser", "KmsKey", "Snapshot", "Options",
    "ImageSpec", "Image", "CopyTask", "RegionQueue", "ClientToken", "Instance", "Setting", "World",
    "DEFAULT_RESOURCE_GROUP", "ROOT", "Draft",
]

ROOT = None  # the caller name of the account's own (root) identity
DEFAULT_RESOURCE_GROUP = "rg-default"


class ImageStatus:
    """The statuses DescribeImages shows (Q3)."""

    CREATING = "Creating"
    WAITING = "Waiting"
    AVAILABLE = "Available"
    UNAVAILABLE = "UnAvailable"
    CREATE_FAILED = "CreateFailed"
    DEPRECATED = "Deprecated"
    ALL = ("Creating", "Waiting", "Available", "UnAvailable", "CreateFailed", "Deprecated")


class Owner:
    """Who an image belongs to (N2, E11, E30, E31, E32, E46)."""

    SELF = "self"
    OTHERS = "others"  # shared with this account by another account
    COMMUNITY = "community"
    MARKETPLACE = "marketplace"
    CLOUDBOX = "cloudbox"
    ALL = ("self", "others", "community", "marketplace", "cloudbox")
    # What DescribeImages shows as ImageOwnerAlias.
    ALIAS = {"self": "self", "others": "others", "community": "others", "marketplace": "marketplace",
             "cloudbox": "self"}


@dataclass(frozen=True)
class Region:
    """A region and what it supports (E2, E3, E20, E21, E25, E33, E35, E37, E39)."""

    region_id: str
    local_name: str = ""
    copy_supported: bool = True  # E25 RegionNotSupportCopy when False (as source or destination)
    copy_out: bool = True  # E20: copies may leave this region for another
    copy_in_from: frozenset[str] | None = None  # E21: only these regions may copy into it (None: any)
    noncompliant_destinations: frozenset[str] = frozenset()  # E39
    byok: bool = True  # E35: bring-your-own-key KMS keys usable here
    encrypt_algorithm: bool = False  # E37: EncryptAlgorithm supported
    encrypted_copy_in: bool = True  # E33: an unencrypted image may arrive here encrypted
    copy_limit: int | None = None  # N4 per-region override of Options.copy_limit


@dataclass(frozen=True)
class Account:
    """The calling account (E13, E15, E17, E22, E23, E34, E36, E38, E40, E42)."""

    ali_uid: str | None = "1234567890123456"  # None: E17 InvalidAliUid.IsNull
    arrearage: bool = False  # E15
    kms_enabled: bool = True  # E13
    kms_service_authorized: bool = True  # E38
    ecs_kms_access: bool = True  # E34
    byok_whitelisted: bool = True  # E36
    default_encryption: bool = False  # E40
    image_quota: int = 100  # E22, per region
    snapshot_quota: int = 1000  # E23, per region
    max_image_size: int = 500  # E42, GiB


@dataclass(frozen=True)
class RamUser:
    """A RAM user: the actions it may call and the resource groups it may use (E19, N5)."""

    name: str
    actions: frozenset[str] = frozenset()  # e.g. {"ecs:CopyImage"}; "ecs:*" allows all
    resource_groups: frozenset[str] = frozenset({"*"})  # "*" allows all, default group included

    def may(self, action: str) -> bool:
        return "ecs:*" in self.actions or f"ecs:{action}" in self.actions

    def may_use_group(self, group: str) -> bool:
        return "*" in self.resource_groups or group in self.resource_groups


@dataclass(frozen=True)
class KmsKey:
    """A KMS key (E28, E35, E36, E41, E43, E44, E48)."""

    key_id: str
    region: str
    enabled: bool = True  # E43
    authorized: bool = True  # E44
    origin: str = "kms"  # "external": a BYOK key (E35, E36)
    data_key_ok: bool = True  # E41


class Snapshot(NamedTuple):
    """A snapshot behind an image (E5, E23, E26, E27, E29)."""

    snapshot_id: str
    created: str = "2024-01-01"  # ISO date; before 2013-07-15: E26
    encrypted: bool = False
    exists: bool = True  # False: E5 InvalidSnapshotId.NotFound
    image_allowed: bool = True  # False: E27 OperationDenied


@dataclass(frozen=True)
class Options:
    """Semantics options: the readings of the ambiguities (A1-A10) and seeded bugs.

    Every default is the reading documented in docs/semantics.md. Options named
    ``bug_*`` break a rule on purpose so tests can show the checker finds it.
    """

    copy_limit: int = 5  # N4
    limit_region: str = "destination"  # A1: "destination" | "source"
    conflict_scope: str = "any"  # A2: "any" | "same_destination"
    copying_source_error: str = "OperationDenied.ImageCopying"  # A3: or "IncorrectImageStatus"
    delete_source_while_copying: bool = False  # A4
    kms_without_encrypted: str = "by_presence"  # A6: "by_presence" | "EncryptedIllegal" | "NotMatchKmsKeyId"
    names_include_in_progress: bool = True  # A8
    queue_order: str = "fifo"  # A10: "fifo" | "any" (any waiting task may start; start becomes an event)
    start_as_event: bool = False  # a queued task starts by a separate service event, not at once
    cancel_while_creating: bool = True  # C2/C3
    failed_copies_deletable: bool = True  # D1
    copy_seconds_per_gib: float = 15.0  # simulated copy speed
    # Seeded bugs (all off): each breaks one invariant.
    bug_delete_in_progress: bool = False  # DeleteImage forgets the copy check (I1)
    bug_lifo_queue: bool = False  # the queue is served newest first (I4)
    bug_freed_slot_idle: bool = False  # a completed task's slot is not handed to the queue (I3, L1)
    bug_cancel_keeps_image: bool = False  # CancelCopyImage leaves the new image behind (I5)
    bug_limit_off_by_one: bool = False  # a region runs limit + 1 tasks (I2)
    bug_ignore_client_token: bool = False  # a retry starts a second task (I7)
    bug_shared_cross_region: bool = False  # a shared image may leave its region (I8)
    bug_skip_name_check: bool = False  # duplicate names in one region (I9)
    bug_fail_loses_task: bool = False  # a failed task stays counted as running (I6)
    bug_limit_counts_queued: bool = False  # A5's other reading: queued tasks hold slots, the queue starves (I3, L1)

    def limit_for(self, region: Region) -> int:
        return region.copy_limit if region.copy_limit is not None else self.copy_limit


@dataclass(frozen=True, eq=False)
class ImageSpec:
    """What an image keeps for its whole life. Compared by identity: see module docstring."""

    name: str | None = None
    description: str | None = None
    size: int = 40  # GiB
    owner: str = Owner.SELF
    format: str = "raw"  # "vhd": E45
    tags: tuple[tuple[str, str], ...] = ()
    resource_group: str = DEFAULT_RESOURCE_GROUP
    encrypted: bool = False
    kms_key_id: str | None = None
    snapshots: tuple[Snapshot, ...] = ()
    shared: bool = False  # shared to other accounts (D3 ImageUseShared)
    importing: bool = False  # D3, E50
    exporting: bool = False  # D3, E50
    copied_from: str | None = None  # the source image id of a copy
    published_regions: frozenset[str] | None = None  # marketplace: E31
    marketplace_authorized: bool = True  # marketplace: E32
    platform: str = "Aliyun"
    os_name: str = "Alibaba Cloud Linux 3"

    def __post_init__(self) -> None:
        # Equal by identity, but hashed by value (computed once): a world's hash must not
        # depend on where in memory a spec lives, so that every process of a parallel search
        # computes the same fingerprint for the same state.
        key = tuple(getattr(self, f.name) for f in fields(self))
        object.__setattr__(self, "value_key", key)
        object.__setattr__(self, "_hash", hash(key))

    def __hash__(self) -> int:
        return self._hash  # type: ignore[attr-defined]


class Image(NamedTuple):
    image_id: str
    region: str
    status: str
    spec: ImageSpec

    def with_status(self, status: str) -> "Image":
        return Image(self.image_id, self.region, status, self.spec)  # cheaper than _replace on the hot path


class CopyTask(NamedTuple):
    """A copy of ``source_id`` into ``dest_region``; ``image_id`` is the new image.

    ``slot_region`` is the region whose limit the task counts against (A1).
    ``overtaken`` is a history variable: set when a task accepted later started
    before this one (it stays False in a FIFO queue, so it never splits states).
    """

    image_id: str
    source_id: str
    source_region: str
    dest_region: str
    slot_region: str
    state: str
    client_token: str | None = None
    started_at: float = 0.0
    overtaken: bool = False

    def with_state(self, state: str, started_at: float | None = None, overtaken: bool | None = None) -> "CopyTask":
        return CopyTask(self.image_id, self.source_id, self.source_region, self.dest_region, self.slot_region, state,
                        self.client_token, self.started_at if started_at is None else started_at,
                        self.overtaken if overtaken is None else overtaken)


class RegionQueue(NamedTuple):
    """A region's copy slots: the running tasks (sorted ids) and the waiting ones (queue order)."""

    region: str
    running: tuple[str, ...] = ()
    waiting: tuple[str, ...] = ()


class ClientToken(NamedTuple):
    """A ClientToken already used by CopyImage: the request it came with and the image it made (P10)."""

    token: str
    request_key: tuple
    image_id: str


class Instance(NamedTuple):
    """An instance and the image its system disk was made from (N6, D3 ImageUsingByInstance)."""

    instance_id: str
    region: str
    image_id: str


def digest_id(prefix: str, *parts: object, length: int = 20) -> str:
    """A stable id that looks like the service's (``m-`` and 20 lowercase letters and digits)."""
    raw = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=16).digest()
    n = int.from_bytes(raw, "big")
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = []
    for _ in range(length):
        n, r = divmod(n, 36)
        out.append(alphabet[r])
    return prefix + "".join(out)


@dataclass(eq=False)
class Setting:
    """What stays fixed while requests and events change the ``World``."""

    regions: dict[str, Region]
    account: Account = field(default_factory=Account)
    users: dict[str, RamUser] = field(default_factory=dict)
    resource_groups: frozenset[str] = frozenset({DEFAULT_RESOURCE_GROUP})
    kms_keys: dict[str, KmsKey] = field(default_factory=dict)
    options: Options = field(default_factory=Options)
    seed: int = 0
    encrypt_algorithms: frozenset[str] = frozenset({"AES256", "SM4"})
    # Interned copy specs: (source spec, request key) -> spec; see module docstring.
    _specs: dict = field(default_factory=dict, repr=False)
    # Every spec ``copy_spec`` made or ``adopt_spec`` took, by value: one object per value in a process.
    _by_value: dict = field(default_factory=dict, repr=False)
    _ids: dict = field(default_factory=dict, repr=False)

    def copy_id(self, source_id: str, dest: str, ordinal: int) -> str:
        """The new image id of the ``ordinal``-th copy of ``source_id`` into ``dest`` (memoized digest)."""
        k = (source_id, dest, ordinal)
        image_id = self._ids.get(k)
        if image_id is None:
            image_id = self._ids[k] = digest_id("m-", self.seed, source_id, dest, ordinal)
        return image_id

    def copy_spec(self, source: ImageSpec, key: object, make: "callable[[], ImageSpec]") -> ImageSpec:
        """The one spec object for a copy of ``source`` made by a request with ``key``."""
        k = (source, key)
        spec = self._specs.get(k)
        if spec is None:
            made = make()
            spec = self._specs[k] = self._by_value.setdefault(made.value_key, made)
        return spec

    def adopt_spec(self, spec: ImageSpec) -> ImageSpec:
        """This process's one object for ``spec``'s value, ``spec`` itself if it is the first.

        For specs made in another process (a parallel search ships records):
        whichever comes first, a spec received or one ``copy_spec`` makes, the
        other takes it, so equal records stay equal here.
        """
        return self._by_value.setdefault(spec.value_key, spec)

    def limit(self, region_id: str) -> int:
        return self.options.limit_for(self.regions[region_id])


class _Lookups:
    """Reads shared by World and Draft (both have images, tasks, queues, tokens, instances)."""

    __slots__ = ()
    images: tuple[Image, ...]
    tasks: tuple[CopyTask, ...]
    queues: tuple[RegionQueue, ...]
    tokens: tuple[ClientToken, ...]
    instances: tuple[Instance, ...]

    # Every query a rule may ask, by name. footprint.py logs exactly these, so a
    # query added below must be named here too, or a recorded step would read
    # around its log. A keyed query looks at the one record of a field with the
    # given key (its first argument); a scan looks at the records of a field
    # that its filter accepts, and its answer depends on those records alone:
    # that is what lets the explorer's flat states (check/flat.py) find a
    # scan's answer from the few slots whose records the filter takes.
    KEYED_QUERIES = {"image": "images", "task": "tasks", "queue": "queues", "token": "tokens"}
    SCAN_QUERIES: dict[str, tuple[str, "Callable[..., bool]"]] = {}  # name -> (field, filter); filled below

    # Lookups. Collections are small (tens of items); a scan beats building an index.
    def image(self, image_id: str, region: str | None = None) -> Image | None:
        for im in self.images:
            if im.image_id == image_id:
                return im if region is None or im.region == region else None
        return None

    def task(self, image_id: str) -> CopyTask | None:
        for t in self.tasks:
            if t.image_id == image_id:
                return t
        return None

    def queue(self, region: str) -> RegionQueue:
        for q in self.queues:
            if q.region == region:
                return q
        return RegionQueue(region)

    def token(self, token: str) -> ClientToken | None:
        for t in self.tokens:
            if t.token == token:
                return t
        return None

    # Queries that look at many records. Rules ask these rather than scanning
    # a field, so a step's footprint (footprint.py) is their small answers,
    # not every record of the field.
    def copies_of(self, source_id: str) -> tuple[CopyTask, ...]:
        """Every copy task of ``source_id``, whatever its state."""
        return tuple([t for t in self.tasks if _copy_of(t, source_id)])

    def sources_in_progress(self) -> tuple[str, ...]:
        """The source of every copy still in progress (Waiting or Creating), each once, sorted (A4)."""
        return tuple(sorted({t.source_id for t in self.tasks if _in_progress(t)}))

    def own_image_usage(self, region: str) -> tuple[int, int]:
        """How many of the account's own images ``region`` holds, and their snapshots (E22, E23)."""
        images = snapshots = 0
        for im in self.images:
            if _own_in(im, region):
                images += 1
                snapshots += len(im.spec.snapshots)
        return images, snapshots

    def images_named(self, region: str, name: str) -> tuple[Image, ...]:
        """The images of ``region`` called ``name`` (E6)."""
        return tuple([im for im in self.images if _named(im, region, name)])

    def instance_using(self, image_id: str) -> Instance | None:
        """An instance whose system disk comes from ``image_id`` (D3 ImageUsingByInstance)."""
        for i in self.instances:
            if _uses(i, image_id):
                return i
        return None


# The scans' filters: each scan's answer is made from the records its filter accepts, and nothing else.
def _copy_of(task: CopyTask, source_id: str) -> bool:
    return task.source_id == source_id


def _in_progress(task: CopyTask) -> bool:
    return task.state in IN_PROGRESS


def _own_in(image: Image, region: str) -> bool:
    return image.region == region and image.spec.owner == Owner.SELF


def _named(image: Image, region: str, name: str) -> bool:
    return image.region == region and image.spec.name == name


def _uses(instance: Instance, image_id: str) -> bool:
    return instance.image_id == image_id


_Lookups.SCAN_QUERIES.update(
    copies_of=("tasks", _copy_of),
    sources_in_progress=("tasks", _in_progress),
    own_image_usage=("images", _own_in),
    images_named=("images", _named),
    instance_using=("instances", _uses),
)


class World(_Lookups):
    """The changing part of the model: immutable, hashable, canonical (see module docstring)."""

    __slots__ = ("setting", "images", "tasks", "queues", "tokens", "instances", "_hash")

    def __init__(
        self,
        setting: Setting,
        images: tuple[Image, ...] = (),
        tasks: tuple[CopyTask, ...] = (),
        queues: tuple[RegionQueue, ...] = (),
        tokens: tuple[ClientToken, ...] = (),
        instances: tuple[Instance, ...] = (),
    ) -> None:
        self.setting = setting
        self.images = images
        self.tasks = tasks
        self.queues = queues
        self.tokens = tokens
        self.instances = instances
        # Computed on first use: intermediate worlds inside one step are never hashed.
        self._hash: int | None = None

    def draft(self) -> "Draft":
        """A Draft to change this world in one step (footprint.py records through its own)."""
        return Draft(self)

    def evolve(
        self,
        *,
        images: tuple[Image, ...] | None = None,
        tasks: tuple[CopyTask, ...] | None = None,
        queues: tuple[RegionQueue, ...] | None = None,
        tokens: tuple[ClientToken, ...] | None = None,
        instances: tuple[Instance, ...] | None = None,
    ) -> "World":
        """A copy with some fields replaced (None keeps a field)."""
        return World(
            self.setting,
            self.images if images is None else images,
            self.tasks if tasks is None else tasks,
            self.queues if queues is None else queues,
            self.tokens if tokens is None else tokens,
            self.instances if instances is None else instances,
        )

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = self._hash = hash((self.images, self.tasks, self.queues, self.tokens, self.instances))
        return h

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, World):
            return NotImplemented
        return (
            hash(self) == hash(other)
            and self.setting is other.setting
            and self.images == other.images
            and self.tasks == other.tasks
            and self.queues == other.queues
            and self.tokens == other.tokens
            and self.instances == other.instances
        )

    def _repr_html_(self) -> str:
        from ..viz.display import world_html

        return world_html(self)

    def __repr__(self) -> str:
        return (f"World(images={len(self.images)}, tasks={len(self.tasks)}, "
                f"running={sum(len(q.running) for q in self.queues)}, "
                f"waiting={sum(len(q.waiting) for q in self.queues)})")

    # Canonical updates: each returns a new tuple in canonical order.
    @staticmethod
    def put(items: tuple, item: NamedTuple) -> tuple:
        """``items`` (sorted by their first field) with ``item`` inserted or replacing its namesake."""
        k = item[0]
        for i, it in enumerate(items):
            ik = it[0]
            if ik == k:
                return items[:i] + (item,) + items[i + 1:]
            if ik > k:
                return items[:i] + (item,) + items[i:]
        return items + (item,)

    @staticmethod
    def drop(items: tuple, key_value: str) -> tuple:
        """``items`` without the one whose first field is ``key_value``."""
        return tuple([it for it in items if it[0] != key_value])


class Draft(_Lookups):
    """The world being changed inside one step: update records freely, then ``done()`` builds one World.

    Steps change several records (a task, its image, a queue, the next task
    to start); building an immutable World after each change would hash and
    allocate for nothing. A Draft is private to one step and never escapes it.
    """

    __slots__ = ("setting", "images", "tasks", "queues", "tokens", "instances", "_base")

    def __init__(self, world: World) -> None:
        self._base = world
        self.setting = world.setting
        self.images = world.images
        self.tasks = world.tasks
        self.queues = world.queues
        self.tokens = world.tokens
        self.instances = world.instances

    def put_task(self, task: CopyTask) -> None:
        self.tasks = World.put(self.tasks, task)

    def put_image(self, image: Image) -> None:
        self.images = World.put(self.images, image)

    def drop_image(self, image_id: str) -> None:
        self.images = World.drop(self.images, image_id)

    def put_token(self, token: ClientToken) -> None:
        self.tokens = World.put(self.tokens, token)

    def put_queue(self, queue: RegionQueue) -> None:
        """Store a region's queue; an empty one is dropped so idle regions never split states."""
        if queue.running or queue.waiting:
            self.queues = World.put(self.queues, queue)
        else:
            self.queues = World.drop(self.queues, queue.region)

    def set_state(self, task: CopyTask, state: str, started_at: float | None = None) -> CopyTask:
        """Move a copy to ``state``; its image (if it still exists) shows the same status (Q3)."""
        task = task.with_state(state, started_at)
        self.put_task(task)
        image = self.image(task.image_id)
        if image is not None and image.status != state and state in _SHOWN:
            self.put_image(image.with_status(state))
        return task

    def done(self) -> World:
        b = self._base
        if (self.images is b.images and self.tasks is b.tasks and self.queues is b.queues
                and self.tokens is b.tokens and self.instances is b.instances):
            return b
        return World(self.setting, self.images, self.tasks, self.queues, self.tokens, self.instances)


# Copy states that are also image statuses (Waiting, Creating, Available, CreateFailed): a
# Requested copy is never seen, and Cancelled and Deleted copies have no image.
_SHOWN = frozenset(STATES) & frozenset(ImageStatus.ALL)
