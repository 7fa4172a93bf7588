"""The JSON API under /api/v1 (described at /api/v1/openapi.json)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1")
