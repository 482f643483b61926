"""Executes notebooks/explore.ipynb headless against a dataset (CI).
Usage: NIANBAO_DATA=/abs/path [NIANBAO_LAKE=uri] python tests/run_notebook.py"""
import os

import nbformat
from nbclient import NotebookClient

nb = nbformat.read("notebooks/explore.ipynb", as_version=4)
NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": "notebooks"}}).execute()
outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
errors = [o for o in outputs if o.get("output_type") == "error"]
assert not errors, errors
# Chinese labels drawn as boxes: matplotlib warns of each glyph the font lacks.
said = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
assert "missing from font" not in said and "CJK font: none found" not in said, said
# The charts are shown inline, as a researcher's Jupyter shows them.
images = [o for o in outputs if o.get("output_type") == "display_data" and "image/png" in o.get("data", {})]
assert len(images) >= 1, f"no chart in the executed notebook: {[o.get('output_type') for o in outputs]}"
if os.environ.get("NIANBAO_LAKE"):
    assert "current facts" in said, "the lake cell did not read the lake"
print("notebooks/explore.ipynb executed:", sum(c.cell_type == "code" for c in nb.cells), "code cells,", len(images), "charts")
