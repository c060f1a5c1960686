"""Fixtures for the sink tests."""

from __future__ import annotations

import pytest
from sink_articles import ArticleFactory, build_article


@pytest.fixture
def make_article() -> ArticleFactory:
    return build_article
