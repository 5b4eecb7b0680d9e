"""The published dbt docs page opens offline: its remote script sources are removed."""

import re

from pipelines.reports.dbt_docs import make_offline

# the loader of dbt-docs' Snowplow tracker, as it appears in dbt 1.11's static_index.html
TRACKER = (
    "i=t.createElement(n),a=t.getElementsByTagName(n)[0],i.async=1,"
    'i.src="//d1fc8wv8zag5ca.cloudfront.net/2.9.0/sp.js",a.parentNode.insertBefore(i,a)'
)


def test_tracker_script_is_replaced_by_an_empty_inline_script() -> None:
    page = f"<html><script>{TRACKER}</script><p>https://docs.getdbt.com/docs/introduction</p></html>"
    out = make_offline(page)
    assert "cloudfront" not in out
    assert 'i.src="data:text/javascript,"' in out
    assert "https://docs.getdbt.com/docs/introduction" in out  # plain link text is left alone
    assert make_offline(out) == out


def test_absolute_script_urls_are_removed_too() -> None:
    out = make_offline('s.src="https://cdn.example.org/lib/x.min.js";')
    assert not re.search(r"https?://", out)
