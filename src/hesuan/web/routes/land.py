"""Placeholder router (filled in below)."""

from fastapi import APIRouter

router = APIRouter()
