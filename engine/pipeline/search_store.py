"""Searches on disk (``searches/N.json``): listed and shown without importing the search's machinery (torch,
NNCF, OpenVINO), so ``searches list`` starts fast. A search marked running whose owner process is gone is shown
(and saved) as ``interrupted``."""

from __future__ import annotations

from engine.errors import StudioError
from engine.pipeline.context import Context
from engine.status import SearchStatus
from engine.store import lock
from engine.store.atomic import read_json, write_json


def search_path(ctx: Context, search_id: int):
    return ctx.ws.root / "searches" / f"{int(search_id)}.json"


def load_search(ctx: Context, search_id: int) -> dict:
    path = search_path(ctx, search_id)
    if not path.is_file():
        known = sorted(int(p.stem) for p in path.parent.glob("*.json") if p.stem.isdigit())
        listed = ", ".join(map(str, known)) or "none"
        msg = f"no search {search_id}; known searches: {listed} (`python -m engine searches list`)"
        raise StudioError(msg)
    return read_json(path)


def list_searches(ctx: Context) -> list[dict]:
    folder = ctx.ws.root / "searches"
    paths = sorted(folder.glob("*.json"), key=lambda p: int(p.stem)) if folder.is_dir() else []
    return [_settled(ctx, read_json(p)) for p in paths if p.stem.isdigit()]


def show_search(ctx: Context, search_id: int) -> dict:
    return _settled(ctx, load_search(ctx, search_id))


def prune_ratio(state: dict) -> float:
    """The share of channels the search's pruned variants remove (searches saved before the setting pruned 30 %)."""
    return state.get("prune_ratio", 0.3)


def owner_folder(ctx: Context, search_id: int):
    return ctx.ws.root / "searches" / f"{int(search_id)}.owner"


def _settled(ctx: Context, state: dict) -> dict:
    """A search marked running that no live process owns was killed: it is ``interrupted`` (resume it)."""
    if state.get("status") == SearchStatus.RUNNING and lock.owner(owner_folder(ctx, state["search"])) is None:
        state = {**state, "status": SearchStatus.INTERRUPTED}
        write_json(search_path(ctx, state["search"]), state)
    return state
