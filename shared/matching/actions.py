"""The review actions, one table for the admin API (`POST /api/review/tenants/{tenant}/{action}`) and the CLI
(`o365mon review <action> <tenant>`): both build their dispatch and their help from `ACTIONS`, so a new
action is one row here and the two can no longer drift apart (the CLI once said `create-org` where the API
said `create-organization`; the old spelling stays as an alias)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.errors import UserInputError, int_param
from shared.matching import review
from shared.store.storage import check_key


@dataclass(frozen=True)
class Parameter:
    """The one parameter an action takes: `?name=` over HTTP, `--name` (or a positional) on the CLI."""

    name: str
    help: str
    whole_number: bool = False  # an index 0..99 with default 0; otherwise a required storage key
    positional: bool = False  # on the CLI: `review match <tenant> <org_id>` rather than `--org`

    def from_query(self, params: Mapping[str, str], action: str) -> int | str:
        if self.whole_number:
            return int_param(params, self.name, 0, 0, 99)
        value = params.get(self.name, "")
        if not value:
            raise UserInputError(f"{action} needs ?{self.name}=<{self.help}>")
        return check_key(value, self.name)


@dataclass(frozen=True)
class ReviewAction:
    name: str
    help: str
    run: Callable[[str, Any], dict]  # (tenant as named by the user, parameter value or None) -> result
    parameter: Parameter | None = None
    aliases: tuple[str, ...] = ()
    # What the CLI prints of the result: a decision takes effect at the next sync, a sync is only enqueued.
    summary: Callable[[dict], str] = lambda out: (
        f"{out['tenant_id']}: {out['decision']['action']} recorded; takes effect at the next sync (enqueued)"
    )


ACTIONS: tuple[ReviewAction, ...] = (
    ReviewAction(
        "accept",
        "accept a suggestion (the best one unless an index is given)",
        lambda tenant, index: review.accept(tenant, int(index or 0)),
        Parameter("index", "suggestion number, 0 = the best", whole_number=True),
    ),
    ReviewAction(
        "match",
        "match the tenant to an organization",
        lambda tenant, org: review.match_to(tenant, str(org)),
        Parameter("org", "organization id", positional=True),
    ),
    ReviewAction("ignore", "ignore the tenant in later syncs", lambda tenant, _: review.ignore(tenant)),
    ReviewAction("unignore", "stop ignoring the tenant", lambda tenant, _: review.unignore(tenant)),
    ReviewAction(
        "create-organization",
        "create the organization from the tenant and link it",
        lambda tenant, _: review.create_organization(tenant),
        aliases=("create-org",),
    ),
    ReviewAction(
        "sync",
        "start a manual sync of the tenant",
        lambda tenant, _: review.manual_sync(tenant),
        summary=lambda out: f"sync enqueued for {', '.join(out['enqueued'])}",
    ),
)
BY_NAME: dict[str, ReviewAction] = {name: a for a in ACTIONS for name in (a.name, *a.aliases)}


def find(name: str) -> ReviewAction:
    action = BY_NAME.get(name)
    if action is None:
        raise review.ReviewError(f"unknown action {name[:40]!r} (one of: {', '.join(a.name for a in ACTIONS)})", 404)
    return action
