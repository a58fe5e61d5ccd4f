"""Workspace storage: folders, the SQLite database and atomic file writes."""

from engine.store.db import Database
from engine.store.workspace import Workspace

__all__ = ["Database", "Workspace"]
