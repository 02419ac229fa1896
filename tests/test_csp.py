"""The strict Content-Security-Policy holds: no inline script, style or handler in any template."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

TEMPLATES = sorted((Path(settings.BASE_DIR) / "templates").rglob("*.html"))

FORBIDDEN = {
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "<style> element": re.compile(r"<style[\s>]", re.I),
    "inline event handler": re.compile(r"\son[a-z]+\s*=", re.I),
    "hx-on attribute": re.compile(r"\s(data-)?hx-on", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "js: expression in hx-vals/hx-vars": re.compile(r"hx-va(ls|rs)\s*=\s*['\"]\s*(js|javascript):", re.I),
}
SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.I)
TEMPLATE_COMMENT = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", re.S)


def test_templates_exist():
    assert any(t.name == "base.html" for t in TEMPLATES)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: str(t.relative_to(settings.BASE_DIR)))
def test_no_inline_code_in_templates(template: Path):
    text = TEMPLATE_COMMENT.sub("", template.read_text())
    for what, pattern in FORBIDDEN.items():
        assert not pattern.search(text), f"{what} in {template.name}"
    for tag in SCRIPT_TAG.findall(text):
        assert "src=" in tag, f"inline <script> in {template.name}"
        assert 'nonce="{{ csp_nonce }}"' in tag, f"<script> without the CSP nonce in {template.name}"


def test_pages_send_the_policy_and_nonce_their_scripts(staff_client):
    response = staff_client.get(reverse("actions:flow_list"))
    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    scripts = SCRIPT_TAG.findall(response.text)
    assert scripts
    assert all(f'nonce="{nonce}"' in tag for tag in scripts)
