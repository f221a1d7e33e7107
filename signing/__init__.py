"""Signed identifiers shared by the edge (verify) and the control plane (mint).

Both sides import this package and nothing of each other's.
"""
