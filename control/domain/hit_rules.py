"""The classification rules only the control plane can apply (it knows the message).

The edge classifies by user agent, method and address (classifier/); these
two rules catch scanners that look like browsers.
"""

from __future__ import annotations

# Mail security opens links at delivery, seconds after sending; no person reads
# an email and taps a link that fast. SMS arrives faster and is read faster.
SOON_AFTER_SEND_SECONDS = {"EMAIL": 10, "SMS": 3}

# Different links of one message opened within this many seconds of each other.
BURST_SECONDS = 2
