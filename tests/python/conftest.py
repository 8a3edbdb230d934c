# The tests import `sepconv` from the build tree (ctest puts build/python on
# PYTHONPATH) or from an installed wheel, and `reference` from this folder.
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
