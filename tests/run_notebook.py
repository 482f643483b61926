"""Executes notebooks/explore.ipynb headless against a dataset (CI).
Usage: NIANBAO_DATA=/abs/path python tests/run_notebook.py"""
import nbformat
from nbclient import NotebookClient

nb = nbformat.read("notebooks/explore.ipynb", as_version=4)
NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": "notebooks"}}).execute()
errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
assert not errors, errors
print("notebooks/explore.ipynb executed:", sum(c.cell_type == "code" for c in nb.cells), "code cells")
