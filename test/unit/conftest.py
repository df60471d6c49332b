import os
import sys
import tempfile

# The op table and helpers are plain modules next to the tests.
sys.path.insert(0, os.path.dirname(__file__))

# Compiled-object tests use an on-disk cache of their own, empty at the start of each run.
os.environ["TGRAPH_CACHE_DIR"] = tempfile.mkdtemp(prefix="tgraph-test-cache-")
