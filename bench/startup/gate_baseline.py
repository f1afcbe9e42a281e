# The same work as ccci-gate, in Python, for the benchmark's baseline: parse versions from stdin,
# sort them, read every newer version's release notes and look for the default markers.
import re, sys, os

current, notes = sys.argv[1], sys.argv[2]
markers = ["manual migration", "migration required", "manual intervention", "breaking change", "before upgrading you must"]
pat = re.compile(r"^(\d+)\.(\d+)\.(\d+)\+v?(\d+(?:\.\d+)*)(.*)$")

def key(v):
    m = pat.match(v)
    return None if not m else (int(m[1]), int(m[2]), int(m[3]), tuple(int(x) for x in m[4].split(".")), m[5])

cur = key(current)
vs = sorted((key(v), v) for v in (l.strip() for l in sys.stdin) if v and key(v))
target, blocked = current, False
for k, v in vs:
    if k <= cur or blocked:
        continue
    path = os.path.join(notes, "releaseNotes", v + ".md")
    text = open(path).read() if os.path.exists(path) else ""
    words = " ".join(re.findall(r"[a-z0-9]+", text.lower()))
    if any(m in words for m in markers):
        blocked = True
        continue
    if k[0] == cur[0] and k[3][0] == cur[3][0]:
        target = v
print('{"decision":"%s","target":"%s"}' % ("apply" if target != current else "hold", target))
