"""Small pieces both processes (edge and control plane) use."""
