"""What every area of the admin page shares: the services it works on, one request's context, the page
renderer, and how an area declares its routes and its place in the navigation bar.

An area is one module (entries, publishing, insights, audit, later tickets) exposing `AREA`; app.py
registers the list, so a new area is one module, its templates, and one line there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute
from starlette.templating import Jinja2Templates

from bot.core.settings import Settings
from bot.indexing.publish import Publisher
from bot.knowledge.model import TOPICS
from bot.store.accounts import Accounts, Session
from bot.store.knowledge import KnowledgeStore
from bot.store.question_log import Events
from bot.usecases.entries import EntryChanges
from bot.usecases.releases import Releases


@dataclass(frozen=True)
class Area:
    """One part of the admin page: its routes and, when `label` is set, a link in the navigation bar."""

    name: str
    routes: list[BaseRoute]
    label: str = ""
    path: str = ""


@dataclass
class Admin:
    """The services behind the page, one set per app (kept on app.state.admin)."""

    settings: Settings
    store: KnowledgeStore
    accounts: Accounts
    events: Events
    publisher: Publisher
    embedder: Any
    templates: Jinja2Templates
    areas: list[Area]
    extra: dict[str, Any] = field(default_factory=dict)  # per-area services created lazily (trial searcher...)
    # Grouping unanswered questions embeds with the base e5: the fine-tuned one pulls new questions toward
    # the entries it was taught, which merges groups that are different asks.
    grouping_embedder: Any = None
    trusted_proxies: tuple = ()  # parsed BOT_ADMIN_TRUSTED_PROXIES (clientaddr.trusted_networks)

    def service(self, name: str, make: Callable[[], Any]) -> Any:
        """A per-app service, created on first use (e.g. the draft tester with its embedder)."""
        if name not in self.extra:
            self.extra[name] = make()
        return self.extra[name]


@dataclass
class Call:
    """One signed-in request: who, the parsed form (POST), and the services."""

    request: Request
    admin: Admin
    session: Session
    form: FormData | None = None

    @property
    def user(self):
        return self.session.user

    def field(self, name: str, default: str = "") -> str:
        """A form field as text (files and missing fields give the default)."""
        value = self.form.get(name) if self.form is not None else None
        return value if isinstance(value, str) else default

    @property
    def entries(self) -> EntryChanges:
        """The entry use cases, done by this user (they write the audit log)."""
        return EntryChanges(self.admin.store, self.admin.accounts, self.user.username, self.admin.events)

    @property
    def releases(self) -> Releases:
        """The publishing use cases, done by this user."""
        return Releases(self.admin.store, self.admin.publisher, self.admin.accounts, self.user.username)


def nav(request: Request, admin: Admin) -> list[dict]:
    """The navigation bar: every area with a label, the current one marked."""
    path = request.url.path
    return [
        {"label": a.label, "path": a.path, "active": path == a.path or path.startswith(a.path + "/")}
        for a in admin.areas
        if a.label
    ]


def render(call: Call, template: str, code: int = 200, **context: Any) -> Response:
    """A page inside the shared layout, with the user, the CSRF token and the navigation bar."""
    context.update(user=call.user, csrf=call.session.csrf, nav=nav(call.request, call.admin), topics=TOPICS)
    return call.admin.templates.TemplateResponse(call.request, template, context, status_code=code)


def redirect(path: str) -> RedirectResponse:
    """After a POST: go to a page with GET (303), so reloading does not repeat the action."""
    return RedirectResponse(path, status_code=303)
