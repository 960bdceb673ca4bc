import os
import sys

# Lets the tests import the tiny-archive writers in `archives.py`.
sys.path.insert(0, os.path.dirname(__file__))
