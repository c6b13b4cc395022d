"""The Guide lists what can happen next, with answers computed by ``step``, and moves back and forth."""

from __future__ import annotations

import pytest

from model.check import check
from model.check.ecs import CopyImageModel, RequestAction
from model.cloud import Cloud
from model.guide import Guide, default_alphabet
from model.semantics.events import Complete, Fail, Fault
from model.semantics.step import body_of, step

PLAIN = {
    "name": "plain",
    "regions": ["cn-hangzhou", "cn-shanghai"],
    "options": {"copy_limit": 1},
    "images": [{"name": "web", "size": 40}, {"name": "db", "size": 40}],
}

EXPLORE = {
    **PLAIN,
    "name": "explored",
    "explore": {
        "requests": [
            {"name": "c1", "call": "CopyImage",
             "params": {"RegionId": "cn-hangzhou", "ImageId": "$web", "DestinationRegionId": "cn-shanghai"}},
            {"call": "CancelCopyImage", "params": {"RegionId": "cn-shanghai", "ImageId": "$c1"}, "times": 2},
        ],
        "events": ["complete", "fault"],
        "properties": ["I1"],
    },
}


def test_default_alphabet_from_the_world():
    g = Guide(PLAIN)
    labels = [o.label for o in g.options()]
    assert sorted(labels) == [
        "CopyImage db to cn-hangzhou", "CopyImage db to cn-shanghai",
        "CopyImage web to cn-hangzhou", "CopyImage web to cn-shanghai",
        "DeleteImage db", "DeleteImage web",
    ]
    assert labels == [o.label for o in Guide(PLAIN).options()]  # the same order every time
    assert [o.index for o in g.options()] == list(range(6))
    assert g.alphabet == "default" and all(o.kind == "request" for o in g.options())


def test_taking_a_copy_offers_its_cancel_delete_and_service_events():
    g = Guide(PLAIN)
    taken = g.take("CopyImage web to cn-shanghai")
    new_id = taken.answer["ImageId"]
    assert g.world.image(new_id).status == "Creating" and g.history == [taken]
    opts = {o.label: o for o in g.options()}
    assert {"CancelCopyImage copy of web", "DeleteImage copy of web", "copy of web completes (Complete)",
            "copy of web fails (Fail)"} <= set(opts)
    refused = opts["DeleteImage copy of web"]
    assert refused.answer["Code"] == "OperationDenied.ImageCopying" and refused.answer["HttpStatus"] == 403
    assert not refused.changed and refused.world is g.world
    assert refused.changes_text == "nothing changes"
    done = opts["copy of web completes (Complete)"]
    assert done.answer is None and done.kind == "event" and done.changes["image copy of web"] == "Creating -> Available"


@pytest.mark.parametrize("scenario", [PLAIN, EXPLORE], ids=["default-alphabet", "explore-alphabet"])
def test_every_option_is_what_step_gives(scenario):
    g = Guide(scenario)
    g.take(0)  # a CopyImage in either alphabet
    assert g.options()
    for option in g.options():
        action = option.action.request if isinstance(option.action, RequestAction) else option.action
        world, answer = step(g.world, action, g.now)
        assert world == option.world, option.label
        if option.kind != "event":
            assert option.answer == body_of(answer), option.label


def test_a_cloud_at_another_time_gets_the_default_alphabet():
    # The explore alphabet's steps run at time 0: from a Cloud at 100 s they would start copies in the past.
    cloud = Cloud.from_scenario(EXPLORE)
    cloud.advance(100)
    g = Guide(cloud)
    assert g.alphabet == "default" and g.now == 100
    g.take("CopyImage web to cn-shanghai")
    assert g.world.tasks[0].started_at == 100
    with pytest.raises(ValueError, match="explorer's service time"):
        Guide(cloud, alphabet="explore")
    assert Guide(Cloud.from_scenario(EXPLORE)).alphabet == "explore"  # at 0 s it is the scenario's own


def test_back_and_reset():
    g = Guide(PLAIN)
    start = g.world
    with pytest.raises(IndexError, match="nothing to undo"):
        g.back()
    first = g.take("CopyImage web to cn-shanghai")
    middle = g.world
    g.take("completes")
    assert g.back().label == "copy of web completes (Complete)"
    assert g.world is middle and g.history == [first]
    g.reset()
    assert g.world is start and g.history == []


def test_choosing_by_label():
    g = Guide(PLAIN)
    assert g.find("copyimage DB TO CN-SHANGHAI").label == "CopyImage db to cn-shanghai"  # case-insensitive
    assert g.find("DeleteImage db").label == "DeleteImage db"
    with pytest.raises(KeyError, match=r"matches 4 options; take one by number"):
        g.find("CopyImage")
    with pytest.raises(KeyError, match=r"no option matches 'Cancel'"):
        g.find("Cancel")
    with pytest.raises(IndexError, match="there are 6"):
        g.take(6)


def test_explore_alphabet_follows_times_and_references():
    g = Guide(EXPLORE)
    assert g.alphabet == "explore"
    labels = [o.label for o in g.options()]
    # The cancel refers to $c1, which no request has answered yet; a fault of each enabled request is offered.
    assert labels == ["[c1] CopyImage web to cn-shanghai",
                      "CopyImage web to cn-shanghai answered by an injected InternalError"]
    fault = g.options()[1]
    assert isinstance(fault.action, Fault) and fault.answer["Code"] == "InternalError" and not fault.changed
    g.take("[c1]")
    labels = [o.label for o in g.options()]
    assert "[c1] CopyImage web to cn-shanghai" not in labels  # times: 1, used up
    assert "CancelCopyImage copy of web" in labels
    assert "copy of web fails (Fail)" not in labels  # the scenario's events: complete and fault only
    g.take("CancelCopyImage copy of web")
    again = g.find("CancelCopyImage copy of web")
    assert again.answer["Code"] == "InvalidImageId.NotFound"


def test_a_counterexample_replays_in_a_guide_on_the_same_model():
    buggy = {**EXPLORE, "options": {"copy_limit": 1, "bug_delete_in_progress": True}}
    buggy["explore"] = {**EXPLORE["explore"], "requests": EXPLORE["explore"]["requests"] + [
        {"call": "DeleteImage", "params": {"RegionId": "cn-shanghai", "ImageId": "$c1"}}], "events": ["complete"]}
    model = CopyImageModel(buggy)
    path = check(model)["I1"].path
    g = Guide(model)
    taken = g.follow(path)
    assert [o.action for o in taken] == path.actions() and g.state == path.last
    assert "I1" in g.violations() and "broken: I1" in repr(g)
    with pytest.raises(ValueError, match="step 1 of the path is not an option here"):
        g.follow(path)  # from where the guide now is, the path's first request is used up


def test_follow_tells_a_failure_from_a_completion():
    """Complete(x) == Fail(x) as tuples: following a path must still take the event the path took."""
    scenario = {**PLAIN, "explore": {"requests": [EXPLORE["explore"]["requests"][0]], "events": ["complete", "fail"],
                                     "properties": [], "sometimes": ["copy-failed"]}}
    model = CopyImageModel(scenario)
    path = check(model)["copy-failed"].path
    g = Guide(model)
    assert [o.label for o in g.follow(path)][-1] == "copy of web fails (Fail)"
    assert g.world.tasks[0].state == "CreateFailed"


def test_a_guide_starts_from_a_cloud_and_leaves_it_alone():
    cloud = Cloud.from_scenario(PLAIN)
    cloud.call("CopyImage", {"RegionId": "cn-hangzhou", "ImageId": cloud.refs()["web"],
                             "DestinationRegionId": "cn-shanghai"})
    cloud.advance(100)
    before, trace_len = cloud.world, len(cloud.trace)
    g = Guide(cloud)
    assert g.world is before and g.now == 100
    g.take("completes")
    assert cloud.world is before and len(cloud.trace) == trace_len


def test_events_listed_are_the_enabled_ones():
    g = Guide(PLAIN)
    assert not [o for o in g.options() if o.kind == "event"]
    g.take("CopyImage web to cn-shanghai")
    g.take("CopyImage db to cn-shanghai")  # waits: limit 1
    events = [o.action for o in g.options() if o.kind == "event"]
    running = g.world.queue("cn-shanghai").running[0]
    assert events == [Complete(running), Fail(running)]


def test_default_alphabet_skips_cancel_of_a_copy_that_is_gone():
    g = Guide(PLAIN)
    g.take("CopyImage web to cn-shanghai")
    g.take("CancelCopyImage copy of web")
    assert [a for a, _ in default_alphabet(g.world)].count("CancelCopyImage") == 0


def test_reprs_show_world_and_options_escaped():
    g = Guide({**PLAIN, "images": [{"name": "a<b>", "size": 10}]})
    g.take("CopyImage a<b> to cn-shanghai")
    text = repr(g)
    assert text.startswith("Guide('plain', default alphabet) after 1 steps:")
    assert "] CancelCopyImage copy of a<b> -> OK: image copy of a<b>: Creating -> absent" in text
    html = g._repr_html_()
    assert "a<b>" not in html and "copy of a&lt;b&gt;" in html and "<ol><li>CopyImage a&lt;b&gt; to cn-shanghai" in html


def test_bad_alphabet_argument():
    with pytest.raises(ValueError, match="alphabet="):
        Guide(PLAIN, alphabet="everything")
    assert Guide(EXPLORE, alphabet="default").alphabet == "default"
