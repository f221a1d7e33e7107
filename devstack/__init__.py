"""The whole system on one machine, for trying it: `python3 tasks.py run`."""
