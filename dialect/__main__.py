"""`python -m tgraph.dialect` regenerates the files derived from the op definitions."""

from tgraph.dialect import IRDL_FILE, REFERENCE_FILE, irdl_text, op_reference

for path, text in ((IRDL_FILE, irdl_text()), (REFERENCE_FILE, op_reference())):
    with open(path, "w") as f:
        f.write(text)
    print(f"wrote {path}")
