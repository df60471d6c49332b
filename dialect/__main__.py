from tgraph.dialect import irdl_text, IRDL_FILE

with open(IRDL_FILE, "w") as f:
    f.write(irdl_text())
print(f"wrote {IRDL_FILE}")
