"""``step``: the one function every use of the model drives.

    step(world, action, now) -> (next_world, answer)

``action`` is a typed request (from ``requests.parse``), a BadRequest, or a
service event (``events``). ``answer`` is the API body of a success (a dict,
without RequestId), a ``Refusal``, or None for a service event that is not
enabled. A refused request returns the very same world object, so callers can
tell "nothing changed" with ``is``. ``now`` is the service clock in seconds;
only a task's start time reads it (the explorer always passes 0.0).

The simulator (``Cloud``), the explorer, the server and the trace checker all
call this function; none of them decides anything about the API itself.
"""

from __future__ import annotations

from typing import Callable, Union

from .copy_image import copy_image
from .errors import Refusal
from .events import Complete, Fail, Fault, Start, apply_event
from .operations import (
    cancel_copy_image, delete_image, describe_images, describe_regions, replace_system_disk, run_instances,
)
from .requests import (
    BadRequest, CancelCopyImageRequest, CopyImageRequest, DeleteImageRequest, DescribeImagesRequest,
    DescribeRegionsRequest, ReplaceSystemDiskRequest, Request, RunInstancesRequest,
)
from .world import World

__all__ = ["step", "Action", "Answer", "render", "body_of", "action_name"]

Action = Union[Request, BadRequest, Start, Complete, Fail, Fault]
Answer = Union[dict, Refusal, None]


def _bad_request(world: World, req: BadRequest, now: float) -> tuple[World, Answer]:
    return world, req.refusal


_HANDLERS: dict[type, Callable[[World, object, float], tuple[World, Answer]]] = {
    CopyImageRequest: copy_image,  # type: ignore[dict-item]
    CancelCopyImageRequest: cancel_copy_image,  # type: ignore[dict-item]
    DeleteImageRequest: delete_image,  # type: ignore[dict-item]
    DescribeImagesRequest: describe_images,  # type: ignore[dict-item]
    DescribeRegionsRequest: describe_regions,  # type: ignore[dict-item]
    RunInstancesRequest: run_instances,  # type: ignore[dict-item]
    ReplaceSystemDiskRequest: replace_system_disk,  # type: ignore[dict-item]
    BadRequest: _bad_request,  # type: ignore[dict-item]
    Start: apply_event,  # type: ignore[dict-item]
    Complete: apply_event,  # type: ignore[dict-item]
    Fail: apply_event,  # type: ignore[dict-item]
    Fault: apply_event,  # type: ignore[dict-item]
}


def step(world: World, action: Action, now: float = 0.0) -> tuple[World, Answer]:
    """Apply one request or service event to ``world``."""
    return _HANDLERS[type(action)](world, action, now)


def action_name(action: Action) -> str:
    """The API action (``CopyImage``) or event name (``Complete``) of ``action``."""
    if isinstance(action, BadRequest):
        return action.action
    return type(action).__name__.removesuffix("Request")


def render(answer: Answer, request_id: str) -> dict:
    """The API's JSON body for an answer: the success body, or Code/Message/HttpStatus."""
    if isinstance(answer, Refusal):
        return {"Code": answer.code, "Message": answer.message, "HttpStatus": answer.status,
                "RequestId": request_id}
    body = dict(answer or {})
    body["RequestId"] = request_id
    return body


def body_of(answer: Answer) -> dict | None:
    """The API body of an answer without a RequestId (None for an event that was not enabled)."""
    if answer is None:
        return None
    body = render(answer, "")
    body.pop("RequestId", None)
    return body
