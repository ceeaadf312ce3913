#!/usr/bin/env python3
"""Writes the BOM and GB18030 twins of the UTF-8 drop in utf8/."""
import os
here = os.path.dirname(os.path.abspath(__file__))
for name in ("households.csv", "persons.csv"):
    text = open(os.path.join(here, "utf8", name), encoding="utf-8").read()
    open(os.path.join(here, "bom", name), "wb").write(b"\xef\xbb\xbf" + text.encode("utf-8"))
    open(os.path.join(here, "gb18030", name), "wb").write(text.encode("gb18030"))
