"""What tests and benches share to run the app as a process of their own (not shipped: .dockerignore).

A package at the repository's root so both reach it the way they reach the app: pytest puts the
root on the path (pyproject.toml's ``pythonpath``), a bench script puts it there as it does to
import the app (``sys.path.insert(0, ROOT)``).
"""
