"""Apprise URLs (Slack, Teams, ntfy, Matrix…): one notification per digest, title and text."""

from __future__ import annotations

from collections.abc import Sequence

import apprise

from drugradar.alerts.channels import ChannelError, RenderedDigest


def send_apprise(urls: Sequence[str], digest: RenderedDigest) -> None:
    """Notify every URL; ChannelError when a URL is not understood or a notification fails."""
    if not urls:
        raise ChannelError("The digest has no apprise URL to send to.")
    ap = apprise.Apprise()
    for n, url in enumerate(urls, 1):
        if not ap.add(url):
            # The URL is not repeated: apprise URLs usually carry tokens.
            raise ChannelError(f"Apprise URL number {n} is not a URL apprise understands.")
    if not ap.notify(title=digest.subject, body=digest.text):
        raise ChannelError("Apprise could not deliver the digest to every URL.")
