#!/usr/bin/env python3
"""Independent check of id_number_hash in the golden files:
hex(HMAC-SHA-256(key, id_number)) with the key of the tests (testKey)."""
import hmac, hashlib, sys
KEY = b"povrisk-test-key-0123456789"
for idn in sys.argv[1:] or ["52012319800101100X", "520123198203034322", "520123195505056785", "52012319900101888X", "520123194002029991"]:
    print(idn[:4] + "*" * 10 + idn[-4:], hmac.new(KEY, idn.encode(), hashlib.sha256).hexdigest())
