"""Property-based tests (Hypothesis): any request gets a well-formed answer; any history keeps the invariants.

1. Requests of arbitrary shape (real and made-up actions, parameters of the
   wrong type, missing and unknown keys, long and non-ASCII text, None, nested
   lists and dicts, 0-30 tags in both forms, booleans as odd strings) never
   make ``Cloud.call`` raise; each answer is a dict with a RequestId and either
   a success body or Code/Message/HttpStatus (400..599), and a refusal leaves
   the world as it was. Together the tests below send well over 2,000 requests.
2. Random sequences of copies (with ClientTokens and retries), cancels,
   deletes, service time, failures and faults keep I1, I2, I3, I6 and I7
   (and, under the default options, every invariant) after every step.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test,
)

from model import Cloud, load_scenario
from model.semantics.invariants import a4_source_kept, violations
from model.semantics.requests import ACTIONS

from .worlds import UUID_RE

REGIONS = ["cn-hangzhou", "cn-shanghai", "cn-beijing"]
SCENARIO = load_scenario({
    "name": "properties",
    "seed": 3,
    "regions": ["cn-hangzhou", {"id": "cn-shanghai", "copy_limit": 2}, {"id": "cn-beijing", "encrypt_algorithm": True}],
    "resource_groups": ["rg-team"],
    "users": [{"name": "alice", "actions": ["*"], "resource_groups": ["rg-team"]},
              {"name": "bob", "actions": ["DescribeImages"]}],
    "kms_keys": [{"id": "key-sh", "region": "cn-shanghai"}, {"id": "key-bj", "region": "cn-beijing",
                                                              "origin": "external"}],
    "images": [
        {"name": "web", "size": 10}, {"name": "db", "size": 20}, {"name": "api", "size": 5},
        {"name": "app1", "size": 4}, {"name": "app2", "size": 6}, {"name": "app3", "size": 8},
        {"name": "app4", "size": 10}, {"name": "app5", "size": 12},
        {"name": "vendor", "owner": "others"}, {"name": "shared", "shared": True},
        {"name": "far", "region": "cn-shanghai", "size": 8},
    ],
    "instances": [{"image": "web"}],
})
REFS = sorted(SCENARIO.refs.values())

PARAM_NAMES = ["RegionId", "ImageId", "DestinationRegionId", "DestinationImageName", "DestinationDescription",
               "Encrypted", "KMSKeyId", "EncryptAlgorithm", "ResourceGroupId", "DryRun", "ClientToken", "Force",
               "Status", "ImageName", "ImageOwnerAlias", "PageNumber", "PageSize", "Amount", "InstanceType",
               "InstanceId", "Tag"]
ODD_BOOLS = ["true", "false", "TRUE", "False", " true ", "yes", "1", "0", "", "null", "tRuE"]
TEXT = st.text(max_size=40) | st.text(min_size=100, max_size=400) | st.text(
    alphabet=st.characters(min_codepoint=0x80, max_codepoint=0x2FFF), max_size=30)
KNOWN = st.sampled_from(REGIONS + REFS + ["cn-nowhere", "m-nope", "rg-team", "key-sh", "key-bj", "AES256",
                                          "Available,Creating", "Waiting", "web", "self", "others", "i-nope"])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(10 ** 40), 10 ** 40), st.just(5000).map(lambda digits: 10 ** digits),  # a repr() would fail
    st.floats(allow_nan=True, allow_infinity=True), TEXT, KNOWN, st.sampled_from(ODD_BOOLS), st.binary(max_size=8),
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=6)
KEYS = st.sampled_from(PARAM_NAMES) | st.text(max_size=15) | st.builds(
    "Tag.{}.{}".format, st.integers(-2, 40), st.sampled_from(["Key", "Value"]))
ACTION = st.sampled_from(ACTIONS) | st.sampled_from(["copyimage", "CopyImages", "", "DescribeInstances"]) | TEXT \
    | st.sampled_from([None, 1, ("CopyImage",)])
CALLER = st.sampled_from([None, None, None, "alice", "bob", "ghost", ""])


@st.composite
def tags(draw):
    """0-30 tags, as a Tag list, as Tag.N.Key/Value, or both; keys and values of any shape."""
    odd = [None, True, 0, 7, 1.5, float("nan"), [], {"k": "v"}, "é" * 3, "标签"]
    key = st.sampled_from(["team", "env", "team", "aliyun-x", "acs:x", "", "k" * 128, "k" * 129, "a-http://x", *odd])
    value = st.sampled_from(["", "v", "prod", "https://x", "v" * 128, "v" * 129, *odd])
    pairs = draw(st.lists(st.tuples(key, value, st.integers(0, 5)), max_size=30))
    items = []
    for k, v, drop in pairs:  # now and then a tag without its Key or its Value
        items.append({"Value": v} if drop == 0 else {"Key": k} if drop == 1 else {"Key": k, "Value": v})
    if items and draw(st.integers(0, 4)) == 0:
        items[0]["Key"] = draw(TEXT)
    n = len(items)
    form = draw(st.sampled_from(["list", "flat", "both"]))
    out: dict = {}
    if form in ("list", "both"):
        out["Tag"] = items if form == "list" else items[: n // 2]
    if form in ("flat", "both"):
        start = 1 if form == "flat" else n // 2 + 1
        for i, item in enumerate(items[start - 1:] if form == "both" else items, start):
            for part, v in item.items():
                out[f"Tag.{i}.{part}"] = v
    return out


@st.composite
def plausible(draw):
    """A request close to a real one: real action and ids, then a few parameters bent out of shape."""
    action = draw(st.sampled_from(ACTIONS))
    params = {"RegionId": draw(st.sampled_from(REGIONS)), "ImageId": draw(st.sampled_from(REFS))}
    if action == "CopyImage":
        params["DestinationRegionId"] = draw(st.sampled_from(REGIONS))
        for name, strategy in [
            ("DestinationImageName", st.sampled_from(["copy-1", "copy-2", "1bad", "a", "aliyun-x"]) | TEXT),
            ("DestinationDescription", TEXT), ("Encrypted", st.booleans() | st.sampled_from(ODD_BOOLS)),
            ("KMSKeyId", st.sampled_from(["key-sh", "key-bj", "key-nope"])),
            ("EncryptAlgorithm", st.sampled_from(["AES256", "SM4", "DES"])),
            ("ResourceGroupId", st.sampled_from(["rg-team", "rg-default", "rg-nope"])),
            ("DryRun", st.booleans() | st.sampled_from(ODD_BOOLS)),
            ("ClientToken", st.sampled_from(["t1", "t2", "x" * 64, "x" * 65, "令牌"]))]:
            if draw(st.integers(0, 3)) == 0:
                params[name] = draw(strategy)
        params.update(draw(tags()) if draw(st.booleans()) else {})
    for _ in range(draw(st.integers(0, 2))):
        params[draw(KEYS)] = draw(VALUES)
    if draw(st.integers(0, 4)) == 0:
        params.pop(draw(st.sampled_from(["RegionId", "ImageId"])), None)
    return action, params


@st.composite
def arbitrary(draw):
    action = draw(ACTION)
    shape = draw(st.integers(0, 9))
    if shape == 0:
        params = draw(st.none() | st.lists(SCALARS, max_size=3) | TEXT | st.integers())
    else:
        params = draw(st.dictionaries(KEYS, VALUES, max_size=6))
        if shape <= 3:
            params.update(draw(tags()))
    return action, params


REQUEST = arbitrary() | plausible()


def check_answer(cloud: Cloud, body: object, before) -> None:
    assert isinstance(body, dict)
    assert isinstance(body.get("RequestId"), str) and UUID_RE.match(body["RequestId"]), body
    if "Code" in body:
        assert set(body) == {"Code", "Message", "HttpStatus", "RequestId"}, body
        assert isinstance(body["HttpStatus"], int) and not isinstance(body["HttpStatus"], bool)
        assert 400 <= body["HttpStatus"] <= 599, body
        assert isinstance(body["Code"], str) and body["Code"], body
        assert isinstance(body["Message"], str) and body["Message"], body
        assert "%s" not in body["Message"], body
        assert cloud.world is before, f"a refusal changed the world: {body}"
    else:
        assert "HttpStatus" not in body and "Message" not in body, body
    json.dumps(body)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(requests=st.lists(st.tuples(REQUEST, CALLER), min_size=3, max_size=5))
def test_any_request_gets_a_well_formed_answer(requests):
    """A9/P11: ``call`` never raises and always answers a well-formed body (600 examples, >= 1,800 requests)."""
    cloud = Cloud(SCENARIO)
    for (action, params), caller in requests:
        before = cloud.world
        body = cloud.call(action, params, caller=caller)  # type: ignore[arg-type]
        check_answer(cloud, body, before)
        assert not violations(cloud.world)
    json.loads(cloud.trace_json())
    assert len(cloud.trace) == len(requests)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(request=plausible(), caller=CALLER, seconds=st.sampled_from([0, 30, 100, 10_000]))
def test_plausible_copy_requests_after_time_passes(request, caller, seconds):
    """P8/P10/A9: requests near the real shape, sent into a world with copies running and done (500 requests;
    with the test above, over 2,300 generated requests in all)."""
    cloud = Cloud(SCENARIO)
    for source in ("web", "db"):
        cloud.call("CopyImage", {"RegionId": "cn-hangzhou", "ImageId": SCENARIO.refs[source],
                                 "DestinationRegionId": "cn-shanghai", "ClientToken": f"t-{source}"})
    cloud.advance(seconds)
    before = cloud.world
    action, params = request
    body = cloud.call(action, params, caller=caller)
    check_answer(cloud, body, before)
    assert not violations(cloud.world)


# --- Random histories keep the invariants ---------------------------------------------------------------------------

CHECKED = ("I1", "I2", "I3", "I6", "I7")


class History(RuleBasedStateMachine):
    """Copies (with ClientTokens and retries), cancels, deletes, time, failures and faults, in any order.

    After every step I1, I2, I3, I6, I7 hold; under the default options all of I1-I9 do. A ClientToken's
    accepted copies all answer the same ImageId (P10), and a refused request changes nothing.
    """

    options: dict = {}
    all_invariants = True

    @initialize()
    def start(self):
        raw = dict(SCENARIO.raw)
        raw["options"] = dict(self.options)
        self.cloud = Cloud.from_scenario(raw)
        self.refs = self.cloud.refs()
        # (image id, region) of every image a rule may pick: the scenario's, then each accepted copy.
        self.known: list[tuple[str, str]] = [(i, self.cloud.world.image(i).region) for i in self.refs.values()]
        self.sent: list[dict] = []
        self.by_token: dict[str, str] = {}

    def _call(self, action, params, caller=None):
        before = self.cloud.world
        body = self.cloud.call(action, params, caller=caller)
        check_answer(self.cloud, body, before)
        return body

    @rule(src=st.integers(0, 50), dest=st.sampled_from(REGIONS), token=st.sampled_from([None, None, "t1", "t2", "t3"]),
          name=st.sampled_from([None, None, "n1", "n2"]), dry=st.sampled_from([False, False, False, True]),
          group=st.sampled_from([None, None, "rg-team"]), caller=st.sampled_from([None, None, None, "alice", "bob"]))
    def copy(self, src, dest, token, name, dry, group, caller):
        image_id, region = self.known[src % len(self.known)]
        params = {"RegionId": region, "ImageId": image_id, "DestinationRegionId": dest}
        for key, value in (("ClientToken", token), ("DestinationImageName", name), ("ResourceGroupId", group)):
            if value is not None:
                params[key] = value
        if dry:
            params["DryRun"] = "TRUE"
        self._send_copy(params, caller)

    @rule(first=st.integers(0, 50), n=st.integers(2, 5), dest=st.sampled_from(REGIONS),
          tokens=st.booleans())
    def burst(self, first, n, dest, tokens):
        """N4: several copies of distinct images into one region at once (fills slots and queues)."""
        own = sorted(i for i, region in self.known if region == "cn-hangzhou"
                     and self.cloud.world.image(i) is not None and self.cloud.world.image(i).spec.owner == "self")
        for k in range(n):
            if not own:
                return
            params = {"RegionId": "cn-hangzhou", "ImageId": own[(first + k) % len(own)], "DestinationRegionId": dest}
            if tokens:
                params["ClientToken"] = f"b{first + k}"
            self._send_copy(params)

    def _send_copy(self, params, caller=None):
        body = self._call("CopyImage", params, caller)
        self.sent.append(params)
        if "ImageId" in body:
            self.known.append((body["ImageId"], params["DestinationRegionId"]))
            token = params.get("ClientToken")
            if token is not None:
                assert self.by_token.setdefault(token, body["ImageId"]) == body["ImageId"], "P10/I7"

    @precondition(lambda self: self.sent)
    @rule(which=st.integers(0, 1000))
    def retry(self, which):
        """P10: send an earlier CopyImage again, exactly."""
        self._send_copy(dict(self.sent[which % len(self.sent)]))

    @rule(which=st.integers(0, 1000), own_region=st.booleans())
    def cancel(self, which, own_region):
        image_id, region = self.known[which % len(self.known)]
        self._call("CancelCopyImage", {"RegionId": region if own_region else "cn-hangzhou", "ImageId": image_id})

    @rule(which=st.integers(0, 1000), force=st.booleans(), dry=st.sampled_from([False, False, "true"]))
    def delete(self, which, force, dry):
        image_id, region = self.known[which % len(self.known)]
        params = {"RegionId": region, "ImageId": image_id, "Force": force}
        if dry:
            params["DryRun"] = dry
        self._call("DeleteImage", params)

    @rule(which=st.integers(0, 1000))
    def run_instances(self, which):
        image_id, region = self.known[which % len(self.known)]
        self._call("RunInstances", {"RegionId": region, "ImageId": image_id})

    @rule(region=st.sampled_from(REGIONS), status=st.sampled_from([None, "Creating,Waiting", "CreateFailed"]))
    def describe(self, region, status):
        params = {"RegionId": region, "PageSize": 100}
        if status:
            params["Status"] = status
        body = self._call("DescribeImages", params)
        if "Code" not in body:  # an injected fault answers InternalError
            assert len(body["Images"]["Image"]) == min(body["TotalCount"], 100)

    @rule(seconds=st.sampled_from([0, 1, 37, 75, 150, 600, 5000]))
    def advance(self, seconds):
        self.cloud.advance(seconds)

    @rule(which=st.integers(0, 1000))
    def fail(self, which):
        image_id, _ = self.known[which % len(self.known)]
        running = any(image_id in q.running for q in self.cloud.world.queues)
        assert self.cloud.fail_copy(image_id) is running

    @rule(action=st.sampled_from([None, "CopyImage", "CancelCopyImage", "DeleteImage"]))
    def fault(self, action):
        """E18: the next such call answers InternalError and changes nothing."""
        self.cloud.inject_fault(action)

    @rule()
    def idle(self):
        self.cloud.run_until_idle()
        assert self.cloud.world.queues == (), f"I3/L1: copies left after run_until_idle: {self.cloud.world.queues}"

    @invariant()
    def invariants_hold(self):
        """I1, I2, I3, I6, I7 after every step."""
        broken = violations(self.cloud.world, None if self.all_invariants else CHECKED)
        assert not broken, broken
        if not self.options.get("delete_source_while_copying"):
            assert a4_source_kept(self.cloud.world) is None, "A4: a running copy lost its source"


_STATEFUL = settings(max_examples=60, stateful_step_count=30, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@_STATEFUL
class _Defaults(History):
    """Under the default options every invariant I1-I9 holds."""


@_STATEFUL
class _Tight(History):
    """One slot per region, no cancel while Creating, failed copies kept."""

    options = {"copy_limit": 1, "cancel_while_creating": False, "failed_copies_deletable": False}


@_STATEFUL
class _Source(History):
    """The limit counted at the source (A1), conflicts per destination (A2), sources deletable (A4)."""

    options = {"copy_limit": 2, "limit_region": "source", "conflict_scope": "same_destination",
               "delete_source_while_copying": True}


@_STATEFUL
class _Events(History):
    """Starting a queued copy is a service event (the Cloud takes it at once)."""

    options = {"copy_limit": 1, "start_as_event": True}


@_STATEFUL
class _Any(History):
    """queue_order=any (A10) and names of copies in progress free (A8)."""

    options = {"copy_limit": 2, "queue_order": "any", "names_include_in_progress": False}
    all_invariants = False  # A8 off may repeat a name (I9); the checked five must still hold


# The class names cite the invariants each history checks after every step.
TestHistory_defaults_I1_I2_I3_I4_I5_I6_I7_I8_I9 = _Defaults.TestCase
TestHistory_one_slot_I1_I2_I3_I6_I7 = _Tight.TestCase
TestHistory_A1_A2_A4_I1_I2_I3_I6_I7 = _Source.TestCase
TestHistory_start_events_I1_I2_I3_I6_I7 = _Events.TestCase
TestHistory_A8_A10_I1_I2_I3_I6_I7 = _Any.TestCase


@pytest.mark.parametrize("bug,rule_id", [
    ("bug_delete_in_progress", "I1"), ("bug_limit_off_by_one", "I2"), ("bug_freed_slot_idle", "I3"),
    ("bug_fail_loses_task", "I6"), ("bug_ignore_client_token", "I7"),
], ids=["I1-delete-in-progress", "I2-limit-off-by-one", "I3-freed-slot-idle", "I6-fail-loses-task",
        "I7-ignore-client-token"])
def test_the_histories_find_seeded_bugs(bug, rule_id):
    """The random histories are not vacuous: with a seeded bug on, they break the invariant it targets."""
    class Buggy(History):
        options = {bug: True, "copy_limit": 1}

    with pytest.raises(AssertionError) as info:
        run_state_machine_as_test(Buggy, settings=settings(
            max_examples=300, stateful_step_count=30, deadline=None, database=None, phases=[Phase.generate],
            derandomize=True,
            suppress_health_check=list(HealthCheck), print_blob=False))
    assert rule_id in str(info.value) or (rule_id == "I7" and "P10/I7" in str(info.value))
