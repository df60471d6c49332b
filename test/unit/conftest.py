import os
import sys

# The op table and helpers are plain modules next to the tests.
sys.path.insert(0, os.path.dirname(__file__))
